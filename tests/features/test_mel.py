"""Filterbank energies agree with torchaudio.compliance.kaldi.fbank over an option grid."""

from __future__ import annotations

import numpy as np
import pytest

import asr.features as features
from asr.features.mel import inverse_mel_scale, mel_banks, mel_scale

FBANK_GRID = [
    {},
    {"num_mel_bins": 80},
    {"num_mel_bins": 40, "use_energy": True},
    {"use_energy": True, "htk_compat": True},
    {"use_energy": True, "raw_energy": False, "energy_floor": 1.0},
    {"use_power": False},
    {"use_log_fbank": False},
    {"window_type": "hamming", "snip_edges": False},
    {"window_type": "rectangular", "num_mel_bins": 64},
    {"window_type": "blackman"},
    {"window_type": "hanning", "round_to_power_of_two": False},
    {"low_freq": 64.0, "high_freq": 3800.0},
    {"frame_length": 32.0, "frame_shift": 8.0, "snip_edges": False},
    {"preemphasis_coefficient": 0.5, "remove_dc_offset": False},
]


@pytest.mark.parametrize("options", FBANK_GRID, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "defaults")
def test_fbank_matches_torchaudio_kaldi(options, fsdd_waves, synthetic_16k, kaldi_reference,
                                        assert_close_to_reference):
    for wave, rate in fsdd_waves[:2] + synthetic_16k:
        merged = {"dither": 0.0, "energy_floor": 0.0, **options}
        ours = features.fbank(wave, rate, **merged)
        reference = kaldi_reference("fbank", wave, rate, **merged)
        if not merged.get("use_log_fbank", True):  # raw energies reach 1e9: compare relative to their size
            ours, reference = np.log(ours + 1.0), np.log(reference + 1.0)
        assert_close_to_reference(ours, reference)


def test_mel_scale_round_trips_and_matches_kaldi_constants():
    freqs = np.array([0.0, 700.0, 4000.0])
    np.testing.assert_allclose(mel_scale(freqs), 1127.0 * np.log(1 + freqs / 700.0))
    np.testing.assert_allclose(inverse_mel_scale(mel_scale(freqs)), freqs, atol=1e-9)


def test_mel_banks_are_triangles_within_the_band():
    banks = mel_banks(23, 512, 16000.0, 20.0, 0.0)
    assert banks.shape == (23, 257)
    assert np.all(banks >= 0) and np.all(banks <= 1)
    assert np.all(banks[:, -1] == 0)  # Kaldi leaves out the Nyquist bin
    assert banks[:, 0].sum() == 0  # 0 Hz is below low_freq
    peaks = banks.argmax(axis=1)
    assert np.all(np.diff(peaks) > 0)
