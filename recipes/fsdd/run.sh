#!/usr/bin/env bash
# FSDD: isolated English digits (8 kHz), three ways to split it.
#   official:  the dataset's own split, indices 0-4 of every speaker and digit are the test set
#              (speaker-dependent: the same speakers train and test);
#   speaker:   whole speakers held out (--test-speakers), a speaker-independent test;
#   loso:      leave-one-speaker-out cross-validation: one fold per speaker of the corpus, trained on all the
#              others and tested on it; stage 7 writes the per-speaker table and the mean
#              (exp/loso/summary_MODEL_NAME).
#
#   bash recipes/fsdd/run.sh --corpus-dir ../shared/data/fsdd     # use a local copy
#   bash recipes/fsdd/run.sh                                       # download the public dataset first
#   bash recipes/fsdd/run.sh --corpus-dir DIR --splits speaker --test-speakers NAME   # any speaker of DIR
#
# Stages: 0 download  1 prepare (each split: train, test, and a dev set, see --dev)  2 features
#         3 char units (data/FOLD/lang_char)  4 a unigram LM over the digit words (data/FOLD/local/lm)
#         5 train one crnn per split (and fold), average (with --pretrain-speechocean: pre-train exp/pretrain/crnn
#           first, and start every fold from it)  6 decode greedily, and restricted to the ten digit words; score
#         7 leave-one-speaker-out summary
# (FOLD: official, speaker, or loso/SPEAKER; models in exp/FOLD/MODEL_NAME)
set -euo pipefail

stage=0
stop_stage=100
nj=2
cmd=local            # where the --nj jobs of perturbation, features and decoding run: local, or dask:ADDRESS (--cmd)
work_dir=             # where downloads/ synthetic/ data/ exp/ go (default: this recipe's folder)
corpus_dir=           # a folder holding recordings/ (or the recordings themselves); empty: download
splits="loso official"  # any of: official speaker loso
test_speakers=theo    # held out by the speaker split
loso_speakers=        # the loso folds (default: every speaker in the corpus)
dev=none              # speaker-split and loso dev set: none (fixed epochs, average the last ones) or speaker
#                       (one training speaker held out to watch training and pick checkpoints: average the best)
num_dev=200           # the official split's dev set: training utterances set aside to watch training
average=5             # epoch checkpoints averaged into model.pt (the last ones, or the best on a dev speaker)
seed=0
epochs=               # default: conf/train.yaml
synthetic_voices=300  # eSpeak NG voices whose synthetic digits join every training set (0: none); needs the demo
#                       extra (pip install -e .[demo]) for espeakng-loader
synthetic_accented=0  # of those voices, how many are German/French/Dutch/Spanish/Italian ones reading respelled
#                       English digits (foreign accents; RESULTS.md row 26)
synthetic_per_digit=1 # repetitions of each digit per voice (300 x 1 beat 100 x 2 on LOSO: RESULTS.md row 12)
speed_perturb=        # e.g. "0.9 1.0 1.1": every training set becomes its speed-perturbed copies (asr data
#                       perturb-speed; the audio is written under data/FOLD/train/wav)
pool_speechocean=     # a speechocean762 folder (wav.scp text utt2spk, e.g. ../shared/data/speechocean762-train):
#                       its digit-string utterances join every training set
pretrain_speechocean= # a speechocean762 folder (e.g. ../shared/data/speechocean762-train): stage 5 first trains the
#                       network on all its sentences (resampled to 8 kHz) and the synthetic digits (exp/pretrain/crnn,
#                       once for all folds), and every fold's training starts from it (RESULTS.md row 33)
pretrain_epochs=10    # its epochs (last 3 averaged): 10 leave CTC's blank plateau (RESULTS.md row 33), 20 tie (row 34)
train_opts=           # more `asr train` options, e.g. "--cmvn utterance" (an ablation)
model_name=crnn       # exp/SPLIT/MODEL_NAME: give each ablation its own name
train_jobs=1          # models trained at once (one torch thread each)
num_threads=1
resume=false        # true: continue the model's latest checkpoint instead of training afresh
fsdd_url=https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/heads/master.tar.gz
help_message="Usage: $0 [options]   (FSDD: download, prepare, features, units, lm, train, decode, summary)
  --splits \"loso official\"     loso: one fold per speaker of --corpus-dir (--loso-speakers to choose), per-speaker
                                 table and mean in exp/loso/summary_MODEL_NAME; speaker: --test-speakers held out
  --dev none|speaker             held-out-speaker splits: fixed epochs and the last --average checkpoints, or one
                                 training speaker as dev and the --average best checkpoints on it
  --synthetic-voices N           pool N eSpeak NG voices' synthetic digits (needs: pip install -e .[demo]),
  --synthetic-accented N         N of those voices from other languages, saying respelled English digits
  --synthetic-per-digit N        each digit N times per voice (default 1)
  --pool-speechocean DIR         pool the digit strings of another corpus: a speechocean762 folder (wav.scp text
                                 utt2spk), e.g. ../shared/data/speechocean762-train
  --pretrain-speechocean DIR     pre-train on all of a speechocean762 folder's sentences and the synthetic digits,
                                 then start every fold from that model (~30 min once, on 2 CPU threads)
  --speed-perturb \"0.9 1.0 1.1\"  train on speed-perturbed copies; --train-opts passes any other asr train option"

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/path.sh"   # also enters --work-dir

if [ -z "$corpus_dir" ]; then
  corpus_dir=$PWD/downloads/free-spoken-digit-dataset-master  # the folder the archive unpacks to
fi

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  if [ -d "$corpus_dir/recordings" ]; then
    log "stage 0: using $corpus_dir ($(ls "$corpus_dir/recordings" | wc -l) recordings)"
  else
    log "stage 0: download $fsdd_url into downloads/"
    mkdir -p downloads
    download_and_extract "$fsdd_url" fsdd.tar.gz
    require 0 "$corpus_dir/recordings"
    log "stage 0: unpacked $(ls "$corpus_dir/recordings" | wc -l) recordings into $corpus_dir"
  fi
fi

# The speakers of the corpus, from its file names {digit}_{speaker}_{index}.wav
corpus_speakers() {
  ls "$corpus_dir/recordings" | sed -nE 's/^[0-9]_([A-Za-z0-9]+)_[0-9]+\.wav$/\1/p' | sort -u
}

# The data/exp folders: official, speaker, and one loso/SPEAKER per fold
folds=
for split in $splits; do
  case $split in
    official|speaker) folds="$folds $split" ;;
    loso)
      [ -n "$loso_speakers" ] || { require 0 "$corpus_dir/recordings"; loso_speakers=$(corpus_speakers | tr '\n' ' '); }
      for speaker in $loso_speakers; do folds="$folds loso/$speaker"; done ;;
    *) log "error: unknown split '$split' (official, speaker or loso)"; exit 1 ;;
  esac
done

# held-out speakers of a fold (empty: the official split)
held_out() {
  case $1 in
    official) echo ;;
    speaker) echo "$test_speakers" ;;
    loso/*) echo "${1#loso/}" ;;
  esac
}

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  require 0 "$corpus_dir/recordings"
  pools=()
  if [ "$synthetic_voices" -gt 0 ]; then
    log "stage 1: synthetic digits of $synthetic_voices eSpeak NG voices into synthetic/ and data/synthetic"
    "$PYTHON" "$recipe_dir/local/synthesize_digits.py" --num-voices "$synthetic_voices" \
      --accented-voices "$synthetic_accented" --per-digit "$synthetic_per_digit" --seed "$seed" synthetic
    asr prepare fsdd --subset all synthetic data/synthetic
    pools+=(data/synthetic)
  fi
  if [ -n "$pool_speechocean" ]; then
    log "stage 1: the digit strings of $pool_speechocean into data/speechocean_digits (resampled to 8 kHz)"
    asr prepare speechocean762 "$pool_speechocean" data/speechocean_all
    grep -E '^[^ ]+( (ZERO|ONE|TWO|THREE|FOUR|FIVE|SIX|SEVEN|EIGHT|NINE))+$' data/speechocean_all/text \
      | cut -d' ' -f1 > data/speechocean_all/digits.list
    asr data subset --utt-list data/speechocean_all/digits.list data/speechocean_all data/speechocean_digits_16k
    asr data resample --no-progress --nj "$nj" --cmd "$cmd" --sample-frequency 8000 data/speechocean_digits_16k \
      data/speechocean_digits
    pools+=(data/speechocean_digits)
  fi
  if [ -n "$pretrain_speechocean" ]; then
    log "stage 1: the sentences of $pretrain_speechocean (resampled to 8 kHz) and the synthetic digits into" \
      "data/pretrain/train"
    asr prepare speechocean762 "$pretrain_speechocean" data/speechocean_pretrain_16k
    asr data resample --no-progress --nj "$nj" --cmd "$cmd" --sample-frequency 8000 data/speechocean_pretrain_16k \
      data/speechocean_pretrain
    rm -rf data/pretrain/train
    # the synthetic digits lead the network off CTC's blank plateau, where the sentences alone kept it (RESULTS.md)
    asr data combine data/pretrain/train data/speechocean_pretrain \
      $([ "$synthetic_voices" -eq 0 ] || echo data/synthetic)
    asr data validate data/pretrain/train
  fi
  for fold in $folds; do
    speakers=$(held_out "$fold")
    if [ -z "$speakers" ]; then options=(--split index); else options=(--split speaker --test-speakers "$speakers"); fi
    log "stage 1: prepare data/$fold/{train,dev,test} (${options[*]})"
    asr prepare fsdd "${options[@]}" --subset train "$corpus_dir" "data/$fold/train_all"
    asr prepare fsdd "${options[@]}" --subset test "$corpus_dir" "data/$fold/test"
    rm -rf "data/$fold/dev" "data/$fold/train"
    if [ -z "$speakers" ]; then
      split_off_dev "data/$fold/train_all" "$num_dev" "$seed" "data/$fold/dev" "data/$fold/train"
    elif [ "$dev" = speaker ]; then
      split_off_dev_speakers "data/$fold/train_all" 1 "data/$fold/dev" "data/$fold/train"
    else
      mv "data/$fold/train_all" "data/$fold/train"
    fi
    if [ ${#pools[@]} -gt 0 ]; then
      log "stage 1: data/$fold/train pools FSDD with ${pools[*]}"
      mv "data/$fold/train" "data/$fold/train_fsdd"
      asr data combine "data/$fold/train" "data/$fold/train_fsdd" "${pools[@]}"
    fi
    if [ -n "$speed_perturb" ]; then
      log "stage 1: data/$fold/train at speeds $speed_perturb"
      mv "data/$fold/train" "data/$fold/train_nosp"
      asr data perturb-speed --no-progress --nj "$nj" --cmd "$cmd" --factors "$(echo $speed_perturb | tr ' ' ',')" \
        "data/$fold/train_nosp" "data/$fold/train"
    fi
    for part in train dev test; do [ ! -d "data/$fold/$part" ] || asr data validate "data/$fold/$part"; done
  done
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  [ -z "$pretrain_speechocean" ] || make_fbank "$conf/fbank.conf" "$nj" data/pretrain/train
  for fold in $folds; do
    # shellcheck disable=SC2046
    make_fbank "$conf/fbank.conf" "$nj" $(ls -d "data/$fold"/{train,dev,test} 2>/dev/null)
  done
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  if [ -n "$pretrain_speechocean" ]; then
    log "stage 3: character units of the pre-training text into data/pretrain/lang_char"
    asr units train --type char data/pretrain/train/text data/pretrain/lang_char
  fi
  for fold in $folds; do
    log "stage 3: character units from the training text into data/$fold/lang_char"
    require 1 "data/$fold/train/text"
    asr units train --type char "data/$fold/train/text" "data/$fold/lang_char"
  done
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  for fold in $folds; do
    log "stage 4: a unigram LM of the digit words into data/$fold/local/lm/lm.arpa"
    require 1 "data/$fold/train/text"
    mkdir -p "data/$fold/local/lm"
    asr lm train --order 1 --smoothing kneser_ney "data/$fold/train/text" "data/$fold/local/lm/lm.arpa"
  done
fi

# train_fold FOLD: train exp/FOLD/MODEL_NAME, then average its checkpoints into model.pt
train_fold() {
  local fold=$1 model=exp/$1/$model_name valid=() selection=(--last "$average")
  if [ -d "data/$fold/dev" ]; then
    valid=(--valid "data/$fold/dev")
    [ -z "$(held_out "$fold")" ] || selection=(--best "$average")
  fi
  # shellcheck disable=SC2086
  asr train --config "$conf/train.yaml" $(resume_or_clear "$model" "$resume") \
    ${epochs:+--epochs "$epochs"} --num-threads "$num_threads" --seed "$seed" --no-progress $train_opts \
    ${pretrain_speechocean:+--init-model exp/pretrain/crnn} --train "data/$fold/train" "${valid[@]}" \
    --lang "data/$fold/lang_char" --out "$model" > "$model.log" 2>&1
  asr average "${selection[@]}" "$model"
  log "stage 5: $model trained, ${selection[*]} checkpoints averaged into $model/model.pt"
}

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  if [ -n "$pretrain_speechocean" ] && [ -f exp/pretrain/crnn/model.pt ]; then
    log "stage 5: every fold starts from the existing exp/pretrain/crnn (remove it to pre-train afresh)"
  elif [ -n "$pretrain_speechocean" ]; then
    log "stage 5: pre-train exp/pretrain/crnn on data/pretrain/train (log: exp/pretrain/crnn.log)"
    require 2 data/pretrain/train/feats.scp
    require 3 data/pretrain/lang_char/tokens.txt
    mkdir -p exp/pretrain
    # The folds' network (conf/train.yaml and --train-opts) on stored features: no VTLP or speed perturbation,
    # bigger batches and a faster decay, for time.
    # shellcheck disable=SC2086
    asr train --config "$conf/train.yaml" $(resume_or_clear exp/pretrain/crnn "$resume") \
      --num-threads $((num_threads * train_jobs)) --seed "$seed" --no-progress $train_opts \
      --vtlp 0 --speed-perturb "" --max-frames 3000 --lr-decay 0.8 --epochs "$pretrain_epochs" \
      --train data/pretrain/train --lang data/pretrain/lang_char --out exp/pretrain/crnn > exp/pretrain/crnn.log 2>&1
    asr average --last $((pretrain_epochs < 3 ? pretrain_epochs : 3)) exp/pretrain/crnn
  fi
  running=0
  for fold in $folds; do
    log "stage 5: train a crnn into exp/$fold/$model_name (log: exp/$fold/$model_name.log)"
    require 2 "data/$fold/train/feats.scp"
    require 3 "data/$fold/lang_char/tokens.txt"
    mkdir -p "exp/$fold"
    train_fold "$fold" &
    running=$((running + 1))
    if [ $running -ge "$train_jobs" ]; then wait -n || { log "error: a training failed (see exp/*/$model_name.log)"; exit 1; }; running=$((running - 1)); fi
  done
  while [ $running -gt 0 ]; do
    wait -n || { log "error: a training failed (see exp/*/$model_name.log)"; exit 1; }
    running=$((running - 1))
  done
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  for fold in $folds; do
    model=exp/$fold/$model_name
    log "stage 6: decode data/$fold/test with $model: greedy, and restricted to the digit words"
    require 5 "$model/model.pt"
    require 4 "data/$fold/local/lm/lm.arpa"
    require 2 "data/$fold/test/feats.scp"
    decode_and_score "$model" "data/$fold/test" "$model/decode_test_greedy" "$conf/decode_greedy.yaml" "$nj"
    decode_and_score "$model" "data/$fold/test" "$model/decode_test_words" "$conf/decode.yaml" "$nj" \
      "data/$fold/local/lm/lm.arpa"
  done
fi

if [ $stage -le 7 ] && [ $stop_stage -ge 7 ] && [[ " $splits " == *" loso "* ]]; then
  summary=exp/loso/summary_$model_name
  log "stage 7: leave-one-speaker-out summary of $model_name into $summary"
  {
    printf '%-12s %10s %10s %10s\n' speaker greedy words train_s
    for speaker in $loso_speakers; do
      decode=exp/loso/$speaker/$model_name
      require 6 "$decode/decode_test_greedy/wer" "$decode/decode_test_words/wer"
      printf '%-12s %10s %10s %10.0f\n' "$speaker" "$(error_rate "$decode/decode_test_greedy/wer")" \
        "$(error_rate "$decode/decode_test_words/wer")" \
        "$(tail -n 1 "$decode/log.jsonl" | sed -E 's/.*"elapsed_s": ([0-9.e+-]+).*/\1/')"
    done
  } | awk 'NR == 1 { print; next }
           { print; n++; g += $2; w += $3; t += $4; if ($3 > worst) worst = $3 }
           END { printf "%-12s %10.2f %10.2f %10.0f\n%-12s %10s %10.2f\n", "mean", g / n, w / n, t / n, "worst", "",
                 worst }' > "$summary.tmp"
  mv "$summary.tmp" "$summary"
  cat "$summary" >&2
fi

log "done"
