"""Hostile audio through the real `asr features mfcc` command, on plain files (-o out.npy) and through a data
directory: each case either works (and the output is complete) or fails with ONE `asr: error:` line naming the
file and a non-zero exit; never a traceback, never a hang (subprocess timeout). The library-level checks of
asr.audio are in tests/test_audio.py; this is what a user running the CLI sees."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import soundfile as sf

from asr.kaldi_io import read_kaldi_map, read_matrix
from reliability_cli import assert_user_error, run_asr, write_tone

RATE = 8000


def _good_bytes(tmp: Path) -> bytes:
    return write_tone(tmp / "good-source.wav", seconds=0.5, rate=RATE).read_bytes()


def _patched(offset: int, fmt: str, value: int) -> Callable[[Path], bytes]:
    def make(tmp: Path) -> bytes:
        data = bytearray(_good_bytes(tmp))
        data[offset:offset + struct.calcsize(fmt)] = struct.pack(fmt, value)
        return bytes(data)
    return make


def _float_with(bad: float) -> Callable[[Path], bytes]:
    def make(tmp: Path) -> bytes:
        wave = np.random.default_rng(0).normal(0, 0.1, RATE // 2).astype(np.float32)
        wave[123] = bad
        sf.write(tmp / "f.wav", wave, RATE, subtype="FLOAT")
        return (tmp / "f.wav").read_bytes()
    return make


def _soundfile(wave: np.ndarray, rate: int, subtype: str = "PCM_16") -> Callable[[Path], bytes]:
    def make(tmp: Path) -> bytes:
        sf.write(tmp / "s.wav", wave, rate, subtype=subtype)
        return (tmp / "s.wav").read_bytes()
    return make


NOISE = np.random.default_rng(1).normal(0, 0.1, (RATE // 2, 8)).astype(np.float32)

# case -> (bytes of the .wav, extra CLI flags, None if it must work else words the error line must hold)
CASES: dict[str, tuple[Callable[[Path], bytes], list[str], str | None]] = {
    "truncated-header": (lambda tmp: _good_bytes(tmp)[:30], [], "cannot read as audio"),
    "header-only": (lambda tmp: _good_bytes(tmp)[:44], [], "no samples"),
    "zero-length": (lambda tmp: b"", [], "cannot read as audio"),
    "random-bytes": (lambda tmp: np.random.default_rng(7).bytes(4000), [], "cannot read as audio"),
    "unsupported-codec-tag": (_patched(20, "<H", 0x1234), [], "cannot read as audio"),
    "zero-channels": (_patched(22, "<H", 0), [], "cannot read as audio"),
    "single-sample": (_soundfile(np.array([0.1], np.float32), RATE), [], "shorter than one frame"),
    "float-nan": (_float_with(float("nan")), [], "NaN or infinite"),
    "float-inf": (_float_with(float("inf")), [], "NaN or infinite"),
    "float-minus-inf": (_float_with(float("-inf")), [], "NaN or infinite"),
    "eight-channels": (_soundfile(NOISE, RATE), [], "--channel"),
    "eight-channels-channel-out-of-range": (_soundfile(NOISE, RATE), ["--channel", "8"], "channel 8"),
    "eight-channels-with-channel": (_soundfile(NOISE, RATE), ["--channel", "7"], None),
    "sample-rate-1hz": (_soundfile(np.zeros(50, np.float32) + 0.1, 1), [], "1 Hz"),
    "truncated-data": (lambda tmp: _good_bytes(tmp)[:44 + 2 * 3000], [], None),  # read what is there, as Kaldi
    "pcm-8bit": (_soundfile(NOISE[:, 0], RATE, "PCM_U8"), [], None),
    "pcm-24bit": (_soundfile(NOISE[:, 0], RATE, "PCM_24"), [], None),
    "mu-law": (_soundfile(NOISE[:, 0], RATE, "ULAW"), [], None),
}


def _write_case(tmp_path: Path, case: str) -> Path:
    make, _, _ = CASES[case]
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    path = tmp_path / "audio" / f"{case}.wav"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(make(scratch))
    return path


def _data_dir(tmp_path: Path, wav: Path, channels: int = 1) -> Path:
    """A data dir with a good utterance (of `channels` channels) and the case's file (its id sorts after)."""
    data = tmp_path / "data"
    data.mkdir()
    good = tmp_path / "audio" / "a-good.wav"
    if channels == 1:
        write_tone(good, rate=RATE)
    else:
        sf.write(good, NOISE[:, :channels], RATE, subtype="PCM_16")
    (data / "wav.scp").write_text(f"spk-a {good}\nspk-b {wav}\n")
    (data / "utt2spk").write_text("spk-a spk\nspk-b spk\n")
    (data / "text").write_text("spk-a A\nspk-b B\n")
    return data


def _kaldi_frames(samples: int) -> int:
    """Kaldi's frame count with snip_edges at 8 kHz (25 ms window, 10 ms shift)."""
    return 0 if samples < 200 else 1 + (samples - 200) // 80


@pytest.mark.parametrize("case", sorted(CASES))
def test_audio_file(tmp_path: Path, case: str) -> None:
    wav = _write_case(tmp_path, case)
    _, flags, words = CASES[case]
    out = tmp_path / "out.npy"
    result = run_asr("features", "mfcc", wav, "-o", out, "--dither", "0", "--no-progress", *flags)
    if words is None:
        assert result.returncode == 0, result.stderr[-2000:]
        feats = np.load(out)
        samples = sf.info(wav).frames
        assert feats.shape == (_kaldi_frames(samples), 13) and np.isfinite(feats).all()
        return
    assert_user_error(result, wav, words)
    assert not out.exists()


@pytest.mark.parametrize("case", sorted(CASES))
def test_audio_in_a_data_dir(tmp_path: Path, case: str) -> None:
    wav = _write_case(tmp_path, case)
    _, flags, words = CASES[case]
    data = _data_dir(tmp_path, wav, channels=8 if "--channel" in flags else 1)  # --channel applies to every file
    result = run_asr("features", "mfcc", data, "--sample-frequency", RATE, "--dither", "0", "--no-progress",
                     *flags)
    if words is None:
        assert result.returncode == 0, result.stderr[-2000:]
        scp = read_kaldi_map(data / "feats.scp")
        assert sorted(scp) == ["spk-a", "spk-b"]
        assert read_matrix(scp["spk-b"]).shape == (_kaldi_frames(sf.info(wav).frames), 13)
        return
    if case == "sample-rate-1hz":
        words = "sample rate 1 Hz but 8000 Hz expected"
    if case == "eight-channels-channel-out-of-range":  # the (8-channel) good utterance comes first and fails first
        wav = tmp_path / "audio" / "a-good.wav"
    assert_user_error(result, data / "wav.scp", wav, words)
    assert not (data / "feats.scp").exists()  # nothing half-done is left for the next stage to read
    assert not list(data.glob("*.ark"))


def test_skip_errors_keeps_the_good_utterance(tmp_path: Path) -> None:
    """--skip-errors: the bad file is logged (one warning naming it) and the rest is complete."""
    wav = _write_case(tmp_path, "random-bytes")
    data = _data_dir(tmp_path, wav)
    result = run_asr("features", "mfcc", data, "--sample-frequency", RATE, "--skip-errors", "--no-progress")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert str(wav) in result.stderr
    assert sorted(read_kaldi_map(data / "feats.scp")) == ["spk-a"]


def test_a_bad_file_in_one_of_several_jobs_fails_the_run_without_hanging(tmp_path: Path) -> None:
    """--nj 2: the failing job's error reaches the user; the other job's archive is not published."""
    wav = _write_case(tmp_path, "float-nan")
    data = _data_dir(tmp_path, wav)
    result = run_asr("features", "mfcc", data, "--sample-frequency", RATE, "--nj", "2", "--no-progress")
    assert_user_error(result, wav, "NaN")
    assert not (data / "feats.scp").exists() and not list(data.glob("feats*.ark*"))


@pytest.mark.parametrize("case", ["missing-file", "directory", "fifo"])
def test_wav_scp_paths_that_are_not_audio_files(tmp_path: Path, case: str) -> None:
    """A wav.scp path that is missing, a directory, or a FIFO nobody writes to: reading that one blocked forever
    (a stranger's data dir must not hang us; process substitution as a plain CLI argument stays possible)."""
    import os

    target = tmp_path / "not-audio.wav"
    if case == "directory":
        target.mkdir()
    elif case == "fifo":
        os.mkfifo(target)
    data = _data_dir(tmp_path, target)
    result = run_asr("features", "mfcc", data, "--sample-frequency", RATE, "--no-progress", timeout=30)
    assert_user_error(result, target)
    if case != "fifo":
        result = run_asr("features", "mfcc", target, "-o", tmp_path / "x.npy", "--no-progress", timeout=30)
        assert_user_error(result, target)


@pytest.mark.slow
def test_a_two_hour_file_works_in_bounded_time(tmp_path: Path) -> None:
    """2 h at 8 kHz (57.6 M samples, 110 MB): features of the whole file, no error, in a bounded time."""
    seconds = 2 * 3600
    wav = tmp_path / "two-hours.wav"
    with sf.SoundFile(wav, "w", RATE, 1, "PCM_16") as f:
        block = (np.random.default_rng(0).normal(0, 0.05, RATE * 60)).astype(np.float32)
        for _ in range(seconds // 60):
            f.write(block)
    out = tmp_path / "two-hours.npy"
    result = run_asr("features", "mfcc", wav, "-o", out, "--dither", "0", "--no-progress", timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    feats = np.load(out, mmap_mode="r")
    assert feats.shape == (_kaldi_frames(seconds * RATE), 13)
