"""The mel scale, Kaldi's VTLN warp and Kaldi's triangular mel banks: pure geometry over the rfft bins, with no
options object (so that the options can check their banks without an import cycle)."""

from __future__ import annotations

import functools

import numpy as np


def mel_scale(freq: np.ndarray | float) -> np.ndarray | float:
    """Kaldi/HTK mel scale: 1127 ln(1 + f / 700)."""
    return 1127.0 * np.log1p(np.asarray(freq, dtype=np.float64) / 700.0)


def inverse_mel_scale(mel: np.ndarray | float) -> np.ndarray | float:
    """Hz of a mel value (inverse of mel_scale)."""
    return 700.0 * np.expm1(np.asarray(mel, dtype=np.float64) / 1127.0)


def vtln_warp_freq(freq: np.ndarray, vtln_low: float, vtln_high: float, low_freq: float, high_freq: float,
                   warp: float) -> np.ndarray:
    """Kaldi's MelBanks::VtlnWarpFreq: the piecewise-linear frequency warp of VTLN (and of VTLP augmentation,
    Jaitly & Hinton 2013). Between the inflection points l = vtln_low * max(1, warp) and
    h = vtln_high * min(1, warp) a frequency is divided by `warp`; below and above, lines join that segment to
    low_freq and high_freq, which stay fixed (so does everything outside them)."""
    freq = np.asarray(freq, dtype=np.float64)
    l, h = vtln_low * max(1.0, warp), vtln_high * min(1.0, warp)
    scale = 1.0 / warp
    lower = low_freq + (scale * l - low_freq) / (l - low_freq) * (freq - low_freq)
    upper = high_freq + (high_freq - scale * h) / (high_freq - h) * (freq - high_freq)
    warped = np.where(freq < l, lower, np.where(freq < h, scale * freq, upper))
    return np.where((freq < low_freq) | (freq > high_freq), freq, warped)


@functools.lru_cache(maxsize=256)
def mel_banks(num_bins: int, padded_window_size: int, sample_frequency: float, low_freq: float,
              high_freq: float, vtln_low: float = 100.0, vtln_high: float = -500.0,
              vtln_warp: float = 1.0) -> np.ndarray:
    """Kaldi's MelBanks as a (num_bins, padded/2 + 1) matrix over the rfft bins (Nyquist column zero).

    Bins are triangles equally spaced in mel between low_freq and high_freq (<= 0: offset from Nyquist); with
    vtln_warp != 1 their corners move by `vtln_warp_freq` (vtln_high <= 0: offset from Nyquist).
    """
    nyquist = 0.5 * sample_frequency
    if high_freq <= 0.0:
        high_freq += nyquist
    if vtln_high < 0.0:
        vtln_high += nyquist
    mel_low, mel_high = mel_scale(low_freq), mel_scale(high_freq)
    delta = (mel_high - mel_low) / (num_bins + 1)
    left = mel_low + delta * np.arange(num_bins)[:, None]
    center, right = left + delta, left + 2 * delta
    if vtln_warp != 1.0:
        left, center, right = (mel_scale(vtln_warp_freq(inverse_mel_scale(m), vtln_low, vtln_high, low_freq,
                                                        high_freq, vtln_warp)) for m in (left, center, right))
    mel = mel_scale(sample_frequency / padded_window_size * np.arange(padded_window_size // 2))[None, :]
    up = (mel - left) / (center - left)
    down = (right - mel) / (right - center)
    banks = np.zeros((num_bins, padded_window_size // 2 + 1))
    banks[:, :-1] = np.maximum(0.0, np.minimum(up, down))
    banks.flags.writeable = False
    return banks
