"""Kaldi-compatible speech features in numpy: MFCC, fbank, spectrogram, CMVN, deltas.

The API mirrors `torchaudio.compliance.kaldi`: `mfcc(waveform, sample_frequency=16000, **options)` with
Kaldi's option names (underscored) and Kaldi's defaults (note: Kaldi's `dither` default is 1.0, seeded by
`seed`; pass `dither=0` for deterministic, noise-free features). The waveform is 1-D float in the int16
range ([-32768, 32767], Kaldi's convention); pass `normalized=True` for float input in [-1, 1].
Results are (frames, dims) float64 arrays.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from asr.features.cmvn import apply_cmvn, compute_cmvn_stats
from asr.features.config import (FbankOptions, FrameOptions, MfccOptions, SpectrogramOptions, make_options,
                                 options_dict)
from asr.features.deltas import add_deltas
from asr.features.framing import to_signal
from asr.features.mel import fbank_from_signal
from asr.features.mfcc import mfcc_from_signal
from asr.features.spectrum import spectrogram_from_signal

__all__ = ["mfcc", "fbank", "spectrogram", "compute_features", "compute_cmvn_stats", "apply_cmvn", "add_deltas",
           "FrameOptions", "FbankOptions", "MfccOptions", "SpectrogramOptions", "make_options", "options_dict",
           "feature_dim"]

_COMPUTERS: dict[str, Callable[[np.ndarray, Any], np.ndarray]] = {
    "mfcc": mfcc_from_signal,
    "fbank": fbank_from_signal,
    "spectrogram": spectrogram_from_signal,
}
# (kind, sample_frequency, sorted options) -> validated options; many short files share one option set,
# so each call after the first skips building and validating the dataclass.
_OPTIONS_CACHE: dict[tuple, FrameOptions] = {}


def _options(kind: str, sample_frequency: float, options: Mapping[str, Any]) -> FrameOptions:
    try:
        key = (kind, sample_frequency, tuple(sorted(options.items())))
        return _OPTIONS_CACHE[key]
    except KeyError:
        pass
    except TypeError:  # unhashable option value: build without caching
        return make_options(kind, {**options, "sample_frequency": sample_frequency})
    if len(_OPTIONS_CACHE) > 256:
        _OPTIONS_CACHE.clear()
    opts = _OPTIONS_CACHE[key] = make_options(kind, {**options, "sample_frequency": sample_frequency})
    return opts


def compute_features(kind: str, waveform: np.ndarray, sample_frequency: float = 16000.0,
                     options: Mapping[str, Any] | FrameOptions | None = None) -> np.ndarray:
    """Features of `kind` ("mfcc", "fbank", "spectrogram") for one waveform; options as a dict or dataclass."""
    if isinstance(options, FrameOptions):
        opts = options
        if opts.sample_frequency != sample_frequency:
            opts = make_options(kind, {**options_dict(opts), "sample_frequency": sample_frequency})
    else:
        opts = _options(kind, float(sample_frequency), options or {})
    return _COMPUTERS[kind](to_signal(waveform, opts), opts)


def mfcc(waveform: np.ndarray, sample_frequency: float = 16000.0, **options: Any) -> np.ndarray:
    """Kaldi MFCCs (frames, num_ceps); options as in compute-mfcc-feats (`num_ceps=13`, `use_energy=True`, ...)."""
    opts = _options("mfcc", float(sample_frequency), options)
    return mfcc_from_signal(to_signal(waveform, opts), opts)


def fbank(waveform: np.ndarray, sample_frequency: float = 16000.0, **options: Any) -> np.ndarray:
    """Kaldi log-mel filterbank energies (frames, num_mel_bins [+1 with use_energy]), as compute-fbank-feats."""
    opts = _options("fbank", float(sample_frequency), options)
    return fbank_from_signal(to_signal(waveform, opts), opts)


def spectrogram(waveform: np.ndarray, sample_frequency: float = 16000.0, **options: Any) -> np.ndarray:
    """Kaldi log power spectrogram (frames, padded_window_size/2 + 1), as compute-spectrogram-feats."""
    opts = _options("spectrogram", float(sample_frequency), options)
    return spectrogram_from_signal(to_signal(waveform, opts), opts)


def feature_dim(opts: FrameOptions) -> int:
    """Columns of the features these options produce (for empty outputs and headers)."""
    if isinstance(opts, MfccOptions):
        return opts.num_ceps
    if isinstance(opts, FbankOptions):
        return opts.num_mel_bins + int(opts.use_energy)
    return opts.padded_window_size // 2 + 1
