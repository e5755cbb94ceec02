"""Frame counts, edge handling, windows and dither of Kaldi's frame extraction."""

from __future__ import annotations

import numpy as np
import pytest

import asr.features as features
from asr.features.config import FbankOptions
from asr.features.framing import feature_window, frame_signal, num_frames


@pytest.mark.parametrize("snip_edges", [True, False])
@pytest.mark.parametrize("length", [0, 1, 79, 80, 199, 200, 201, 279, 280, 281, 999])
def test_frame_counts_match_torchaudio(length, snip_edges, kaldi_reference):
    """Near the frame boundaries at 8 kHz (200-sample frames, 80-sample shift)."""
    wave = np.random.default_rng(length).normal(0, 1000, length)
    ours = features.fbank(wave, 8000, dither=0.0, snip_edges=snip_edges)
    if length < 200:  # torchaudio refuses input shorter than a frame; Kaldi's NumFrames() formula
        assert ours.shape[0] == (0 if snip_edges else (length + 40) // 80)
        return
    reference = kaldi_reference("fbank", wave, 8000, dither=0.0, snip_edges=snip_edges)
    assert ours.shape == reference.shape


def kaldi_position(s: int, n: int) -> int:
    """Kaldi's ExtractWindow: reflect (repeatedly) until the sample index falls inside the wave."""
    while s < 0 or s >= n:
        s = -s - 1 if s < 0 else 2 * n - 1 - s
    return s


@pytest.mark.parametrize("length", [23, 7, 3])
def test_reflected_edges_are_kaldis_positions(length):
    """snip_edges=False: sample s < 0 reads -s-1, s >= n reads 2n-1-s, repeated for very short waves."""
    opts = FbankOptions(sample_frequency=1000, frame_length=10, frame_shift=4, snip_edges=False)
    signal = np.arange(float(length))
    frames = frame_signal(signal, opts)
    assert frames.shape[0] == num_frames(length, opts) == (length + 2) // 4
    for t, frame in enumerate(frames):
        start = t * 4 + 4 // 2 - 10 // 2
        positions = [kaldi_position(s, length) for s in range(start, start + 10)]
        np.testing.assert_array_equal(frame, signal[positions])


def test_windows_follow_kaldis_formulas():
    n = 7
    i = np.arange(n)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * i / (n - 1))
    np.testing.assert_allclose(feature_window("hanning", n), hann)
    np.testing.assert_allclose(feature_window("povey", n), hann ** 0.85)
    np.testing.assert_allclose(feature_window("hamming", n), 0.54 - 0.46 * np.cos(2 * np.pi * i / (n - 1)))
    np.testing.assert_allclose(feature_window("rectangular", n), np.ones(n))
    np.testing.assert_allclose(feature_window("blackman", n, 0.42), np.blackman(n), atol=1e-12)


def test_dither_is_seeded_and_small():
    wave = np.random.default_rng(0).normal(0, 3000, 8000)
    first = features.fbank(wave, 8000, dither=1.0, seed=3)
    np.testing.assert_array_equal(first, features.fbank(wave, 8000, dither=1.0, seed=3))
    assert not np.array_equal(first, features.fbank(wave, 8000, dither=1.0, seed=4))
    clean = features.fbank(wave, 8000, dither=0.0)
    assert 0 < np.abs(first - clean).max() < 0.05


def test_dither_fills_digital_silence():
    """Kaldi's reason for dither: all-zero frames would hit the log floor; dither keeps them finite and varied."""
    silent = np.zeros(4000)
    floored = features.fbank(silent, 8000, dither=0.0)
    assert np.all(floored == np.log(float(np.finfo(np.float32).eps)))
    dithered = features.fbank(silent, 8000, dither=1.0)
    assert np.all(dithered > floored) and dithered.std() > 0


@pytest.mark.parametrize("window_type", ["povey", "hamming", "hanning", "rectangular", "blackman"])
def test_dither_path_is_the_same_pipeline(window_type, fsdd_waves):
    """Dithered frames take a per-frame route; with vanishing dither it must give the undithered features."""
    wave, rate = fsdd_waves[0]
    for snip_edges in (True, False):
        options = {"window_type": window_type, "snip_edges": snip_edges, "use_energy": True}
        clean = features.fbank(wave, rate, dither=0.0, **options)
        np.testing.assert_allclose(features.fbank(wave, rate, dither=1e-9, **options), clean, atol=1e-6)


def test_constant_segments_with_dc_offset_match_kaldi(kaldi_reference):
    """Frames of constant samples have zero energy after DC removal: Kaldi floors their log at float32 eps."""
    wave = np.concatenate([np.full(1000, 1234.0), np.random.default_rng(2).normal(0, 500, 1000) - 20000,
                           np.full(1200, -30000.0)])
    for window_type in ("povey", "hamming"):
        options = {"dither": 0.0, "energy_floor": 0.0, "use_energy": True, "window_type": window_type}
        ours = features.mfcc(wave, 8000, **options)
        reference = kaldi_reference("mfcc", wave, 8000, **options)
        np.testing.assert_allclose(ours[:, 0], reference[:, 0], atol=1e-6)
        assert ours[0, 0] == pytest.approx(np.log(np.finfo(np.float32).eps))


@pytest.mark.parametrize("kind,flavor,options", [("fbank", "kaldi", {}), ("mfcc", "kaldi", {"snip_edges": False}),
                                                 ("fbank", "librosa", {}), ("mfcc", "librosa", {"center": False})])
def test_feature_frames_counts_the_frames_compute_features_gives(kind, flavor, options):
    """What a streamed data set plans its batches with, from a length alone, is what the features hold."""
    opts = features.make_options(kind, {"sample_frequency": 8000, **options}, flavor=flavor)
    rng = np.random.default_rng(0)
    for length in (0, 1, 199, 200, 201, 511, 512, 4000, 4123):
        wave = rng.normal(0.0, 1000.0, length)
        assert features.feature_frames(length, opts) == len(features.compute_features(kind, wave, 8000, opts,
                                                                                     flavor=flavor)), length
