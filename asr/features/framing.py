"""Kaldi's frame extraction: frame count, edge reflection, dither, DC removal, pre-emphasis, windows.

Every frame is processed at once: the frames are a strided view of the signal (no per-frame Python), and
the processed frames land directly in a zero-padded float64 buffer that the FFT reads. Float64 because the
small mel energies of quiet frames lose digits in float32 (Kaldi-compatible float32 libraries differ from
each other by up to ~6e-3 on log-mel values).
"""

from __future__ import annotations

import functools

import numpy as np

from asr.features.config import FrameOptions

# Kaldi floors energies at float32 epsilon before the log, whatever the computation precision.
FLOAT32_EPSILON = float(np.finfo(np.float32).eps)
INT16_SCALE = 32768.0


def num_frames(num_samples: int, opts: FrameOptions) -> int:
    """Kaldi's NumFrames(): frames that fit (snip_edges) or about num_samples / shift frames (reflected)."""
    size, shift = opts.window_size, opts.window_shift
    if opts.snip_edges:
        return 0 if num_samples < size else 1 + (num_samples - size) // shift
    return (num_samples + shift // 2) // shift


@functools.lru_cache(maxsize=64)
def feature_window(window_type: str, size: int, blackman_coeff: float = 0.42) -> np.ndarray:
    """Kaldi's FeatureWindowFunction (symmetric windows; povey = hanning ** 0.85)."""
    a = 2.0 * np.pi / (size - 1)
    i = np.arange(size, dtype=np.float64)
    if window_type == "hanning":
        window = 0.5 - 0.5 * np.cos(a * i)
    elif window_type == "povey":
        window = (0.5 - 0.5 * np.cos(a * i)) ** 0.85
    elif window_type == "hamming":
        window = 0.54 - 0.46 * np.cos(a * i)
    elif window_type == "rectangular":
        window = np.ones(size)
    elif window_type == "blackman":
        window = blackman_coeff - 0.5 * np.cos(a * i) + (0.5 - blackman_coeff) * np.cos(2 * a * i)
    else:
        raise ValueError(f"unknown window type {window_type!r}")
    window.flags.writeable = False
    return window


def frame_signal(signal: np.ndarray, opts: FrameOptions) -> np.ndarray:
    """A read-only (frames, window_size) strided view of `signal` (float64), reflected at the edges when
    snip_edges is false, exactly Kaldi's ExtractWindow sample positions."""
    size, shift = opts.window_size, opts.window_shift
    count = num_frames(len(signal), opts)
    if count == 0:
        return np.empty((0, size))
    if not opts.snip_edges:
        # frame t starts at t*shift + shift//2 - size//2; Kaldi reflects (s < 0 -> -s-1, s >= n -> 2n-1-s)
        left = size // 2 - shift // 2
        right = max(0, (count - 1) * shift - left + size - len(signal))
        if left >= 0:
            signal = np.pad(signal, (left, right), mode="symmetric")
        else:
            signal = np.pad(signal[-left:], (0, right), mode="symmetric")
    signal = np.ascontiguousarray(signal, dtype=np.float64)
    return np.lib.stride_tricks.as_strided(signal, shape=(count, size),
                                           strides=(shift * signal.itemsize, signal.itemsize), writeable=False)


def process_frames(frames: np.ndarray, opts: FrameOptions, *, raw_energy: bool | None,
                   energy_floor: float = 0.0) -> tuple[np.ndarray, np.ndarray | None]:
    """Kaldi's ProcessWindow on every frame: dither, DC removal, raw log-energy, pre-emphasis, window.

    Returns (buffer, log_energy): buffer is (frames, padded_window_size) float64, zero-padded after the
    window, ready for a real FFT; log_energy is None when `raw_energy` is None (energy not wanted), the raw
    energy (before pre-emphasis and window) when True, the windowed frame's energy when False.
    """
    count, size = frames.shape
    padded = opts.padded_window_size
    if opts.dither != 0.0:
        rng = np.random.default_rng(opts.seed)
        frames = frames + opts.dither * rng.standard_normal(frames.shape)
    if opts.remove_dc_offset:
        frames = frames - frames.mean(axis=1, keepdims=True)
    log_energy = None
    if raw_energy:
        log_energy = _log_energy(frames, energy_floor)
    buffer = np.empty((count, padded))
    body = buffer[:, :size]
    coeff = opts.preemphasis_coefficient
    if coeff != 0.0:
        np.multiply(frames[:, :-1], -coeff, out=body[:, 1:])
        body[:, 1:] += frames[:, 1:]
        np.multiply(frames[:, 0], 1.0 - coeff, out=body[:, 0])
        body *= feature_window(opts.window_type, size, opts.blackman_coeff)
    else:
        np.multiply(frames, feature_window(opts.window_type, size, opts.blackman_coeff), out=body)
    buffer[:, size:] = 0.0
    if raw_energy is False:
        log_energy = _log_energy(body, energy_floor)
    return buffer, log_energy


def _log_energy(frames: np.ndarray, energy_floor: float) -> np.ndarray:
    """log(max(sum of squares, float32 eps)), floored at log(energy_floor) when that is positive."""
    energy = np.einsum("ij,ij->i", frames, frames)
    np.maximum(energy, FLOAT32_EPSILON, out=energy)
    np.log(energy, out=energy)
    if energy_floor > 0.0:
        np.maximum(energy, np.log(energy_floor), out=energy)
    return energy


def to_signal(waveform: np.ndarray, opts: FrameOptions) -> np.ndarray:
    """The waveform as 1-D float64 in Kaldi's int16 range (scaled from [-1, 1] when opts.normalized)."""
    signal = np.asarray(waveform)
    if signal.ndim == 2 and 1 in signal.shape:
        signal = signal.reshape(-1)
    if signal.ndim != 1:
        raise ValueError(f"waveform must be 1-D (one channel), got shape {signal.shape}")
    signal = signal.astype(np.float64, copy=False)
    return signal * INT16_SCALE if opts.normalized else signal
