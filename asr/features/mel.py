"""Mel scale, Kaldi's triangular mel banks, and compute-fbank-feats."""

from __future__ import annotations

import functools

import numpy as np

from asr.features.config import FbankOptions, MelOptions
from asr.features.framing import FLOAT32_EPSILON, frame_signal, process_frames
from asr.features.spectrum import power_spectrum


def mel_scale(freq: np.ndarray | float) -> np.ndarray | float:
    """Kaldi/HTK mel scale: 1127 ln(1 + f / 700)."""
    return 1127.0 * np.log1p(np.asarray(freq, dtype=np.float64) / 700.0)


def inverse_mel_scale(mel: np.ndarray | float) -> np.ndarray | float:
    """Hz of a mel value (inverse of mel_scale)."""
    return 700.0 * np.expm1(np.asarray(mel, dtype=np.float64) / 1127.0)


@functools.lru_cache(maxsize=64)
def mel_banks(num_bins: int, padded_window_size: int, sample_frequency: float, low_freq: float,
              high_freq: float) -> np.ndarray:
    """Kaldi's MelBanks as a (num_bins, padded/2 + 1) matrix over the rfft bins (Nyquist column zero).

    Bins are triangles equally spaced in mel between low_freq and high_freq (<= 0: offset from Nyquist).
    """
    nyquist = 0.5 * sample_frequency
    if high_freq <= 0.0:
        high_freq += nyquist
    mel_low, mel_high = mel_scale(low_freq), mel_scale(high_freq)
    delta = (mel_high - mel_low) / (num_bins + 1)
    left = mel_low + delta * np.arange(num_bins)[:, None]
    center, right = left + delta, left + 2 * delta
    mel = mel_scale(sample_frequency / padded_window_size * np.arange(padded_window_size // 2))[None, :]
    up = (mel - left) / (center - left)
    down = (right - mel) / (right - center)
    banks = np.zeros((num_bins, padded_window_size // 2 + 1))
    banks[:, :-1] = np.maximum(0.0, np.minimum(up, down))
    banks.flags.writeable = False
    return banks


def mel_energies(power: np.ndarray, opts: MelOptions) -> np.ndarray:
    """Mel filterbank energies (frames, num_mel_bins) of a power (or magnitude) spectrum."""
    banks = mel_banks(opts.num_mel_bins, opts.padded_window_size, opts.sample_frequency, opts.low_freq,
                      opts.high_freq)
    return power @ banks.T


def log_floor(values: np.ndarray) -> np.ndarray:
    """In place: log(max(values, float32 eps)), Kaldi's guard against log(0)."""
    np.maximum(values, FLOAT32_EPSILON, out=values)
    return np.log(values, out=values)


def fbank_from_signal(signal: np.ndarray, opts: FbankOptions) -> np.ndarray:
    """Kaldi's FbankComputer: (log) mel energies, the log energy first (htk_compat: last) if use_energy."""
    buffer, log_energy = process_frames(frame_signal(signal, opts), opts,
                                        raw_energy=opts.raw_energy if opts.use_energy else None,
                                        energy_floor=opts.energy_floor)
    spectrum = power_spectrum(buffer)
    if not opts.use_power:
        np.sqrt(spectrum, out=spectrum)
    energies = mel_energies(spectrum, opts)
    if opts.use_log_fbank:
        log_floor(energies)
    if not opts.use_energy:
        return energies
    columns = (energies, log_energy[:, None]) if opts.htk_compat else (log_energy[:, None], energies)
    return np.concatenate(columns, axis=1)
