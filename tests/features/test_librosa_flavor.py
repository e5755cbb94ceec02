"""The librosa flavor agrees with librosa.feature.melspectrogram/mfcc (librosa computes in float32)."""

from __future__ import annotations

import numpy as np
import pytest

import asr.features as features

librosa = pytest.importorskip("librosa")

GRID = [
    {},
    {"n_fft": 512, "hop_length": 128, "n_mels": 40},
    {"n_fft": 256, "win_length": 200, "hop_length": 80, "n_mels": 23, "htk": True},
    {"n_fft": 512, "n_mels": 64, "fmin": 50.0, "fmax": 3500.0, "center": False},
    {"n_fft": 400, "hop_length": 160, "n_mels": 32, "window": "hamming", "pad_mode": "reflect"},
]


@pytest.mark.parametrize("options", GRID, ids=str)
def test_db_mel_and_mfcc_match_librosa(options, fsdd_waves):
    for wave, rate in fsdd_waves[:2]:
        y = (wave / 32768.0).astype(np.float32)
        reference_mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=rate, **options)).T
        ours_mel = features.librosa_melspectrogram(wave, rate, **options)
        lifter = 22.0 if options else 0.0
        reference_mfcc = librosa.feature.mfcc(y=y, sr=rate, lifter=lifter, **options).T
        ours_mfcc = features.librosa_mfcc(wave, rate, lifter=lifter, **options)
        for ours, reference in ((ours_mel, reference_mel), (ours_mfcc, reference_mfcc)):
            assert ours.shape == reference.shape
            difference = np.abs(ours - reference)
            assert difference.max() <= 1e-2 and difference.mean() <= 1e-4, (difference.max(), difference.mean())


def test_normalized_input_and_librosa_defaults(fsdd_waves):
    wave, rate = fsdd_waves[0]
    ours = features.compute_features("mfcc", wave / 32768.0, rate, {"normalized": True}, flavor="librosa")
    assert ours.shape[1] == 20  # librosa's n_mfcc default
    np.testing.assert_allclose(ours, features.librosa_mfcc(wave, rate), atol=1e-9)
    assert features.librosa_melspectrogram(wave, rate).shape[1] == 128
