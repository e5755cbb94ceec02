"""The real-corpus recipes' preparation and feature stages: FSDD and speechocean762 on ../shared/data, AN4 and
LibriSpeech on small fake corpora laid out exactly like the unpacked archives (SPHERE and FLAC)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asr.datadir import read_data_dir, validate_data_dir
from asr.kaldi_io import read_kaldi_map, read_matrix

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def speakers(data_dir: Path) -> set[str]:
    return set(read_data_dir(data_dir).spk2utt)


def check_features(data_dir: Path, dim: int) -> None:
    """Valid data dir, one feature matrix of `dim` columns per utterance."""
    assert validate_data_dir(data_dir) == []
    data = read_data_dir(data_dir)
    assert set(data.feats_scp) == set(data.wav_scp)
    assert f"--num-mel-bins={dim}" in (data_dir / "feats.conf").read_text()


def test_fsdd_prepare_and_features_both_splits(run_recipe, fsdd_dir: Path, tmp_path: Path) -> None:
    result = run_recipe("fsdd", "--corpus-dir", str(fsdd_dir.parent), "--splits", "official speaker", "--stage", "0",
                        "--stop-stage", "2")
    assert "stage 0: using" in result.stderr
    data = tmp_path / "work" / "data"
    official = {part: read_data_dir(data / "official" / part) for part in ("train", "dev", "test")}
    # the dataset's split: indices 0-4 of each speaker and digit are the test set (5 speakers x 10 digits x 5)
    assert len(official["test"].wav_scp) == 250
    assert all(int(utt.rsplit("_", 1)[1]) < 5 for utt in official["test"].wav_scp)
    # 200 set aside as dev; training pools the rest with the synthetic voices (300 voices x 10 digits x 1)
    assert len(official["dev"].wav_scp) == 200 and len(official["train"].wav_scp) == 2050 + 3000
    assert not set(official["dev"].wav_scp) & set(official["train"].wav_scp)
    assert not any(spk.startswith("syn") for spk in speakers(data / "official" / "dev"))
    # held-out speakers: the test speaker never trains; no dev set by default (fixed epochs, averaged)
    assert speakers(data / "speaker" / "test") == {"theo"}
    assert "theo" not in speakers(data / "speaker" / "train") and not (data / "speaker" / "dev").exists()
    for part in ("train", "dev", "test"):
        check_features(data / "official" / part, 40)
    for part in ("train", "test"):
        check_features(data / "speaker" / part, 40)


def test_fsdd_leave_one_speaker_out_folds_hold_out_their_speaker(run_recipe, fsdd_dir: Path, tmp_path: Path) -> None:
    """--splits loso: one fold per speaker; with --dev speaker another real speaker watches training, and
    pooled synthetic voices join the training set only."""
    run_recipe("fsdd", "--corpus-dir", str(fsdd_dir.parent), "--splits", "loso", "--dev", "speaker",
               "--synthetic-voices", "3", "--speed-perturb", "0.9 1.0 1.1", "--stage", "1", "--stop-stage", "1")
    folds = tmp_path / "work" / "data" / "loso"
    real = {"jackson", "lucas", "nicolas", "theo", "yweweler"}
    assert {p.name for p in folds.iterdir()} == real
    for held_out in real:
        fold = {part: speakers(folds / held_out / part) for part in ("train", "dev", "test")}
        assert fold["test"] == {held_out}
        assert len(fold["dev"]) == 1 and fold["dev"] < real - {held_out}
        trained = {s.removeprefix("sp0.9-").removeprefix("sp1.1-") for s in fold["train"]}
        assert trained & real == real - {held_out} - fold["dev"]
        assert len(trained - real) == 3 and all(s.startswith("syn") for s in trained - real)
        train = read_data_dir(folds / held_out / "train")
        assert len(train.wav_scp) == 3 * (3 * 500 + 3 * 10 * 1)  # 3 speeds x (3 real speakers + 3 voices x 1)
        assert validate_data_dir(folds / held_out / "train") == []


def test_fsdd_pretraining_set_holds_speechocean762_at_8khz_and_the_synthetic_digits(
        run_recipe, fsdd_dir: Path, speechocean_dir: Path, tmp_path: Path) -> None:
    """--pretrain-speechocean: every sentence of the other corpus, resampled to FSDD's 8 kHz, beside the synthetic
    digits (never an FSDD speaker, so one model serves every fold), with char units of all their letters."""
    run_recipe("fsdd", "--corpus-dir", str(fsdd_dir.parent), "--splits", "loso", "--loso-speakers", "theo",
               "--synthetic-voices", "3", "--pretrain-speechocean", str(speechocean_dir), "--stage", "1",
               "--stop-stage", "3", timeout=1200)
    work = tmp_path / "work" / "data"
    pretrain = read_data_dir(work / "pretrain" / "train")
    assert len(pretrain.wav_scp) == 2500 + 3 * 10 * 1
    assert not speakers(work / "pretrain" / "train") & {"jackson", "lucas", "nicolas", "theo", "yweweler"}
    check_features(work / "pretrain" / "train", 40)
    some = next(u for u in pretrain.wav_scp if not u.startswith("syn"))
    assert soundfile.info(pretrain.wav_scp[some]).samplerate == 8000
    tokens = set(read_kaldi_map(work / "pretrain" / "lang_char" / "tokens.txt"))
    assert set("ABCDEFGHIJKLMNOPRSTUVWXY") <= tokens  # speechocean762's sentences use (nearly) every letter
    assert set(read_kaldi_map(work / "loso" / "theo" / "lang_char" / "tokens.txt")) < tokens


def test_fsdd_trains_on_four_speakers_with_augmentation_and_decodes_the_fifth(run_recipe, fsdd_dir: Path,
                                                                             tmp_path: Path) -> None:
    """The speaker split end to end at a reduced size, with the recipe's augmentation on: it must recognise
    a voice it never heard far better than chance (90% WER)."""
    run_recipe("fsdd", "--corpus-dir", str(fsdd_dir.parent), "--splits", "speaker", "--test-speakers", "jackson",
               "--epochs", "6", "--average", "2", "--stage", "1", "--stop-stage", "6")
    decode = tmp_path / "work" / "exp" / "speaker" / "crnn" / "decode_test_words"
    wer = float((decode / "wer").read_text().split()[1])
    assert wer < 15.0, (decode / "wer").read_text()  # 4.2% when measured (6 epochs, jackson held out)
    assert set(read_kaldi_map(decode / "text")) == set(read_data_dir(tmp_path / "work" / "data" / "speaker" /
                                                                    "test").wav_scp)
    # the same model on a 2-minute recording of the held-out speaker's digits with 0.2-0.8 s pauses
    # (bench/long_audio.py): cut in its pauses it stays near the files one by one (measured: 8.55 against 6.84 with
    # the VAD's hysteresis, 15.38 without, 18.80 on an earlier machine's model: where the VAD cuts FSDD's trimmed
    # files decides it, bench/RESULTS.md), by the clock it fails (99.15)
    work = tmp_path / "work"
    bench = subprocess.run([sys.executable, str(REPO / "bench" / "long_audio.py"), "--model",
                            str(work / "exp" / "speaker" / "crnn"), "--data", str(work / "data" / "speaker" / "test"),
                            "--lm", str(work / "data" / "speaker" / "local" / "lm" / "lm.arpa"), "--decode-config",
                            str(REPO / "recipes" / "fsdd" / "conf" / "decode.yaml"), "--minutes", "2"],
                           capture_output=True, text=True, check=True, timeout=600)
    rows = {row.split("|")[1].strip(): float(row.split("|")[2]) for row in bench.stdout.splitlines()
            if row.startswith("| ") and "WER" not in row}
    one_by_one, segmented = rows["the same utterances one by one (asr decode)"], rows["whole recording, segment=energy"]
    assert segmented <= one_by_one + 15.0 and rows["whole recording, segment=none"] >= 90.0, bench.stdout


def test_speechocean762_dev_speakers_are_held_out(run_recipe, speechocean_dir: Path, tmp_path: Path) -> None:
    run_recipe("speechocean762", "--corpus-dir", str(speechocean_dir), "--stage", "1", "--stop-stage", "1")
    data = tmp_path / "work" / "data"
    dev, train = speakers(data / "dev"), speakers(data / "train")
    assert len(dev) == 10 and len(train) == 115 and not dev & train
    assert len(read_data_dir(data / "dev").wav_scp) + len(read_data_dir(data / "train").wav_scp) == 2500
    assert not (data / "test").exists()  # the shared copy is the training half only


def write_tone(path: Path, seconds: float, **kwargs) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * 16000)) / 16000
    soundfile.write(path, (3000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16), 16000, **kwargs)


def test_an4_stages_on_a_fake_sphere_corpus(run_recipe, tmp_path: Path) -> None:
    # an4/etc/an4_{train,test}.{fileids,transcription}, an4/wav/{an4_clstk,an4test_clstk}/<spk>/<id>.sph
    root = tmp_path / "an4"
    words = ["YES", "NO", "GO", "ENTER SIX", "RUBOUT T W O", "H I N I N E", "STOP", "ERASE", "REPEAT", "START"]
    for subset, folder, count in (("train", "an4_clstk", 24), ("test", "an4test_clstk", 6)):
        ids = [f"an{100 + i}-spk{i % 4}{subset[:2]}-b" for i in range(count)]
        for i, file_id in enumerate(ids):
            write_tone(root / "wav" / folder / file_id.split("-")[1] / f"{file_id}.sph", 0.3 + 0.01 * i,
                       format="NIST", subtype="PCM_16")
        (root / "etc").mkdir(parents=True, exist_ok=True)
        (root / "etc" / f"an4_{subset}.fileids").write_text(
            "".join(f"{folder}/{i.split('-')[1]}/{i}\n" for i in ids))
        (root / "etc" / f"an4_{subset}.transcription").write_text(
            "".join(f"<s> {words[n % len(words)]} </s> ({i})\n" for n, i in enumerate(ids)))
    run_recipe("an4", "--corpus-dir", str(root), "--num-dev", "4", "--bpe-vocab-size", "20", "--stop-stage", "4")
    data = tmp_path / "work" / "data"
    sizes = {part: len(read_data_dir(data / part).wav_scp) for part in ("train", "dev", "test")}
    assert sizes == {"train": 20, "dev": 4, "test": 6}
    for part in ("train", "dev", "test"):
        check_features(data / part, 40)
    assert (data / "lang_bpe" / "bpe.model").is_file()
    assert (data / "local" / "lm" / "lm.arpa").is_file()


def test_librispeech_stages_on_a_fake_flac_corpus(run_recipe, tmp_path: Path) -> None:
    # LibriSpeech/<subset>/<reader>/<chapter>/<reader>-<chapter>-<n>.flac + <reader>-<chapter>.trans.txt
    root = tmp_path / "LibriSpeech"
    sentences = ["THE CAT SAT ON THE MAT", "A DOG RAN IN THE PARK", "SHE READ THE BOOK ALOUD", "WE WENT HOME"]
    for subset, readers in (("train-clean-5", ("19", "26", "32")), ("dev-clean-2", ("84", "174"))):
        for reader in readers:
            chapter = f"{reader}0"
            folder = root / subset / reader / chapter
            for n in range(4):
                write_tone(folder / f"{reader}-{chapter}-{n:04d}.flac", 0.3 + 0.05 * n)
            (folder / f"{reader}-{chapter}.trans.txt").write_text(
                "".join(f"{reader}-{chapter}-{n:04d} {sentences[n]}\n" for n in range(4)))
    run_recipe("librispeech", "--corpus-dir", str(root), "--bpe-vocab-size", "28", "--stop-stage", "4",
               "--shard-utts", "5")
    data = tmp_path / "work" / "data"
    # --shard-utts: the training features also as shards, which hold the same matrices
    assert len(list((data / "train_shards" / "shards").glob("shard-*.tar"))) == 3  # 12 utterances, 5 a shard
    sharded, plain = read_data_dir(data / "train_shards").feats_scp, read_data_dir(data / "train").feats_scp
    assert sharded.keys() == plain.keys()
    assert all(np.array_equal(read_matrix(sharded[utt]), read_matrix(plain[utt])) for utt in plain)
    # Kaldi's convention: the speaker is reader-chapter
    assert speakers(data / "train") == {"19-190", "26-260", "32-320"}
    assert speakers(data / "dev_clean_2") == {"84-840", "174-1740"}
    for part in ("train", "dev_clean_2"):
        check_features(data / part, 80)
    assert (data / "lang_bpe" / "bpe.model").is_file()
    assert (data / "local" / "lm" / "lm.arpa").is_file()
