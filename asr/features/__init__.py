"""Kaldi-compatible speech features in numpy: MFCC, fbank, spectrogram, CMVN, deltas; and a librosa flavor.

The API mirrors `torchaudio.compliance.kaldi`: `mfcc(waveform, sample_frequency=16000, **options)` with
Kaldi's option names (underscored) and Kaldi's defaults (note: Kaldi's `dither` default is 1.0, seeded by
`seed`; pass `dither=0` for deterministic, noise-free features). The waveform is 1-D, in the int16 range
([-32768, 32767], Kaldi's convention), any real dtype; pass `normalized=True` for floats in [-1, 1].
Results are (frames, dims) float64 arrays.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from asr.features import librosa_flavor
from asr.features.cmvn import accumulate_cmvn_stats, apply_cmvn, compute_cmvn_stats
from asr.features.config import (FbankOptions, FrameOptions, LibrosaMelOptions, LibrosaMfccOptions, MfccOptions,
                                 SpectrogramOptions, make_options, options_dict)
from asr.features.deltas import add_deltas
from asr.features.framing import to_signal
from asr.features.mel import fbank_from_signal
from asr.features.mfcc import mfcc_from_signal
from asr.features.spectrum import spectrogram_from_signal

__all__ = ["mfcc", "fbank", "spectrogram", "librosa_mfcc", "librosa_melspectrogram", "compute_features",
           "compute_cmvn_stats", "accumulate_cmvn_stats", "apply_cmvn", "add_deltas", "feature_dim",
           "FrameOptions", "FbankOptions", "MfccOptions", "SpectrogramOptions", "LibrosaMelOptions",
           "LibrosaMfccOptions", "make_options", "options_dict"]

_KALDI: dict[str, Callable[[np.ndarray, Any], np.ndarray]] = {
    "mfcc": mfcc_from_signal,
    "fbank": fbank_from_signal,
    "spectrogram": spectrogram_from_signal,
}
_LIBROSA: dict[str, Callable[[np.ndarray, Any], np.ndarray]] = {
    "mfcc": librosa_flavor.mfcc_from_waveform,
    "fbank": librosa_flavor.melspectrogram_from_waveform,
}
# (flavor, kind, sample_frequency, sorted options) -> validated options: many short files share one option
# set, so every call after the first skips building and validating the dataclass.
_OPTIONS_CACHE: dict[tuple, Any] = {}


def _options(flavor: str, kind: str, sample_frequency: float, options: Mapping[str, Any]) -> Any:
    overrides = {**options, "sample_frequency": sample_frequency}
    try:
        key = (flavor, kind, sample_frequency, tuple(sorted(options.items())))
        return _OPTIONS_CACHE[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable option value: build without caching
        return make_options(kind, overrides, flavor=flavor)
    if len(_OPTIONS_CACHE) > 256:
        _OPTIONS_CACHE.clear()
    opts = _OPTIONS_CACHE[key] = make_options(kind, overrides, flavor=flavor)
    return opts


def compute_features(kind: str, waveform: np.ndarray, sample_frequency: float = 16000.0,
                     options: Mapping[str, Any] | FrameOptions | LibrosaMelOptions | None = None,
                     flavor: str = "kaldi") -> np.ndarray:
    """Features of `kind` ("mfcc", "fbank", "spectrogram"; librosa flavor: "mfcc", "fbank" = dB mel) for one
    waveform; options as a dict of option names or a built options dataclass."""
    if isinstance(options, (FrameOptions, LibrosaMelOptions)):
        options = options_dict(options)
        options.pop("sample_frequency")
    opts = _options(flavor, kind, float(sample_frequency), options or {})
    if flavor == "librosa":
        return _LIBROSA[kind](waveform, opts)
    return _KALDI[kind](to_signal(waveform, opts), opts)


def mfcc(waveform: np.ndarray, sample_frequency: float = 16000.0, **options: Any) -> np.ndarray:
    """Kaldi MFCCs (frames, num_ceps); options as in compute-mfcc-feats (`num_ceps=13`, `use_energy=True`, ...)."""
    opts = _options("kaldi", "mfcc", float(sample_frequency), options)
    return mfcc_from_signal(to_signal(waveform, opts), opts)


def fbank(waveform: np.ndarray, sample_frequency: float = 16000.0, **options: Any) -> np.ndarray:
    """Kaldi log-mel filterbank energies (frames, num_mel_bins [+1 with use_energy]), as compute-fbank-feats."""
    opts = _options("kaldi", "fbank", float(sample_frequency), options)
    return fbank_from_signal(to_signal(waveform, opts), opts)


def spectrogram(waveform: np.ndarray, sample_frequency: float = 16000.0, **options: Any) -> np.ndarray:
    """Kaldi log power spectrogram (frames, padded_window_size/2 + 1), as compute-spectrogram-feats."""
    opts = _options("kaldi", "spectrogram", float(sample_frequency), options)
    return spectrogram_from_signal(to_signal(waveform, opts), opts)


def librosa_mfcc(waveform: np.ndarray, sample_frequency: float = 22050.0, **options: Any) -> np.ndarray:
    """librosa.feature.mfcc(y, sr, ...) transposed to (frames, n_mfcc), with librosa's parameter names."""
    return compute_features("mfcc", waveform, sample_frequency, options, flavor="librosa")


def librosa_melspectrogram(waveform: np.ndarray, sample_frequency: float = 22050.0, **options: Any) -> np.ndarray:
    """power_to_db(librosa.feature.melspectrogram(y, sr, ...)) transposed to (frames, n_mels)."""
    return compute_features("fbank", waveform, sample_frequency, options, flavor="librosa")


def feature_frames(num_samples: int, opts: Any) -> int:
    """Frames the features of `num_samples` samples have under these options (without computing them)."""
    if isinstance(opts, LibrosaMelOptions):
        padded = num_samples + 2 * (opts.n_fft // 2) * opts.center
        return 0 if padded < opts.n_fft else 1 + (padded - opts.n_fft) // opts.hop_length
    from asr.features.framing import num_frames

    return num_frames(num_samples, opts)


def feature_dim(opts: Any) -> int:
    """Columns of the features these options produce."""
    if isinstance(opts, LibrosaMfccOptions):
        return opts.n_mfcc
    if isinstance(opts, LibrosaMelOptions):
        return opts.n_mels
    if isinstance(opts, MfccOptions):
        return opts.num_ceps
    if isinstance(opts, FbankOptions):
        return opts.num_mel_bins + int(opts.use_energy)
    return opts.padded_window_size // 2 + 1

