"""Interruption: `kill -9` in the middle of feature extraction, LM training and decoding, through the real CLI.

After each kill no output may pass for complete (no feats.scp pointing into a truncated ark, no half-written ARPA
or hypothesis file, a previous complete output left intact), and rerunning the same command gives exactly what an
uninterrupted run gives. Acoustic training's kill + `--resume` is tested in tests/cli/test_train.py
(test_sigkill_then_resume_ends_with_the_same_weights) and not repeated here."""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from asr.kaldi_io import read_scp_matrices, read_kaldi_map
from reliability_cli import asr_command, asr_env, run_asr

pytestmark = pytest.mark.slow


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 120.0) -> None:
    """SIGKILL `proc` as soon as `ready()` holds; fail if the process ended first (nothing was interrupted)."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before it could be killed mid-way")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the run never reached the point to kill it at")
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def temp_file_larger_than(folder: Path, pattern: str, size: int) -> Callable[[], bool]:
    """An in-progress atomic write (asr.fileio's `.NAME.*.tmp`) holding more than `size` bytes."""
    def ready() -> bool:
        try:
            return any(p.stat().st_size > size for p in folder.glob(pattern))
        except FileNotFoundError:  # renamed between glob and stat
            return False
    return ready


def stderr_matches(proc: subprocess.Popen, predicate: Callable[[str], bool]) -> Callable[[], bool]:
    """Reads the process's stderr in a thread; true once `predicate` holds for the text seen so far."""
    seen: list[str] = []

    def pump() -> None:
        while chunk := proc.stderr.read1(4096) if hasattr(proc.stderr, "read1") else proc.stderr.read(1):
            seen.append(chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else chunk)

    threading.Thread(target=pump, daemon=True).start()
    return lambda: predicate("".join(seen))


def assert_scp_complete(scp: Path, keys: list[str]) -> dict[str, np.ndarray]:
    """Every listed matrix reads back whole (a truncated ark would raise) and the scp lists exactly `keys`."""
    feats = dict(read_scp_matrices(scp))
    assert sorted(feats) == sorted(keys)
    return feats


# ------------------------------------------------------------------------------------------ features
@pytest.fixture(scope="module")
def fsdd_data(fsdd_dir: Path, tmp_path_factory) -> Path:
    """All 2,500 FSDD recordings as one data dir (extraction takes a few seconds: time to kill it)."""
    data = tmp_path_factory.mktemp("fsdd") / "data"
    data.mkdir()
    files = {f"{f.stem.split('_')[1]}-{f.stem}": f.resolve() for f in fsdd_dir.glob("*.wav")}
    keys = sorted(files)
    (data / "wav.scp").write_text("".join(f"{k} {files[k]}\n" for k in keys))
    (data / "utt2spk").write_text("".join(f"{k} {k.split('-')[0]}\n" for k in keys))
    return data


MFCC = ["features", "mfcc", "--nj", "1", "--sample-frequency", "8000", "--no-progress"]


def test_sigkill_during_feature_extraction(fsdd_data: Path, tmp_path: Path) -> None:
    keys = sorted(read_kaldi_map(fsdd_data / "utt2spk"))
    reference, killed = (Path(shutil.copytree(fsdd_data, tmp_path / name)) for name in ("reference", "killed"))
    result = run_asr(*MFCC, reference, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = assert_scp_complete(reference / "feats.scp", keys)

    # 1. first run killed mid-archive: nothing that looks like features is left
    proc = subprocess.Popen(asr_command(*MFCC, killed), env=asr_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    kill_when(proc, temp_file_larger_than(killed, ".feats.ark*.tmp", 200_000))
    assert not (killed / "feats.scp").exists() and not (killed / "utt2num_frames").exists()
    assert not (killed / "feats.ark").exists()

    # 2. rerun: identical to the uninterrupted run
    result = run_asr(*MFCC, killed, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    again = assert_scp_complete(killed / "feats.scp", keys)
    assert all(np.array_equal(expected[k], again[k]) for k in keys)
    assert (killed / "utt2num_frames").read_text() == (reference / "utt2num_frames").read_text()

    # 3. a run with other options killed mid-way: the previous complete features stay valid and unchanged
    proc = subprocess.Popen(asr_command(*MFCC, "--num-ceps", "7", killed), env=asr_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_when(proc, temp_file_larger_than(killed, ".feats.ark*.tmp", 200_000))
    kept = assert_scp_complete(killed / "feats.scp", keys)
    assert all(np.array_equal(expected[k], kept[k]) for k in keys)
    assert read_kaldi_map(killed / "feats.conf") == read_kaldi_map(reference / "feats.conf")


# ------------------------------------------------------------------------------------------ LM training
def test_sigkill_during_lm_training(tmp_path: Path) -> None:
    """The ARPA file is either absent or complete after a kill, and the rerun is byte-identical."""
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(2000)]
    lines = [f"u{i:06d} " + " ".join(rng.choice(vocab, rng.integers(3, 15))) for i in range(8000)]
    text = tmp_path / "text"
    text.write_text("\n".join(lines) + "\n")
    command = ["lm", "train", "--order", "3", "--smoothing", "kneser_ney", text]
    result = run_asr(*command, tmp_path / "reference.arpa", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    out = tmp_path / "lm" / "killed.arpa"
    out.parent.mkdir()
    proc = subprocess.Popen(asr_command(*command, out), env=asr_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    kill_when(proc, temp_file_larger_than(out.parent, ".killed.arpa*.tmp", 50_000))
    assert not out.exists()
    result = run_asr("lm", "ppl", "--lm", out, text)  # a user trying the file gets a clear error
    assert result.returncode != 0 and "Traceback" not in result.stderr
    result = run_asr(*command, out, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.read_bytes() == (tmp_path / "reference.arpa").read_bytes()


# ------------------------------------------------------------------------------------------ decoding
@pytest.fixture(scope="module")
def tone_decode(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(model dir, data dir of 60 utterances, trigram LM) for the tone model of tests/tone_model.py."""
    from asr.datadir import DataDir, write_data_dir
    from asr.lm import train_ngram, write_arpa
    from tone_model import build_tone_model_dir, spell, synthesize, write_wav

    root = tmp_path_factory.mktemp("decode")
    model = build_tone_model_dir(root / "exp")
    rng = np.random.default_rng(0)
    words = ["ab", "ba", "cd", "dc", "a", "b", "c", "d"]
    texts = {f"s{i % 3}-{i:04d}": " ".join(rng.choice(words, rng.integers(3, 8))) for i in range(60)}
    wavs = {k: str(write_wav(root / f"{k}.wav", synthesize(model, spell(model, t), seed=i)))
            for i, (k, t) in enumerate(texts.items())}
    write_data_dir(root / "data", DataDir(wav_scp=wavs, text=texts, utt2spk={k: k.split("-")[0] for k in texts}))
    write_arpa(train_ngram([t.split() for t in texts.values()], order=3, smoothing="kneser_ney"), root / "lm.arpa")
    return model, root / "data", root / "lm.arpa"


def test_sigkill_during_decoding(tone_decode, tmp_path: Path) -> None:
    model, data, lm = tone_decode
    command = ["decode", "--model", model, "--lm", lm, "--beam-size", "16", data, "--out"]
    result = run_asr(*command, tmp_path / "reference", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = read_kaldi_map(tmp_path / "reference" / "text", is_text=True)
    assert len(expected) == 60

    out = tmp_path / "killed"
    for attempt in ("fresh", "over-a-previous-decode"):
        proc = subprocess.Popen(asr_command(*command, out), env=asr_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        # killed once the progress bar shows 10+ of the 60 utterances decoded
        kill_when(proc, stderr_matches(proc, lambda err: any(f"| {n}/60" in err for n in range(10, 50))))
        proc.stderr.close()
        if attempt == "fresh":
            assert not (out / "text").exists() and not (out / "wer").exists()
        else:  # the previous decode is still whole and still the same
            assert read_kaldi_map(out / "text", is_text=True) == expected
        result = run_asr(*command, out, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        assert read_kaldi_map(out / "text", is_text=True) == expected
        assert (out / "ctm").read_text() == (tmp_path / "reference" / "ctm").read_text()
        assert (out / "wer").read_text() == (tmp_path / "reference" / "wer").read_text()
