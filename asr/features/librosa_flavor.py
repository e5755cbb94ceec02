"""A second flavor reproducing librosa's defaults, for users who feed librosa-based tools.

librosa.feature.melspectrogram (periodic Hann window, frames centered by padding n_fft // 2 zeros,
Slaney mel scale with area-normalized triangles, power 2), power_to_db (10 log10, amin 1e-10, top_db 80
below the utterance's maximum) and librosa.feature.mfcc (orthonormal DCT-II of the dB mel spectrogram,
optional lifter). Computed in float64 (librosa computes in float32). Like the Kaldi flavor the input is
int16-range by default (divided by 32768 here) and `normalized=True` takes [-1, 1] floats; results are
(frames, dims), the transpose of librosa's layout.
"""

from __future__ import annotations

import functools

import numpy as np

from asr.features.config import LibrosaMelOptions, LibrosaMfccOptions
from asr.audio import INT16_SCALE


def hz_to_mel(freq: np.ndarray | float, htk: bool = False) -> np.ndarray:
    """librosa.hz_to_mel: Slaney (linear below 1 kHz, logarithmic above) or HTK (2595 log10(1 + f/700))."""
    freq = np.asarray(freq, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + freq / 700.0)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    logstep = np.log(6.4) / 27.0
    linear = freq / f_sp
    return np.where(freq >= min_log_hz, min_log_hz / f_sp + np.log(np.maximum(freq, min_log_hz) / min_log_hz) / logstep,
                    linear)


def mel_to_hz(mels: np.ndarray | float, htk: bool = False) -> np.ndarray:
    """librosa.mel_to_hz, the inverse of hz_to_mel."""
    mels = np.asarray(mels, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(mels >= min_log_mel, min_log_hz * np.exp(logstep * (mels - min_log_mel)), f_sp * mels)


@functools.lru_cache(maxsize=32)
def librosa_mel_banks(sample_frequency: float, n_fft: int, n_mels: int, fmin: float, fmax: float, htk: bool,
                      norm: str) -> np.ndarray:
    """librosa.filters.mel: (n_mels, n_fft // 2 + 1) triangles between n_mels + 2 mel-spaced edges."""
    fmax = sample_frequency / 2 if fmax <= 0 else fmax
    fft_freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_frequency)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels + 2), htk)
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    banks = np.maximum(0.0, np.minimum(lower, upper))
    if norm == "slaney":
        banks *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    banks.flags.writeable = False
    return banks


@functools.lru_cache(maxsize=32)
def stft_window(window: str, win_length: int, n_fft: int) -> np.ndarray:
    """scipy's periodic window of win_length, zero-padded to n_fft around the centre (librosa's pad_center)."""
    import scipy.signal  # slow to import; only this flavor needs it

    values = scipy.signal.get_window(window, win_length, fftbins=True)
    padded = np.zeros(n_fft)
    left = (n_fft - win_length) // 2
    padded[left:left + win_length] = values
    padded.flags.writeable = False
    return padded


def mel_power(waveform: np.ndarray, opts: LibrosaMelOptions) -> np.ndarray:
    """librosa.feature.melspectrogram transposed: (frames, n_mels) mel power (or magnitude ** power)."""
    import scipy.fft  # slow to import; only this flavor needs it (kept out of `import asr.features`)

    y = np.asarray(waveform, dtype=np.float64).reshape(-1)
    if not opts.normalized:
        y = y / INT16_SCALE
    n_fft, hop = opts.n_fft, opts.hop_length
    if opts.center:
        y = np.pad(y, n_fft // 2, mode=opts.pad_mode)
    if len(y) < n_fft:
        return np.empty((0, opts.n_mels))
    count = 1 + (len(y) - n_fft) // hop
    frames = np.lib.stride_tricks.as_strided(y, (count, n_fft), (hop * y.itemsize, y.itemsize), writeable=False)
    spectrum = scipy.fft.rfft(frames * stft_window(opts.window, opts.win_length or n_fft, n_fft), axis=1)
    magnitude = spectrum.real ** 2 + spectrum.imag ** 2
    if opts.power != 2.0:
        magnitude **= opts.power / 2.0
    banks = librosa_mel_banks(opts.sample_frequency, n_fft, opts.n_mels, opts.fmin, opts.fmax, opts.htk, opts.norm)
    return magnitude @ banks.T


def power_to_db(power: np.ndarray, amin: float = 1e-10, top_db: float = 80.0) -> np.ndarray:
    """librosa.power_to_db with ref=1: 10 log10(max(amin, S)), clipped to top_db below the maximum."""
    db = 10.0 * np.log10(np.maximum(power, amin))
    if top_db > 0 and db.size:
        np.maximum(db, db.max() - top_db, out=db)
    return db


def melspectrogram_from_waveform(waveform: np.ndarray, opts: LibrosaMelOptions) -> np.ndarray:
    """(frames, n_mels): dB mel spectrogram (opts.to_db) or mel power, as librosa computes it."""
    power = mel_power(waveform, opts)
    return power_to_db(power, opts.amin, opts.top_db) if opts.to_db else power


@functools.lru_cache(maxsize=32)
def librosa_cepstral_transform(n_mels: int, n_mfcc: int, lifter: float) -> np.ndarray:
    """(n_mels, n_mfcc): orthonormal DCT-II rows 0..n_mfcc-1, times librosa's lifter 1 + L/2 sin(pi k / L)
    with k counted from 1."""
    k = np.arange(n_mfcc)[:, None]
    n = np.arange(n_mels)[None, :]
    dct = np.sqrt(2.0 / n_mels) * np.cos(np.pi / n_mels * (n + 0.5) * k)
    dct[0] /= np.sqrt(2.0)
    if lifter > 0:
        dct *= (1.0 + lifter / 2.0 * np.sin(np.pi * np.arange(1, n_mfcc + 1) / lifter))[:, None]
    transform = np.ascontiguousarray(dct.T)
    transform.flags.writeable = False
    return transform


def mfcc_from_waveform(waveform: np.ndarray, opts: LibrosaMfccOptions) -> np.ndarray:
    """(frames, n_mfcc): librosa.feature.mfcc of the dB mel spectrogram."""
    transform = librosa_cepstral_transform(opts.n_mels, opts.n_mfcc, opts.lifter)
    return melspectrogram_from_waveform(waveform, opts) @ transform
