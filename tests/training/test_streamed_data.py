"""Streamed training data: features read from feats.scp (or computed from wav.scp) as batches need them (in loader
workers or not) train the very weights the in-memory path trains; --max-steps stops resumably; auto streams above
the memory budget; sharded data (asr data shard) trains the same weights streamed or not, and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from asr.cli import main
from synthetic_corpus import write_corpus

TINY = ["--model", "crnn", "--hidden-size", "16", "--num-layers", "1", "--conv-channels", "4", "--max-frames", "100",
        "--lr", "0.01", "--warmup-steps", "4", "--no-progress", "--feature-type", "mfcc", "--epochs", "2"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("stream-corpus")
    train, valid, lang = write_corpus(root)
    return ["--train", str(train), "--valid", str(valid), "--lang", str(lang), "--feature-config",
            str(root / "mfcc.conf")]


def _train(corpus, out: Path, *options) -> dict:
    main(["train", *corpus, *TINY, *options, "--out", str(out)])
    return torch.load(out / "model.pt", weights_only=True)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("cmvn", ["global", "speaker"])
def test_streamed_features_train_the_weights_of_the_in_memory_path(corpus, tmp_path, capfd, cmvn):
    in_memory = _train(corpus, tmp_path / "memory", "--cmvn", cmvn, "--stream-data", "never")
    assert "(streamed from feats.scp)" not in capfd.readouterr().err
    streamed = _train(corpus, tmp_path / "streamed", "--cmvn", cmvn, "--stream-data", "always")
    assert "(streamed from feats.scp)" in capfd.readouterr().err
    assert _same(in_memory, streamed)
    workers = _train(corpus, tmp_path / "workers", "--cmvn", cmvn, "--stream-data", "always", "--num-workers", "2")
    assert _same(in_memory, workers)


def test_auto_streams_above_the_memory_budget(corpus, tmp_path, capfd):
    _train(corpus, tmp_path / "small", "--epochs", "1")
    assert "streamed" not in capfd.readouterr().err
    _train(corpus, tmp_path / "big", "--epochs", "1", "--memory-budget-gb", "1e-9")
    assert "over memory_budget_gb=1e-09: streamed from feats.scp" in capfd.readouterr().err


def test_max_steps_stops_resumably(corpus, tmp_path):
    full = _train(corpus, tmp_path / "full", "--stream-data", "always")
    steps = json.loads((tmp_path / "full" / "log.jsonl").read_text().splitlines()[-1])["global_step"]
    _train(corpus, tmp_path / "part", "--stream-data", "always", "--max-steps", str(steps // 2 + 1))
    assert not (tmp_path / "part" / "checkpoints" / "epoch-0002.pt").exists()
    main(["train", *corpus, *TINY, "--stream-data", "always", "--out", str(tmp_path / "part"), "--resume"])
    assert _same(full, torch.load(tmp_path / "part" / "model.pt", weights_only=True))


def test_sharded_features_train_the_same_weights_streamed_or_not_and_resume(corpus, tmp_path, capfd):
    sharded = [*corpus]
    sharded[1] = str(tmp_path / "sharded")
    main(["data", "shard", corpus[1], sharded[1], "--utts-per-shard", "8", "--no-progress"])
    in_memory = _train(sharded, tmp_path / "memory", "--stream-data", "never", "--shard-buffer", "2")
    assert "32 utterances, " in (err := capfd.readouterr().err) and " frames in 4 shards" in err
    streamed = _train(sharded, tmp_path / "streamed", "--stream-data", "always", "--shard-buffer", "2",
                      "--num-workers", "2")
    assert _same(in_memory, streamed)
    # shards dealt out by shard, two at a time: another order than the unsharded set's batches
    assert not _same(in_memory, _train(corpus, tmp_path / "unsharded", "--stream-data", "never"))
    steps = json.loads((tmp_path / "memory" / "log.jsonl").read_text().splitlines()[-1])["global_step"]
    part = ["--stream-data", "always", "--shard-buffer", "2"]
    _train(sharded, tmp_path / "part", *part, "--max-steps", str(steps // 2 + 1))
    main(["train", *sharded, *TINY, *part, "--out", str(tmp_path / "part"), "--resume"])
    assert _same(in_memory, torch.load(tmp_path / "part" / "model.pt", weights_only=True))


DIGITS = "zero one two three four five six seven eight nine".split()


@pytest.fixture(scope="module")
def wav_corpus(fsdd_dir, tmp_path_factory):
    """16 FSDD recordings as a data dir with wav.scp only (no features), and its character units."""
    root = tmp_path_factory.mktemp("wav-corpus")
    files = sorted(fsdd_dir.glob("*.wav"))[:16]
    data = root / "train"
    data.mkdir()
    (data / "wav.scp").write_text("".join(f"{f.stem} {f}\n" for f in files))
    (data / "text").write_text("".join(f"{f.stem} {DIGITS[int(f.stem[0])].upper()}\n" for f in files))
    (data / "utt2spk").write_text("".join(f"{f.stem} {f.stem.split('_')[1]}\n" for f in files))
    main(["data", "fix", str(data)])
    main(["units", "train", "--type", "char", str(data / "text"), str(root / "lang")])
    (root / "mfcc.conf").write_text("--sample-frequency=8000\n--num-mel-bins=23\n")
    return ["--train", str(data), "--lang", str(root / "lang"), "--feats-source", "wav",
            "--feature-config", str(root / "mfcc.conf")]


def test_features_computed_from_wav_scp_stream_as_they_train_in_memory(wav_corpus, tmp_path, capfd):
    """Streamed from wav.scp: lengths from the audio headers (then utt2dur), features computed per batch, the same
    weights as features computed once into memory; auto streams when utt2dur says they exceed the budget."""
    in_memory = _train(wav_corpus, tmp_path / "memory", "--cmvn", "speaker", "--stream-data", "never")
    assert "streamed" not in capfd.readouterr().err
    streamed = _train(wav_corpus, tmp_path / "streamed", "--cmvn", "speaker", "--stream-data", "always")
    assert "(streamed from wav.scp)" in capfd.readouterr().err
    assert _same(in_memory, streamed)
    main(["data", "utt2dur", wav_corpus[1]])
    auto = _train(wav_corpus, tmp_path / "auto", "--cmvn", "speaker", "--memory-budget-gb", "1e-9")
    assert "over memory_budget_gb=1e-09: streamed from wav.scp" in capfd.readouterr().err
    assert _same(in_memory, auto)
