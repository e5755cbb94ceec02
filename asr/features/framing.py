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

from asr.audio import INT16_SCALE
from asr.features.config import FrameOptions

# Kaldi floors energies at float32 epsilon before the log, whatever the computation precision.
FLOAT32_EPSILON = float(np.finfo(np.float32).eps)


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


def framed_signal(signal: np.ndarray, opts: FrameOptions) -> tuple[np.ndarray, int]:
    """(contiguous 1-D samples, frame count) such that frame t is samples [t*shift, t*shift + window_size):
    the signal itself (snip_edges) or the signal reflected at both edges exactly like Kaldi's ExtractWindow."""
    size, shift = opts.window_size, opts.window_shift
    count = num_frames(len(signal), opts)
    if count and not opts.snip_edges:
        # frame t starts at t*shift + shift//2 - size//2; Kaldi reflects (s < 0 -> -s-1, s >= n -> 2n-1-s)
        left = size // 2 - shift // 2
        right = max(0, (count - 1) * shift - left + size - len(signal))
        if left >= 0:
            signal = np.pad(signal, (left, right), mode="symmetric")
        else:
            signal = np.pad(signal[-left:], (0, right), mode="symmetric")
    return np.ascontiguousarray(signal), count


def strided_frames(samples: np.ndarray, first: int, count: int, size: int, shift: int) -> np.ndarray:
    """A read-only (count, size) view of contiguous `samples`, frame t starting at sample first + t*shift."""
    step = samples.itemsize
    view = np.ndarray((count, size), samples.dtype, samples, first * step, (shift * step, step))
    view.flags.writeable = False
    return view


def frame_signal(signal: np.ndarray, opts: FrameOptions) -> np.ndarray:
    """All frames as a (frames, window_size) strided view (no copy), Kaldi's sample positions."""
    samples, count = framed_signal(signal, opts)
    return strided_frames(samples, 0, count, opts.window_size, opts.window_shift)


def windowed_blocks(signal: np.ndarray, opts: FrameOptions, *, raw_energy: bool | None,
                    energy_floor: float = 0.0) -> Iterator[tuple[slice, np.ndarray, np.ndarray | None]]:
    """Kaldi's ProcessWindow on every frame, in blocks: dither, DC removal, raw log-energy, pre-emphasis,
    window.

    Yields (rows, buffer, log_energy): buffer is (frames in block, padded_window_size) float64, zero-padded
    after the window, ready for a real FFT; log_energy is None when `raw_energy` is None (no energy wanted),
    the energy before pre-emphasis and window when True, the windowed frame's energy when False. Buffers
    are reused between blocks (fresh large allocations cost page faults): consume each before the next.

    Without dither, pre-emphasis runs once over each block's stretch of signal rather than once per frame
    (frames overlap 2.5x): within a frame, (x[i] - m) - c (x[i-1] - m) = q[i] - (1 - c) m with
    q = x[i] - c x[i-1] of the signal, so DC removal becomes one subtraction. Only the first sample of each
    frame differs (Kaldi: x[0] -= c x[0]); it is fixed after windowing, where a window that is zero there
    (povey, hanning) needs no fix.
    """
    samples, count = framed_signal(signal, opts)
    if count == 0:
        return
    size, shift = opts.window_size, opts.window_shift
    window = feature_window(opts.window_type, size, opts.blackman_coeff)
    coeff = opts.preemphasis_coefficient
    rng = np.random.default_rng(opts.seed) if opts.dither != 0.0 else None
    block = min(count, BLOCK_FRAMES)
    buffer = np.zeros((block, opts.padded_window_size))
    # pre-emphasized samples: a block's stretch of signal, or (dither) a block of frames
    emphasized = np.empty((block, size)) if rng is not None else np.empty((block - 1) * shift + size)
    offsets = np.empty((block, 1))
    for start in range(0, count, block):
        stop = min(start + block, count)
        n = stop - start
        frames, body = strided_frames(samples, start * shift, n, size, shift), buffer[:n, :size]
        if rng is not None:
            noisy = rng.standard_normal((n, size))
            noisy *= opts.dither
            noisy += frames
            frames = noisy
            rows = emphasized[:n]
            np.multiply(frames[:, :-1], -coeff, out=rows[:, 1:])
            rows[:, 1:] += frames[:, 1:]
            np.multiply(frames[:, 0], 1.0 - coeff, out=rows[:, 0])
        else:
            stretch = samples[start * shift:(stop - 1) * shift + size]
            run = emphasized[:len(stretch)]
            np.multiply(stretch[:-1], -coeff, out=run[1:])
            run[1:] += stretch[1:]
            run[0] = (1.0 - coeff) * stretch[0]
            rows = strided_frames(run, 0, n, size, shift)
        means = None
        if opts.remove_dc_offset:
            means = offsets[:n]
            np.add.reduce(frames, axis=1, dtype=np.float64, out=means[:, 0])
            means *= 1.0 / size
        log_energy = None
        if raw_energy:
            energy = np.einsum("ij,ij->i", frames, frames, dtype=np.float64)
            if means is not None:  # sum (x - m)^2 = sum x^2 - n m^2, exact for integer samples
                energy -= size * means[:, 0] ** 2
            log_energy = _log_energy(energy, energy_floor)
        if means is not None:
            np.subtract(rows, means * (1.0 - coeff), out=body)
            body *= window
        else:
            np.multiply(rows, window, out=body)
        if rng is None and window[0] != 0.0:
            first = frames[:, 0] if means is None else frames[:, 0] - means[:, 0]
            body[:, 0] = window[0] * (1.0 - coeff) * first
        if raw_energy is False:
            log_energy = _log_energy(np.einsum("ij,ij->i", body, body), energy_floor)
        yield slice(start, stop), buffer[:n], log_energy


def _log_energy(energy: np.ndarray, energy_floor: float) -> np.ndarray:
    """In place: log(max(energy, float32 eps)), floored at log(energy_floor) when that is positive."""
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
    if signal.dtype.kind not in "fiu":
        raise ValueError(f"waveform must be real numbers, got dtype {signal.dtype}")
    return signal * INT16_SCALE if opts.normalized else signal
