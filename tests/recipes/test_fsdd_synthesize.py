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

from synthesize_digits import (ACCENTED_WORDS, DIGIT_WORDS, DigitOptions, choose_voices, digit_word,  # noqa: E402
                               synthesize_digits)

sys.path.insert(0, str(REPO / "recipes" / "utils"))
from espeak import Espeak  # noqa: E402


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


def test_accented_voices_are_other_languages_saying_respelled_english_digits(tmp_path: Path) -> None:
    voices = choose_voices(DigitOptions(num_voices=50, accented_voices=20))
    foreign = [v for v in voices if v.split("+")[0] in ACCENTED_WORDS]
    assert len(voices) == 50 and len(foreign) == 20 and len({v.split("+")[0] for v in foreign}) >= 4
    # every respelling is read as one word in the voice's own language: one stressed syllable at most (letters
    # spelled out, "srie" -> ˈɛsrˈiː in German, carry one stress each), and no switch to English phonemes "(en)"
    with Espeak() as espeak:
        for language, words in ACCENTED_WORDS.items():
            assert len(words) == 10
            for digit, word in enumerate(words):
                said = espeak.phonemes(digit_word(f"{language}+m1", digit), f"{language}+m1")
                assert said.count("ˈ") <= 1 and " " not in said and "(" not in said, (language, word, said)
        assert espeak.phonemes("srie", "de").count("ˈ") == 2  # what the check catches
    synthesize_digits(tmp_path / "syn", DigitOptions(num_voices=2, accented_voices=1, per_digit=1))
    prepare_fsdd(tmp_path / "syn", tmp_path / "data")
    assert validate_data_dir(tmp_path / "data") == [] and len(read_data_dir(tmp_path / "data").speakers) == 2
