#!/usr/bin/env bash
# FSDD: isolated English digits (8 kHz), two ways to split it.
#   official:  the dataset's own split, indices 0-4 of every speaker and digit are the test set
#              (speaker-dependent: the same speakers train and test);
#   speaker:   whole speakers held out (--test-speakers), a speaker-independent test.
#
#   bash recipes/fsdd/run.sh --corpus-dir ../shared/data/fsdd     # use a local copy
#   bash recipes/fsdd/run.sh                                       # download the public dataset first
#
# Stages: 0 download  1 prepare (both splits, + a dev set carved from each training set)  2 features
#         3 char units and a unigram LM over the digit words  4 train one crnn per split
#         5 decode greedily, and restricted to the ten digit words; score
set -euo pipefail

stage=0
stop_stage=100
nj=2
work_dir=             # where downloads/ data/ lang/ exp/ go (default: this recipe's folder)
corpus_dir=           # a folder holding recordings/ (or the recordings themselves); empty: download
splits="official speaker"
test_speakers=theo    # held out by the speaker split
num_dev=200           # training utterances set aside per split to watch training
seed=0
epochs=               # default: conf/train.yaml
num_threads=1
resume=false        # true: continue the model's latest checkpoint instead of training afresh
fsdd_url=https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/heads/master.tar.gz
help_message="Usage: $0 [options]   (FSDD: download, prepare, features, units, train, decode)"

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

# prepare options per split
split_options() {
  case $1 in
    official) echo "--split index" ;;
    speaker) echo "--split speaker --test-speakers $test_speakers" ;;
    *) log "error: unknown split '$1' (official or speaker)"; exit 1 ;;
  esac
}

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  require 0 "$corpus_dir/recordings"
  for split in $splits; do
    log "stage 1: prepare data/$split/{train,dev,test} ($(split_options "$split"))"
    # shellcheck disable=SC2046
    asr prepare fsdd $(split_options "$split") --subset train "$corpus_dir" "data/$split/train_all"
    # shellcheck disable=SC2046
    asr prepare fsdd $(split_options "$split") --subset test "$corpus_dir" "data/$split/test"
    split_off_dev "data/$split/train_all" "$num_dev" "$seed" "data/$split/dev" "data/$split/train"
    for part in train dev test; do asr data validate "data/$split/$part"; done
  done
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  for split in $splits; do
    make_fbank "$conf/fbank.conf" "$nj" "data/$split/train" "data/$split/dev" "data/$split/test"
  done
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  for split in $splits; do
    log "stage 3: character units and a unigram LM of the digit words into data/$split/lang"
    require 1 "data/$split/train/text"
    asr units train --type char "data/$split/train/text" "data/$split/lang"
    asr lm train --order 1 --smoothing kneser_ney "data/$split/train/text" "data/$split/lang/lm.arpa"
  done
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  for split in $splits; do
    log "stage 4: train a crnn into exp/$split/crnn"
    require 2 "data/$split/train/feats.scp" "data/$split/dev/feats.scp"
    require 3 "data/$split/lang/tokens.txt"
    asr train --config "$conf/train.yaml" $(resume_or_clear "exp/$split/crnn" "$resume") \
      ${epochs:+--epochs "$epochs"} --num-threads "$num_threads" --seed "$seed" \
      --train "data/$split/train" --valid "data/$split/dev" --lang "data/$split/lang" --out "exp/$split/crnn"
  done
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  for split in $splits; do
    model=exp/$split/crnn
    log "stage 5: decode data/$split/test with $model: greedy, and restricted to the digit words"
    require 4 "$model/model.pt"
    require 3 "data/$split/lang/lm.arpa"
    require 2 "data/$split/test/feats.scp"
    decode_and_score "$model" "data/$split/test" "$model/decode_test_greedy" "$conf/decode_greedy.yaml" "$nj"
    decode_and_score "$model" "data/$split/test" "$model/decode_test_words" "$conf/decode.yaml" "$nj" \
      "data/$split/lang/lm.arpa"
  done
fi

log "done"
