"""Filterbank energies agree with torchaudio.compliance.kaldi.fbank over an option grid."""

from __future__ import annotations

import numpy as np
import pytest

import asr.features as features
from asr.features.melbanks import inverse_mel_scale, mel_banks, mel_scale, vtln_warp_freq

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
    {"vtln_warp": 0.9},
    {"vtln_warp": 1.12, "vtln_low": 200.0, "vtln_high": -800.0},
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


def test_vtln_warp_moves_the_band_edges_as_kaldi_specifies():
    low, high, vtln_low, vtln_high = 20.0, 4000.0, 100.0, 3500.0
    freqs = np.array([10.0, 20.0, 60.0, 1000.0, 3000.0, 3800.0, 4000.0])
    for warp in (0.9, 1.1):
        warped = vtln_warp_freq(freqs, vtln_low, vtln_high, low, high, warp)
        l, h = vtln_low * max(1.0, warp), vtln_high * min(1.0, warp)
        assert warped[0] == 10.0 and warped[1] == low and warped[-1] == high  # the band's ends stay put
        middle = (freqs > l) & (freqs < h)
        np.testing.assert_allclose(warped[middle], freqs[middle] / warp)  # between the inflection points: f / warp
        assert np.all(np.diff(warped) > 0)  # monotonic, so bins keep their order
    np.testing.assert_array_equal(vtln_warp_freq(freqs, vtln_low, vtln_high, low, high, 1.0), freqs)


def test_vtln_warp_one_is_the_identity_and_other_factors_shift_the_bins():
    plain = mel_banks(40, 256, 8000.0, 20.0, 0.0)
    np.testing.assert_array_equal(mel_banks(40, 256, 8000.0, 20.0, 0.0, 100.0, -500.0, 1.0), plain)
    peaks = {warp: mel_banks(40, 256, 8000.0, 20.0, 0.0, 100.0, -500.0, warp).argmax(axis=1) for warp in (0.9, 1.1)}
    # warp < 1 stretches the spectrum: each bin's centre moves up in frequency (and down for warp > 1)
    assert np.all(peaks[0.9] >= plain.argmax(axis=1)) and np.any(peaks[0.9] > plain.argmax(axis=1))
    assert np.all(peaks[1.1] <= plain.argmax(axis=1)) and np.any(peaks[1.1] < plain.argmax(axis=1))


@pytest.mark.parametrize("options, fix", [({"vtln_warp": 3.0}, "0.5, 2.0"),
                                          ({"vtln_warp": 0.9, "vtln_low": 5000.0}, "vtln_low < vtln_high")])
def test_bad_vtln_options_are_refused_with_the_rule(options, fix):
    from asr.errors import AsrError

    with pytest.raises(AsrError, match=fix):
        features.fbank(np.zeros(8000, dtype=np.float32), 8000, **options)
