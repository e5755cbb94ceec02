#!/usr/bin/env bash
# LibriSpeech: read audiobooks, 16 kHz FLAC. By default the mini_librispeech subsets (OpenSLR 31:
# train-clean-5, 5 h; dev-clean-2, 2 h), as Kaldi's mini_librispeech recipe; the full corpus (OpenSLR 12) with
#   --data-url https://www.openslr.org/resources/12 --train-sets "train-clean-100" --dev-set dev-clean \
#   --test-sets "test-clean test-other"
# BPE units; a word 3-gram LM from the training text, or a downloaded ARPA LM with --lm-url (e.g. OpenSLR 11's
# https://www.openslr.org/resources/11/3-gram.pruned.1e-7.arpa.gz).
#
#   bash recipes/librispeech/run.sh                                  # download, then everything
#   bash recipes/librispeech/run.sh --corpus-dir /data/LibriSpeech   # subsets already unpacked there
#   bash recipes/librispeech/run.sh --device cuda --stage 5          # train on a GPU
#
# Stages: 0 download  1 prepare  2 features  3 BPE units  4 word LM  5 train a crnn
#         6 decode the dev and test sets without and with the LM, score
set -euo pipefail

stage=0
stop_stage=100
nj=2
cmd=local            # where the --nj jobs of features and decoding run: local, or dask:ADDRESS (Kaldi --cmd)
work_dir=                  # where downloads/ data/ exp/ go (default: this recipe's folder)
corpus_dir=                # the LibriSpeech folder holding the subset folders; empty: download
data_url=https://www.openslr.org/resources/31
train_sets="train-clean-5"
dev_set=dev-clean-2        # validation during training, and decoded
test_sets=                 # decoded too (mini_librispeech has none)
bpe_vocab_size=500
lm_order=3
lm_smoothing=kneser_ney
lm_url=                    # an ARPA LM (.arpa or .arpa.gz) to download instead of training one
shard_utts=0              # >0: stage 2 also writes the training features as tar shards of this many utterances
#                            (asr data shard), which stage 5 streams, each training process its own shards:
#                            for train-960 (110 GB of features), e.g. 5000
seed=0
epochs=                    # default: conf/train.yaml
num_threads=1
resume=false        # true: continue the model's latest checkpoint instead of training afresh
device=auto
help_message="Usage: $0 [options]   (LibriSpeech: download, prepare, features, units, lm, train, decode)"

. "$(dirname "$0")/../utils/parse_options.sh"
. "$(dirname "$0")/../utils/path.sh"   # also enters --work-dir
corpus_dir=${corpus_dir:-$PWD/downloads/LibriSpeech}
model=exp/crnn_bpe

# Kaldi-friendly data dir names: dev-clean-2 -> dev_clean_2
data_name() { echo "${1//-/_}"; }
eval_names() { for s in $dev_set $test_sets; do data_name "$s"; done; }

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  mkdir -p downloads
  for subset in $train_sets $dev_set $test_sets; do
    if [ -d "$corpus_dir/$subset" ]; then
      log "stage 0: using $corpus_dir/$subset"
      continue
    fi
    log "stage 0: download $data_url/$subset.tar.gz"
    download_and_extract "$data_url/$subset.tar.gz"   # unpacks into downloads/LibriSpeech/<subset>
    require 0 "$corpus_dir/$subset"
  done
  if [ -n "$lm_url" ]; then
    log "stage 0: download $lm_url"
    download "$lm_url" > /dev/null
  fi
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  for subset in $train_sets $dev_set $test_sets; do
    log "stage 1: prepare data/$(data_name "$subset") from $corpus_dir/$subset (FLAC)"
    require 0 "$corpus_dir/$subset"
    asr prepare librispeech "$corpus_dir/$subset" "data/$(data_name "$subset")"
  done
  train_dirs=$(for s in $train_sets; do echo "data/$(data_name "$s")"; done)
  if [ "$(echo "$train_dirs" | wc -w)" -gt 1 ]; then
    # shellcheck disable=SC2086
    asr data combine data/train $train_dirs
  else
    asr data copy "$train_dirs" data/train
  fi
  for part in train $(eval_names); do asr data validate "data/$part"; done
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  for part in train $(eval_names); do make_fbank "$conf/fbank.conf" "$nj" "data/$part"; done
  if [ "$shard_utts" -gt 0 ]; then
    log "stage 2: the training features as shards of $shard_utts utterances into data/train_shards"
    asr data shard --utts-per-shard "$shard_utts" --nj "$nj" --cmd "$cmd" data/train data/train_shards
  fi
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  log "stage 3: $bpe_vocab_size BPE units from the training text into data/lang_bpe"
  require 1 data/train/text
  asr units train --type bpe --vocab-size "$bpe_vocab_size" data/train/text data/lang_bpe
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  mkdir -p data/local/lm
  if [ -n "$lm_url" ]; then
    log "stage 4: use the downloaded LM ${lm_url##*/}"
    require 0 "downloads/${lm_url##*/}"
    rm -f data/local/lm/lm.arpa data/local/lm/lm.arpa.gz   # one LM in data/local/lm: the download or a trained one
    ln -sf "$PWD/downloads/${lm_url##*/}" "data/local/lm/lm.arpa${lm_url##*.arpa}"
  else
    log "stage 4: word $lm_order-gram LM ($lm_smoothing) from the training text"
    require 1 data/train/text
    rm -f data/local/lm/lm.arpa data/local/lm/lm.arpa.gz
    asr lm train --order "$lm_order" --smoothing "$lm_smoothing" data/train/text data/local/lm/lm.arpa
  fi
  for part in $(eval_names); do
    asr lm ppl --lm "$(ls data/local/lm/lm.arpa*)" "data/$part/text"
  done
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  log "stage 5: train a crnn on BPE units into $model"
  dev=$(data_name "$dev_set")
  train=data/train
  [ "$shard_utts" -gt 0 ] && train=data/train_shards
  require 2 "$train/feats.scp" "data/$dev/feats.scp"
  require 3 data/lang_bpe/tokens.txt
  asr train --config "$conf/train.yaml" $(resume_or_clear "$model" "$resume") ${epochs:+--epochs "$epochs"} \
    --num-threads "$num_threads" \
    --device "$device" --seed "$seed" --train "$train" --valid "data/$dev" --lang data/lang_bpe --out "$model"
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  require 5 "$model/model.pt"
  require 4 data/local/lm/lm.arpa*
  lm=$(ls data/local/lm/lm.arpa*)
  for part in $(eval_names); do
    log "stage 6: decode data/$part without and with the LM, score"
    require 2 "data/$part/feats.scp"
    decode_and_score "$model" "data/$part" "$model/decode_$part" "$conf/decode.yaml" "$nj"
    decode_and_score "$model" "data/$part" "$model/decode_${part}_lm" "$conf/decode.yaml" "$nj" "$lm"
  done
fi

log "done"
