"""recipes/fsdd/local/synthesize_digits.py: synthetic digits in FSDD's layout, reproducible, read by prepare."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile

from asr.datadir import read_data_dir, validate_data_dir
from asr.prepare.fsdd import prepare_fsdd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "recipes" / "fsdd" / "local"))

from synthesize_digits import DigitOptions, choose_voices, synthesize_digits  # noqa: E402


def test_synthetic_digits_are_fsdd_recordings_of_distinct_voices(tmp_path: Path) -> None:
    options = DigitOptions(num_voices=3, per_digit=2)
    synthesize_digits(tmp_path / "a", options)
    synthesize_digits(tmp_path / "b", options)
    files = sorted((tmp_path / "a" / "recordings").iterdir())
    assert len(files) == 3 * 10 * 2
    assert all((tmp_path / "b" / "recordings" / f.name).read_bytes() == f.read_bytes() for f in files)
    for path in files[::7]:
        wave, rate = soundfile.read(path, dtype="int16")
        assert rate == 8000 and 0.15 < len(wave) / rate < 1.5 and np.abs(wave).max() > 1000
    data = prepare_fsdd(tmp_path / "a", tmp_path / "data")
    assert validate_data_dir(tmp_path / "data") == []
    assert len(read_data_dir(tmp_path / "data").speakers) == 3
    assert sorted(set(data.text.values())) == sorted(["ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN",
                                                      "EIGHT", "NINE"])
    # more voices keep the choice spread over accents, and the same seed chooses the same ones
    voices = choose_voices(DigitOptions(num_voices=40))
    assert voices == choose_voices(DigitOptions(num_voices=40)) and len({v.split("+")[0] for v in voices}) >= 6
