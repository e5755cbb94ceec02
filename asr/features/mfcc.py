"""Kaldi's compute-mfcc-feats: log mel energies -> DCT-II -> lifter -> energy in place of c0."""

from __future__ import annotations

import functools

import numpy as np

from asr.features.config import MfccOptions
from asr.features.framing import num_frames
from asr.features.mel import log_mel_energies
from asr.features.spectrum import squared_part_blocks


@functools.lru_cache(maxsize=64)
def dct_matrix(num_ceps: int, num_mel_bins: int) -> np.ndarray:
    """Kaldi's ComputeDctMatrix rows 0..num_ceps-1: orthonormal DCT-II, (num_ceps, num_mel_bins)."""
    k = np.arange(num_ceps)[:, None]
    n = np.arange(num_mel_bins)[None, :]
    matrix = np.sqrt(2.0 / num_mel_bins) * np.cos(np.pi / num_mel_bins * (n + 0.5) * k)
    matrix[0] = np.sqrt(1.0 / num_mel_bins)
    matrix.flags.writeable = False
    return matrix


@functools.lru_cache(maxsize=64)
def lifter_coefficients(num_ceps: int, cepstral_lifter: float) -> np.ndarray:
    """Kaldi's ComputeLifterCoeffs: 1 + Q/2 sin(pi i / Q); all ones when Q == 0."""
    if cepstral_lifter == 0.0:
        return np.ones(num_ceps)
    i = np.arange(num_ceps)
    return 1.0 + 0.5 * cepstral_lifter * np.sin(np.pi * i / cepstral_lifter)


@functools.lru_cache(maxsize=64)
def cepstral_transform(num_ceps: int, num_mel_bins: int, cepstral_lifter: float) -> np.ndarray:
    """DCT and lifter in one (num_mel_bins, num_ceps) matrix, so log-mel -> MFCC is one matmul."""
    transform = (dct_matrix(num_ceps, num_mel_bins) * lifter_coefficients(num_ceps, cepstral_lifter)[:, None]).T
    transform = np.ascontiguousarray(transform)
    transform.flags.writeable = False
    return transform


def mfcc_from_signal(signal: np.ndarray, opts: MfccOptions) -> np.ndarray:
    """MFCCs (frames, num_ceps) of a float64 signal in the int16 range."""
    out = np.empty((num_frames(len(signal), opts), opts.num_ceps))
    transform = cepstral_transform(opts.num_ceps, opts.num_mel_bins, opts.cepstral_lifter)
    for rows, pairs, log_energy in squared_part_blocks(signal, opts,
                                                       raw_energy=opts.raw_energy if opts.use_energy else None,
                                                       energy_floor=opts.energy_floor):
        ceps = out[rows]
        np.matmul(log_mel_energies(pairs, opts), transform, out=ceps)
        if opts.use_energy:
            ceps[:, 0] = log_energy
    if opts.htk_compat:
        # HTK order: c1..c(n-1), then c0 (or the energy); Kaldi undoes the DCT's sqrt(1/2) on c0
        c0 = out[:, :1] if opts.use_energy else out[:, :1] * np.sqrt(2.0)
        out = np.concatenate((out[:, 1:], c0), axis=1)
    return out
