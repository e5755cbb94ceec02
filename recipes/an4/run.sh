#!/usr/bin/env bash
# AN4 (CMU, 1991): alphanumeric strings and short census answers spoken by 74 speakers, 16 kHz NIST SPHERE.
# 948 training and 130 test utterances; BPE units, a word 3-gram LM from the training text.
#
#   bash recipes/an4/run.sh                          # download an4_sphere.tar.gz from CMU first
#   bash recipes/an4/run.sh --corpus-dir /data/an4   # the folder holding etc/ and wav/
#
# Stages: 0 download  1 prepare (train, test; a dev set carved from train)  2 features  3 BPE units
#         4 word LM  5 train a crnn  6 decode the test set without and with the LM, score
set -euo pipefail

stage=0
stop_stage=100
nj=2
cmd=local            # where the --nj jobs of features and decoding run: local, or dask:ADDRESS (Kaldi --cmd)
work_dir=            # where downloads/ data/ exp/ go (default: this recipe's folder)
corpus_dir=          # the an4 folder (etc/ and wav/); empty: download
num_dev=100          # training utterances set aside to watch training
bpe_vocab_size=100
lm_order=3
lm_smoothing=kneser_ney
seed=0
epochs=              # default: conf/train.yaml
num_threads=1
resume=false        # true: continue the model's latest checkpoint instead of training afresh
device=auto
an4_url=http://www.speech.cs.cmu.edu/databases/an4/an4_sphere.tar.gz
help_message="Usage: $0 [options]   (AN4: download, prepare, features, units, lm, train, decode)"

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/path.sh"   # also enters --work-dir
corpus_dir=${corpus_dir:-$PWD/downloads/an4}
model=exp/crnn_bpe

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  if [ -d "$corpus_dir/etc" ]; then
    log "stage 0: using $corpus_dir"
  else
    log "stage 0: download $an4_url into downloads/"
    mkdir -p downloads
    download_and_extract "$an4_url"
    require 0 "$corpus_dir/etc"
  fi
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  log "stage 1: prepare data/{train,dev,test} from the SPHERE files"
  require 0 "$corpus_dir/etc"
  asr prepare an4 --subset train "$corpus_dir" data/train_all
  asr prepare an4 --subset test "$corpus_dir" data/test
  split_off_dev data/train_all "$num_dev" "$seed" data/dev data/train
  for part in train dev test; do asr data validate "data/$part"; done
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  make_fbank "$conf/fbank.conf" "$nj" data/train data/dev data/test
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  log "stage 3: $bpe_vocab_size BPE units from the training text into data/lang_bpe"
  require 1 data/train/text
  asr units train --type bpe --vocab-size "$bpe_vocab_size" data/train/text data/lang_bpe
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  log "stage 4: word $lm_order-gram LM ($lm_smoothing) from the training text into data/local/lm/lm.arpa"
  require 1 data/train/text data/test/text
  mkdir -p data/local/lm
  asr lm train --order "$lm_order" --smoothing "$lm_smoothing" data/train/text data/local/lm/lm.arpa
  asr lm ppl --lm data/local/lm/lm.arpa data/test/text
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  log "stage 5: train a crnn on BPE units into $model"
  require 2 data/train/feats.scp data/dev/feats.scp
  require 3 data/lang_bpe/tokens.txt
  asr train --config "$conf/train.yaml" $(resume_or_clear "$model" "$resume") ${epochs:+--epochs "$epochs"} \
    --num-threads "$num_threads" \
    --device "$device" --seed "$seed" --train data/train --valid data/dev --lang data/lang_bpe --out "$model"
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  log "stage 6: decode data/test without and with the LM, score"
  require 5 "$model/model.pt"
  require 4 data/local/lm/lm.arpa
  require 2 data/test/feats.scp
  decode_and_score "$model" data/test "$model/decode_test" "$conf/decode.yaml" "$nj"
  decode_and_score "$model" data/test "$model/decode_test_lm" "$conf/decode.yaml" "$nj" data/local/lm/lm.arpa
fi

log "done"
