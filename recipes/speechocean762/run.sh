#!/usr/bin/env bash
# speechocean762: English sentences read by 250 Mandarin-speaking learners (OpenSLR 101), 16 kHz.
# A dev set of held-out speakers from the training half; character, phone (CMU dictionary) and BPE models;
# a word LM from the training text (plus --lm-extra-text), and that LM mixed with a general English bigram LM
# from published word and bigram counts (--english-words; needs `pip install 'asr[english]'`); WER and each LM's
# OOV rate side by side.
#
#   bash recipes/speechocean762/run.sh --corpus-dir ../shared/data/speechocean762-train   # the training half
#   bash recipes/speechocean762/run.sh                      # download the corpus (both halves) from OpenSLR
#   bash recipes/speechocean762/run.sh --units "char bpe" --stage 3
#
# Stages: 0 download  1 prepare (train / dev = --num-dev-speakers held out / test when present)  2 features
#         3 the LM text and English vocabulary (data/local/lm), units into data/lang_UNIT (the phone lexicon
#           covers every LM word)  4 word LMs (text, english, mix) into data/local/lm, OOV rates
#         5 train one crnn per unit type (exp/crnn_UNIT)  6 decode without and with each LM, score, summary table
set -euo pipefail

stage=0
stop_stage=100
nj=2
cmd=local            # where the --nj jobs of features and decoding run: local, or dask:ADDRESS (Kaldi --cmd)
work_dir=              # where downloads/ data/ exp/ go (default: this recipe's folder)
corpus_dir=            # the corpus root (train/ and test/), or a folder with wav.scp/text/utt2spk; empty: download
num_dev_speakers=10    # training speakers held out as the dev set
units="char phone bpe"
bpe_vocab_size=150
lm_order=3
lm_smoothing=kneser_ney
lm_extra_text=         # more LM text: one sentence a line, upper case like the transcripts
english_words=20000    # general English LM over this many frequent CMU-dictionary words, mixed with the text LM
                       # (weights tuned on dev); 0: the text LM only. Needs symspellpy: pip install 'asr[english]'
seed=0
epochs=                # default: conf/train.yaml
num_threads=1
resume=false        # true: continue the model's latest checkpoint instead of training afresh
corpus_url=https://www.openslr.org/resources/101/speechocean762.tar.gz
help_message="Usage: $0 [options]   (speechocean762: download, prepare, features, units, lm, train, decode)"

. "$(dirname "$0")/../utils/parse_options.sh"
[ -n "$lm_extra_text" ] && lm_extra_text=$(cd "$(dirname "$lm_extra_text")" && pwd)/$(basename "$lm_extra_text")
. "$(dirname "$0")/../utils/path.sh"   # also enters --work-dir
corpus_dir=${corpus_dir:-$PWD/downloads/speechocean762}

# the evaluation sets this corpus copy has: dev always, test when the test half is there
eval_sets() {
  echo dev
  [ -f data/test/text ] && echo test
  true
}

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  if [ -f "$corpus_dir/wav.scp" ] || [ -f "$corpus_dir/train/wav.scp" ]; then
    log "stage 0: using $corpus_dir"
  else
    log "stage 0: download $corpus_url into downloads/"
    mkdir -p downloads
    download_and_extract "$corpus_url" speechocean762.tar.gz
    require 0 "$corpus_dir/train/wav.scp"
  fi
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  if [ -f "$corpus_dir/train/wav.scp" ]; then
    log "stage 1: prepare the public corpus's train and test halves"
    asr prepare speechocean762 --subset train "$corpus_dir" data/train_all
    asr prepare speechocean762 --subset test "$corpus_dir" data/test
  else
    require 0 "$corpus_dir/wav.scp"
    log "stage 1: prepare $corpus_dir (one half: no test set; dev only)"
    asr prepare speechocean762 "$corpus_dir" data/train_all
  fi
  split_off_dev_speakers data/train_all "$num_dev_speakers" data/dev data/train
  for part in train dev $([ -f data/test/text ] && echo test); do asr data validate "data/$part"; done
  log "stage 1: data/train $(wc -l < data/train/text) utterances, data/dev $(wc -l < data/dev/text)" \
      "utterances of $(wc -l < data/dev.spk) held-out speakers ($(tr '\n' ' ' < data/dev.spk))"
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  for part in train $(eval_sets); do make_fbank "$conf/fbank.conf" "$nj" "data/$part"; done
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  log "stage 3: the LM text from the training text${lm_extra_text:+ and $lm_extra_text} into data/local/lm/text"
  require 1 data/train/text
  mkdir -p data/local/lm
  # the LM corpus in Kaldi text form (extra lines get ids): stage 4's LMs are trained on it, the phone lexicon covers it
  {
    cat data/train/text
    if [ -n "$lm_extra_text" ]; then awk '{ printf "extra-%08d %s\n", NR, $0 }' "$lm_extra_text"; fi
  } > data/local/lm/text
  rm -f data/local/lm/english.words data/local/lm/english.counts
  if [ "$english_words" -gt 0 ]; then
    # as Kaldi's dictionary preparation: the LM's vocabulary first, so that the lexicon can cover all of it
    log "stage 3: the $english_words most frequent pronounceable English words and their counts into data/local/lm"
    "$PYTHON" "$ASR_ROOT/recipes/utils/english_counts.py" --vocab-size "$english_words" --pronounceable \
      --words data/local/lm/english.words data/local/lm/english.counts
  fi
  for unit in $units; do
    log "stage 3: $unit units into data/lang_$unit"
    case $unit in
      char) asr units train --type char data/train/text data/lang_char ;;
      # the lexicon covers every LM word, so that the phone model can decode to all of them
      phone) asr units train --type phone --no-stress \
               $([ -f data/local/lm/english.words ] && echo --words data/local/lm/english.words) \
               data/local/lm/text data/lang_phone ;;
      bpe) asr units train --type bpe --vocab-size "$bpe_vocab_size" data/train/text data/lang_bpe ;;
      *) log "error: unknown unit type '$unit' (char, phone or bpe)"; exit 1 ;;
    esac
  done
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  log "stage 4: word $lm_order-gram LM ($lm_smoothing) from data/local/lm/text into data/local/lm/text.arpa"
  require 3 data/local/lm/text
  require 1 data/dev/text
  asr lm train --order "$lm_order" --smoothing "$lm_smoothing" data/local/lm/text data/local/lm/text.arpa
  lms=text
  if [ "$english_words" -gt 0 ]; then
    log "stage 4: English bigram LM over $english_words words, mixed with the text LM (weights tuned on data/dev)"
    require 3 data/local/lm/english.counts
    asr lm train --counts --order 2 --smoothing witten_bell data/local/lm/english.counts data/local/lm/english.arpa
    asr lm mix --lm data/local/lm/text.arpa --lm data/local/lm/english.arpa --tune-text data/dev/text \
      data/local/lm/mix.arpa | tee data/local/lm/mix.weights
    lms="text mix"
  fi
  echo "$lms" > data/local/lm/lms
  for lm in $lms; do
    for part in $(eval_sets); do
      asr lm ppl --lm "data/local/lm/$lm.arpa" "data/$part/text" | tee "data/local/lm/ppl_${lm}_$part"
    done
  done
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  for unit in $units; do
    log "stage 5: train a crnn on $unit units into exp/crnn_$unit"
    require 2 data/train/feats.scp data/dev/feats.scp
    require 4 "data/lang_$unit/tokens.txt"
    asr train --config "$conf/train.yaml" $(resume_or_clear "exp/crnn_$unit" "$resume") \
      ${epochs:+--epochs "$epochs"} --num-threads "$num_threads" --seed "$seed" \
      --train data/train --valid data/dev --lang "data/lang_$unit" --out "exp/crnn_$unit"
  done
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  require 4 data/local/lm/lms
  summary=exp/summary.txt
  mkdir -p exp
  printf '%-6s %-5s %-4s %7s %7s %7s\n' units set lm WER% CER% LM-OOV% > "$summary.tmp"
  for unit in $units; do
    model=exp/crnn_$unit
    require 5 "$model/model.pt"
    for part in $(eval_sets); do
      require 2 "data/$part/feats.scp"
      log "stage 6: decode data/$part with $model, without an LM and with each of: $(cat data/local/lm/lms)"
      decode_and_score "$model" "data/$part" "$model/decode_$part" "$conf/decode.yaml" "$nj"
      printf '%-6s %-5s %-4s %7s %7s %7s\n' "$unit" "$part" no "$(error_rate "$model/decode_$part/wer")" \
        "$(error_rate "$model/decode_$part/cer")" - >> "$summary.tmp"
      for lm in $(cat data/local/lm/lms); do
        dir=$model/decode_${part}_$lm
        decode_and_score "$model" "data/$part" "$dir" "$conf/decode.yaml" "$nj" "data/local/lm/$lm.arpa"
        oov=$(sed -n 's/.*(\([0-9.]*\)%).*/\1/p' "data/local/lm/ppl_${lm}_$part")
        printf '%-6s %-5s %-4s %7s %7s %7s\n' "$unit" "$part" "$lm" "$(error_rate "$dir/wer")" \
          "$(error_rate "$dir/cer")" "$oov" >> "$summary.tmp"
      done
    done
  done
  mv "$summary.tmp" "$summary"
  log "stage 6: summary in $summary"
  cat "$summary"
fi

log "done"
