#!/usr/bin/env bash
# mini: the whole toolkit on a corpus it synthesizes itself, offline, in minutes on 2 CPU cores.
#
#   bash recipes/mini/run.sh                       # everything (what `make demo` runs)
#   bash recipes/mini/run.sh --stage 5 --stop-stage 6   # retrain and decode only
#   bash recipes/mini/run.sh --num-train 200 --epochs 2 --work-dir /tmp/mini   # a quick reduced run
#
# Stages: 0 synthesize (eSpeak NG)  1 prepare  2 features  3 char units (data/lang_char)
#         4 word 3-gram LM (data/local/lm)  5 train a crnn  6 decode without and with the LM, score
#         7 transcribe one test file
set -euo pipefail

stage=0
stop_stage=100
nj=2
cmd=local            # where the --nj jobs of features and decoding run: local, or dask:ADDRESS (Kaldi --cmd)
work_dir=            # where corpus/ data/ exp/ go (default: this recipe's folder)
num_train=1000       # synthesized utterances per split (CI runs a reduced size through the same code)
num_dev=100
num_test=200
seed=0
epochs=            # default: conf/train.yaml
num_threads=1      # torch threads for training (more threads on a busy machine can be far slower)
resume=false        # true: continue the model's latest checkpoint instead of training afresh
lm_order=3
lm_smoothing=kneser_ney
help_message="Usage: $0 [options]   (the mini recipe: synthesize, prepare, features, units, lm, train, decode, transcribe)"

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/path.sh"   # also enters --work-dir

corpus=corpus
model=exp/crnn

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  log "stage 0: synthesize $num_train/$num_dev/$num_test utterances with eSpeak NG into $corpus/"
  "$PYTHON" "$recipe_dir/local/synthesize.py" --num-train "$num_train" --num-dev "$num_dev" \
    --num-test "$num_test" --seed "$seed" "$corpus"
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  log "stage 1: prepare Kaldi data directories data/{train,dev,test}"
  for part in train dev test; do
    require 0 "$corpus/$part"
    asr prepare folder "$corpus/$part" "data/$part"
    asr data validate "data/$part"
  done
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  # no CMVN stats here: training computes global stats over data/train (conf/train.yaml) and keeps them in the model
  log "stage 2: fbank features of data/{train,dev,test}"
  make_fbank "$conf/fbank.conf" "$nj" data/train data/dev data/test
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  log "stage 3: character units from the training text into data/lang_char"
  require 1 data/train/text
  asr units train --type char data/train/text data/lang_char
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  log "stage 4: word $lm_order-gram LM ($lm_smoothing) from the training text into data/local/lm/lm.arpa"
  require 1 data/train/text data/dev/text
  mkdir -p data/local/lm
  asr lm train --order "$lm_order" --smoothing "$lm_smoothing" data/train/text data/local/lm/lm.arpa
  asr lm ppl --lm data/local/lm/lm.arpa data/dev/text
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  log "stage 5: train a crnn into $model"
  require 2 data/train/feats.scp data/dev/feats.scp
  require 3 data/lang_char/tokens.txt
  asr train --config "$conf/train.yaml" $(resume_or_clear "$model" "$resume") \
    ${epochs:+--epochs "$epochs"} --num-threads "$num_threads" --seed "$seed" \
    --train data/train --valid data/dev --lang data/lang_char --out "$model"
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  log "stage 6: decode data/test without and with the LM, score"
  require 5 "$model/model.pt"
  require 4 data/local/lm/lm.arpa
  require 2 data/test/feats.scp
  decode_and_score "$model" data/test "$model/decode_test" "$conf/decode.yaml" "$nj"
  decode_and_score "$model" data/test "$model/decode_test_lm" "$conf/decode.yaml" "$nj" data/local/lm/lm.arpa
fi

if [ $stage -le 7 ] && [ $stop_stage -ge 7 ]; then
  require 5 "$model/model.pt"
  require 0 "$corpus/test"
  # awk, not head: head exits after one line, which can kill sort with SIGPIPE, and pipefail then stops the recipe
  wav=$(find "$corpus/test" -name '*.wav' | sort | awk 'NR == 1')
  log "stage 7: transcribe $wav (reference: $(cat "${wav%.wav}.txt"))"
  asr transcribe --model "$model" --config "$conf/decode.yaml" --lm data/local/lm/lm.arpa "$wav" \
    | tee "$model/transcribe.txt"
fi

log "done"
