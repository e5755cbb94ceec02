"""Helpers for the importer tests: tiny audio files, and the checks every prepared data directory must pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asr.datadir import read_data_dir, validate_data_dir


def write_audio(path: Path, seconds: float, rate: int = 16000, **kwargs) -> Path:
    """A short noise burst (int16) at `path`; format from the suffix unless given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = np.random.default_rng(len(path.name)).integers(-3000, 3000, int(seconds * rate), dtype=np.int16)
    sf.write(path, samples, rate, **kwargs)
    return path


def check_data_dir(path: Path):
    """The directory passes validation, wav.scp paths are absolute, utt2dur equals the decoded length."""
    assert validate_data_dir(path) == []
    data = read_data_dir(path)
    for utt, audio in data.wav_scp.items():
        assert Path(audio).is_absolute()
        samples, rate = sf.read(audio)
        assert data.utt2dur[utt] == pytest.approx(len(samples) / rate, abs=1e-6)
        assert utt.startswith(data.utt2spk[utt])
    return data
