"""Mel scale, Kaldi's triangular mel banks, and compute-fbank-feats."""

from __future__ import annotations

import functools

import numpy as np

from asr.features.config import FbankOptions, MelOptions
from asr.features.framing import FLOAT32_EPSILON, num_frames
from asr.features.spectrum import squared_part_blocks


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


@functools.lru_cache(maxsize=256)
def interleaved_mel_banks(num_bins: int, padded_window_size: int, sample_frequency: float, low_freq: float,
                          high_freq: float, vtln_low: float = 100.0, vtln_high: float = -500.0,
                          vtln_warp: float = 1.0) -> np.ndarray:
    """Transposed mel banks with every row doubled, (2 * (padded/2 + 1), num_bins): multiplying the squared
    real and imaginary parts (`squared_parts`) by it sums them into power and applies the banks in one matmul."""
    banks = np.repeat(mel_banks(num_bins, padded_window_size, sample_frequency, low_freq, high_freq, vtln_low,
                                vtln_high, vtln_warp).T, 2, axis=0)
    banks.flags.writeable = False
    return banks


def log_mel_energies(pairs: np.ndarray, opts: MelOptions, *, use_power: bool = True,
                     use_log: bool = True) -> np.ndarray:
    """(Log) mel filterbank energies (frames, num_mel_bins) of a block of squared rfft parts."""
    bank_args = (opts.num_mel_bins, opts.padded_window_size, opts.sample_frequency, opts.low_freq, opts.high_freq,
                 opts.vtln_low, opts.vtln_high, opts.vtln_warp)
    if use_power:
        energies = pairs @ interleaved_mel_banks(*bank_args)
    else:
        magnitude = np.sqrt(pairs[:, 0::2] + pairs[:, 1::2])
        energies = magnitude @ mel_banks(*bank_args).T
    if use_log:
        np.maximum(energies, FLOAT32_EPSILON, out=energies)
        np.log(energies, out=energies)
    return energies


def fbank_from_signal(signal: np.ndarray, opts: FbankOptions) -> np.ndarray:
    """Kaldi's FbankComputer: (log) mel energies, the log energy first (htk_compat: last) if use_energy."""
    bins = opts.num_mel_bins
    out = np.empty((num_frames(len(signal), opts), bins + int(opts.use_energy)))
    mel_columns = slice(1, bins + 1) if opts.use_energy and not opts.htk_compat else slice(0, bins)
    energy_column = bins if opts.htk_compat else 0
    for rows, pairs, log_energy in squared_part_blocks(signal, opts,
                                                       raw_energy=opts.raw_energy if opts.use_energy else None,
                                                       energy_floor=opts.energy_floor):
        out[rows, mel_columns] = log_mel_energies(pairs, opts, use_power=opts.use_power,
                                                  use_log=opts.use_log_fbank)
        if opts.use_energy:
            out[rows, energy_column] = log_energy
    return out
