# Stage steps that several recipes share, as shell functions; path.sh sources this file.

# split_off_dev SRC NUM SEED DEV TRAIN: NUM random utterances of data dir SRC into DEV, the others into TRAIN
# (a dev set carved from a training set, to watch training without touching the test set).
split_off_dev() {
  local src=$1 num=$2 seed=$3 dev=$4 train=$5
  asr data subset --random "$num" --seed "$seed" "$src" "$dev"
  cut -d' ' -f1 "$dev/utt2spk" > "$dev.list"
  cut -d' ' -f1 "$src/utt2spk" | comm -23 - "$dev.list" > "$train.list"
  asr data subset --utt-list "$train.list" "$src" "$train"
  rm -f "$dev.list" "$train.list"
}

# split_off_dev_speakers SRC NUM DEV TRAIN: the utterances of NUM speakers of SRC (every k-th speaker id in sorted
# order: a fixed, spread-out choice) into DEV, the other speakers into TRAIN; the lists stay in DEV.spk, TRAIN.spk.
split_off_dev_speakers() {
  local src=$1 num=$2 dev=$3 train=$4
  local step=$(( $(wc -l < "$src/spk2utt") / num ))
  [ "$step" -ge 1 ] || { log "error: $src has fewer than $num speakers"; exit 1; }
  cut -d' ' -f1 "$src/spk2utt" | awk -v step="$step" -v n="$num" 'NR % step == 0 && count < n { print; count++ }' \
    > "$dev.spk"
  cut -d' ' -f1 "$src/spk2utt" | grep -vxFf "$dev.spk" > "$train.spk"
  asr data subset --spk-list "$dev.spk" "$src" "$dev"
  asr data subset --spk-list "$train.spk" "$src" "$train"
}

# make_fbank CONF NJ DATA...: fbank features (feats.ark/scp, feats.conf) of each data dir with the options in CONF,
# as Kaldi's steps/make_fbank.sh; every recipe's prepare stage (1) writes the wav.scp it reads.
make_fbank() {
  local conf=$1 nj=$2 data
  shift 2
  for data in "$@"; do
    log "fbank features for $data"
    require 1 "$data/wav.scp"
    asr features fbank --config "$conf" --nj "$nj" --cmd "${cmd:-local}" "$data"
  done
}

# decode_and_score MODEL DATA OUT CONF NJ [LM]: decode data dir DATA into OUT (with the word LM when given); the
# decode dir gets `wer` (and per_utt, per_spk, confusions) from asr decode, and `cer` from asr score.
decode_and_score() {
  local model=$1 data=$2 out=$3 conf=$4 nj=$5 lm=${6:-}
  asr decode --model "$model" --config "$conf" --nj "$nj" --cmd "${cmd:-local}" ${lm:+--lm "$lm"} --out "$out" \
    "$data"
  asr score --cer "$data/text" "$out/text" > "$out/cer"
  log "$out: $(head -n 1 "$out/wer"); $(head -n 1 "$out/cer")"
}

# error_rate FILE: the number after %WER or %CER in a wer/cer file
error_rate() {
  awk '/^%(WER|CER)/ { print $2; exit }' "$1"
}

# resume_or_clear MODEL RESUME: the flag for `asr train --out MODEL`. With RESUME=true, `--resume` (continue
# MODEL's latest checkpoint, e.g. after an interruption); otherwise MODEL is removed, so that rerunning the
# training stage trains afresh on the current data instead of failing on the old checkpoints.
resume_or_clear() {
  local model=$1 resume=$2
  if [ "$resume" = true ]; then
    echo --resume
  elif [ -e "$model" ]; then
    log "removing the previous $model (pass --resume true to continue it instead)"
    rm -rf "$model"
  fi
}

# download URL [ARCHIVE_NAME]: fetch URL into downloads/ (a .part name until complete, so an interrupted
# download is never taken for a whole one); an archive already there is reused. Prints the archive's path.
download() {
  local url=$1 name=${2:-${1##*/}}
  mkdir -p downloads
  if [ ! -f "downloads/$name" ]; then
    curl -fL --retry 3 -o "downloads/$name.part" "$url"
    mv "downloads/$name.part" "downloads/$name"
  fi
  echo "downloads/$name"
}

# download_and_extract URL [ARCHIVE_NAME]: download (as above), then unpack the .tar.gz into downloads/.
download_and_extract() {
  local archive
  archive=$(download "$@")
  tar -xzf "$archive" -C downloads
}
