"""Kaldi's compute-spectrogram-feats, against torchaudio.compliance.kaldi.spectrogram."""

from __future__ import annotations

import numpy as np
import pytest

import asr.features as features

SPECTROGRAM_GRID = [
    {},
    {"window_type": "hamming", "snip_edges": False},
    {"raw_energy": False, "energy_floor": 1.0},
    {"round_to_power_of_two": False},
]


@pytest.mark.parametrize("options", SPECTROGRAM_GRID, ids=str)
def test_spectrogram_matches_torchaudio_kaldi(options, fsdd_waves, synthetic_16k, kaldi_reference,
                                              assert_close_to_reference):
    for wave, rate in fsdd_waves[:1] + synthetic_16k[:1]:
        merged = {"dither": 0.0, "energy_floor": 0.0, **options}
        assert_close_to_reference(features.spectrogram(wave, rate, **merged),
                                  kaldi_reference("spectrogram", wave, rate, **merged))


def test_power_spectrogram_is_exp_of_log(synthetic_16k):
    wave, rate = synthetic_16k[0]
    log_power = features.spectrogram(wave, rate, dither=0.0)
    power = features.spectrogram(wave, rate, dither=0.0, use_log=False)
    np.testing.assert_allclose(np.log(np.maximum(power, np.finfo(np.float32).eps)), log_power, atol=1e-9)
