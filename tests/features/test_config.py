"""Feature options: Kaldi names and defaults, the shipped conf files, and errors that name the option."""

from __future__ import annotations

from pathlib import Path

import pytest

from asr.errors import AsrError
from asr.features.config import FbankOptions, MfccOptions, make_options, options_dict

CONF = Path(__file__).resolve().parents[2] / "conf"


def test_defaults_are_kaldis():
    """compute-mfcc-feats / compute-fbank-feats defaults (feature-window.h, feature-mfcc.h, feature-fbank.h)."""
    mfcc = MfccOptions()
    assert (mfcc.sample_frequency, mfcc.frame_length, mfcc.frame_shift, mfcc.dither) == (16000, 25, 10, 1.0)
    assert (mfcc.preemphasis_coefficient, mfcc.window_type, mfcc.blackman_coeff) == (0.97, "povey", 0.42)
    assert mfcc.remove_dc_offset and mfcc.round_to_power_of_two and mfcc.snip_edges and mfcc.raw_energy
    assert (mfcc.num_mel_bins, mfcc.num_ceps, mfcc.cepstral_lifter) == (23, 13, 22)
    assert (mfcc.low_freq, mfcc.high_freq) == (20, 0)
    assert mfcc.use_energy and not mfcc.htk_compat and mfcc.energy_floor == 0
    fbank = FbankOptions()
    assert fbank.use_log_fbank and fbank.use_power and not fbank.use_energy and fbank.num_mel_bins == 23
    assert (mfcc.window_size, mfcc.window_shift, mfcc.padded_window_size) == (400, 160, 512)


def test_shipped_confs_load_as_kaldi_recipes_use_them():
    assert make_options("mfcc", path=CONF / "mfcc.conf") == MfccOptions(use_energy=False)
    assert make_options("fbank", path=CONF / "fbank.conf") == FbankOptions(num_mel_bins=80)


def test_kaldi_conf_yaml_and_overrides(tmp_path):
    (tmp_path / "a.conf").write_text("--num-ceps=20  # more ceps\n--num-mel-bins=40\n--snip-edges=false\n")
    (tmp_path / "a.yaml").write_text("num-ceps: 20\nnum_mel_bins: 40\nsnip_edges: false\n")
    from_conf = make_options("mfcc", path=tmp_path / "a.conf")
    assert from_conf == make_options("mfcc", path=tmp_path / "a.yaml")
    assert (from_conf.num_ceps, from_conf.num_mel_bins, from_conf.snip_edges) == (20, 40, False)
    assert make_options("mfcc", {"num_ceps": 12}, path=tmp_path / "a.conf").num_ceps == 12  # flags win
    # a dumped option set rebuilds the same options (model directories store them this way)
    assert make_options("mfcc", options_dict(from_conf)) == from_conf


@pytest.mark.parametrize("kind,options,named", [
    ("mfcc", {"num_cepz": 13}, "num_cepz"),
    ("mfcc", {"window_type": "kaiser"}, "window_type"),
    ("mfcc", {"num_ceps": 24}, "num_ceps"),
    ("fbank", {"high_freq": 9000}, "high_freq"),
    ("fbank", {"num_mel_bins": 200}, "num_mel_bins"),
    ("fbank", {"frame_length": 0.01}, "frame_length"),
    ("spectrogram", {"dither": -1}, "dither"),
    ("fbank", {"use_power": "maybe"}, "use_power"),
])
def test_bad_options_are_user_errors_naming_the_option(kind, options, named):
    with pytest.raises(AsrError, match=named):
        make_options(kind, options)


def test_librosa_flavor_options():
    opts = make_options("mfcc", {"n_mfcc": 13}, flavor="librosa")
    assert (opts.sample_frequency, opts.n_fft, opts.hop_length, opts.n_mels, opts.n_mfcc) == (22050, 2048, 512, 128, 13)
    with pytest.raises(AsrError, match="flavor"):
        make_options("mfcc", flavor="torch")
    with pytest.raises(AsrError, match="spectrogram"):
        make_options("spectrogram", flavor="librosa")
