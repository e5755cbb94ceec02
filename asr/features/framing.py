"""Kaldi's frame extraction: frame count, edge reflection, dither, DC removal, pre-emphasis, windows.

Every frame is processed at once: the frames are a strided view of the signal (no per-frame Python), and
the processed frames land directly in a zero-padded float64 buffer that the FFT reads. Float64 because the
small mel energies of quiet frames lose digits in float32 (Kaldi-compatible float32 libraries differ from
each other by up to ~6e-3 on log-mel values).
"""

from __future__ import annotations

import functools
from typing import Iterator

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


# Frames per processing block: the block's buffers stay in the CPU cache, which makes the element-wise
# passes several times faster than one pass over a whole long recording.
BLOCK_FRAMES = 256


def frame_signal(signal: np.ndarray, opts: FrameOptions) -> np.ndarray:
    """A read-only (frames, window_size) strided view of `signal` (any real dtype, no copy), reflected at
    the edges when snip_edges is false: exactly Kaldi's ExtractWindow sample positions."""
    size, shift = opts.window_size, opts.window_shift
    count = num_frames(len(signal), opts)
    if count == 0:
        return np.empty((0, size), dtype=signal.dtype)
    if not opts.snip_edges:
        # frame t starts at t*shift + shift//2 - size//2; Kaldi reflects (s < 0 -> -s-1, s >= n -> 2n-1-s)
        left = size // 2 - shift // 2
        right = max(0, (count - 1) * shift - left + size - len(signal))
        if left >= 0:
            signal = np.pad(signal, (left, right), mode="symmetric")
        else:
            signal = np.pad(signal[-left:], (0, right), mode="symmetric")
    signal = np.ascontiguousarray(signal)
    step = signal.itemsize
    return np.ndarray((count, size), signal.dtype, signal, 0, (shift * step, step))


def windowed_blocks(signal: np.ndarray, opts: FrameOptions, *, raw_energy: bool | None,
                    energy_floor: float = 0.0) -> Iterator[tuple[slice, np.ndarray, np.ndarray | None]]:
    """Kaldi's ProcessWindow on every frame, in blocks: dither, DC removal, raw log-energy, pre-emphasis,
    window.

    Yields (rows, buffer, log_energy): buffer is (frames in block, padded_window_size) float64, zero-padded
    after the window, ready for a real FFT; log_energy is None when `raw_energy` is None (no energy wanted),
    the energy before pre-emphasis and window when True, the windowed frame's energy when False. Buffers
    are reused between blocks (fresh large allocations cost page faults): consume each before the next.
    """
    frames = frame_signal(signal, opts)
    count, size = frames.shape
    if count == 0:
        return
    window = feature_window(opts.window_type, size, opts.blackman_coeff)
    coeff = opts.preemphasis_coefficient
    rng = np.random.default_rng(opts.seed) if opts.dither != 0.0 else None
    block = min(count, BLOCK_FRAMES)
    buffer = np.zeros((block, opts.padded_window_size))
    centered = np.empty((block, size))
    means = np.empty((block, 1))
    for start in range(0, count, block):
        stop = min(start + block, count)
        n = stop - start
        view, body, work = frames[start:stop], buffer[:n, :size], centered[:n]
        if rng is not None:
            rng.standard_normal(out=work)
            work *= opts.dither
            work += view
            view = work
        if opts.remove_dc_offset:
            np.add.reduce(view, axis=1, dtype=np.float64, out=means[:n, 0])
            means[:n] *= 1.0 / size
            np.subtract(view, means[:n], out=work)
            view = work
        log_energy = _log_energy(view, energy_floor) if raw_energy else None
        if coeff != 0.0:
            # x[i] -= coeff * x[i-1], and x[0] -= coeff * x[0]
            np.multiply(view[:, :-1], -coeff, out=body[:, 1:])
            body[:, 1:] += view[:, 1:]
            np.multiply(view[:, 0], 1.0 - coeff, out=body[:, 0])
            body *= window
        else:
            np.multiply(view, window, out=body)
        if raw_energy is False:
            log_energy = _log_energy(body, energy_floor)
        yield slice(start, stop), buffer[:n], log_energy


def _log_energy(frames: np.ndarray, energy_floor: float) -> np.ndarray:
    """log(max(sum of squares, float32 eps)), floored at log(energy_floor) when that is positive."""
    energy = np.einsum("ij,ij->i", frames, frames, dtype=np.float64)
    np.maximum(energy, FLOAT32_EPSILON, out=energy)
    np.log(energy, out=energy)
    if energy_floor > 0.0:
        np.maximum(energy, np.log(energy_floor), out=energy)
    return energy


def to_signal(waveform: np.ndarray, opts: FrameOptions) -> np.ndarray:
    """The waveform as a 1-D real array in Kaldi's int16 range (scaled from [-1, 1] when opts.normalized).

    Any real dtype is kept as is (no copy): each block is converted to float64 as it is processed.
    """
    signal = np.asarray(waveform)
    if signal.ndim == 2 and 1 in signal.shape:
        signal = signal.reshape(-1)
    if signal.ndim != 1:
        raise ValueError(f"waveform must be 1-D (one channel), got shape {signal.shape}")
    if not np.issubdtype(signal.dtype, np.floating) and not np.issubdtype(signal.dtype, np.integer):
        raise ValueError(f"waveform must be real numbers, got dtype {signal.dtype}")
    return signal * INT16_SCALE if opts.normalized else signal
