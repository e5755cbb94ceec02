"""MFCCs agree with torchaudio.compliance.kaldi (tested by torchaudio against Kaldi) over an option grid."""

from __future__ import annotations

import numpy as np
import pytest

import asr.features as features
from asr.errors import AsrError

# Kaldi's compute-mfcc-feats defaults, spelled out for torchaudio (whose energy_floor/use_energy differ).
KALDI_DEFAULTS = {"dither": 0.0, "energy_floor": 0.0, "use_energy": True}

MFCC_GRID = [
    {},
    {"window_type": "hamming"},
    {"window_type": "hanning", "snip_edges": False},
    {"window_type": "rectangular"},
    {"window_type": "blackman", "blackman_coeff": 0.4},
    {"snip_edges": False},
    {"use_energy": False},
    {"raw_energy": False},
    {"energy_floor": 1.0},
    {"htk_compat": True},
    {"htk_compat": True, "use_energy": False},
    {"num_mel_bins": 40, "num_ceps": 40, "cepstral_lifter": 0.0},
    {"num_mel_bins": 30, "num_ceps": 20, "cepstral_lifter": 30.0},
    {"round_to_power_of_two": False},
    {"preemphasis_coefficient": 0.0, "remove_dc_offset": False},
    {"low_freq": 100.0, "high_freq": -400.0},
    {"frame_length": 20.0, "frame_shift": 5.0, "snip_edges": False},
]


@pytest.mark.parametrize("options", MFCC_GRID, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "defaults")
def test_mfcc_matches_torchaudio_kaldi(options, fsdd_waves, synthetic_16k, kaldi_reference,
                                       assert_close_to_reference):
    for wave, rate in fsdd_waves[:2] + synthetic_16k:
        merged = {**KALDI_DEFAULTS, **options}
        ours = features.mfcc(wave, rate, **merged)
        assert_close_to_reference(ours, kaldi_reference("mfcc", wave, rate, **merged))


def test_mfcc_defaults_are_kaldis(fsdd_waves, kaldi_reference, assert_close_to_reference):
    """Without options (except dither) we compute compute-mfcc-feats' defaults: 23 bins, 13 ceps, energy."""
    wave, rate = fsdd_waves[0]
    ours = features.mfcc(wave, rate, dither=0.0)
    reference = kaldi_reference("mfcc", wave, rate, energy_floor=0.0, use_energy=True, num_mel_bins=23,
                                num_ceps=13, cepstral_lifter=22.0)
    assert_close_to_reference(ours, reference)


def test_input_conventions_agree(fsdd_waves):
    """int16 samples, int16-range floats and [-1, 1] floats with normalized=True give the same MFCCs."""
    wave, rate = fsdd_waves[1]
    as_float = features.mfcc(wave, rate, dither=0.0)
    np.testing.assert_allclose(features.mfcc(wave.astype(np.int16), rate, dither=0.0), as_float, atol=1e-9)
    np.testing.assert_allclose(features.mfcc(wave / 32768.0, rate, dither=0.0, normalized=True), as_float,
                               atol=1e-9)
    # without the flag, [-1, 1] input is a much quieter signal: energies drop by log(32768^2)
    quiet = features.mfcc(wave / 32768.0, rate, dither=0.0)
    assert np.median(as_float[:, 0] - quiet[:, 0]) == pytest.approx(2 * np.log(32768.0), abs=1e-6)


def test_bad_options_name_the_option():
    wave = np.zeros(16000)
    with pytest.raises(AsrError, match="num_cepz"):
        features.mfcc(wave, num_cepz=13)
    with pytest.raises(AsrError, match="window_type"):
        features.mfcc(wave, window_type="kaiser")
    with pytest.raises(AsrError, match="num_ceps"):
        features.mfcc(wave, num_ceps=30)
    with pytest.raises(AsrError, match="high_freq"):
        features.mfcc(wave, 8000, high_freq=5000)


def test_short_input_gives_no_frames():
    """Shorter than one frame: zero rows (snip_edges), like Kaldi; the CLI turns this into an error."""
    assert features.mfcc(np.ones(399), 16000, dither=0.0).shape == (0, 13)
    assert features.mfcc(np.ones(400), 16000, dither=0.0).shape == (1, 13)
