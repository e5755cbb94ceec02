"""Kaldi's compute-mfcc-feats: log mel energies -> DCT-II -> lifter -> energy in place of c0."""

from __future__ import annotations

import functools

import numpy as np

from asr.features.config import MfccOptions
from asr.features.framing import frame_signal, process_frames
from asr.features.mel import log_floor, mel_energies
from asr.features.spectrum import power_spectrum


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


def mfcc_from_signal(signal: np.ndarray, opts: MfccOptions) -> np.ndarray:
    """MFCCs (frames, num_ceps) of a float64 signal in the int16 range."""
    buffer, log_energy = process_frames(frame_signal(signal, opts), opts,
                                        raw_energy=opts.raw_energy if opts.use_energy else None,
                                        energy_floor=opts.energy_floor)
    energies = log_floor(mel_energies(power_spectrum(buffer), opts))
    transform = dct_matrix(opts.num_ceps, opts.num_mel_bins) * lifter_coefficients(opts.num_ceps,
                                                                                   opts.cepstral_lifter)[:, None]
    ceps = energies @ transform.T
    if opts.use_energy:
        ceps[:, 0] = log_energy
    if opts.htk_compat:
        c0 = ceps[:, 0] if opts.use_energy else ceps[:, 0] * np.sqrt(2.0)
        ceps = np.concatenate((ceps[:, 1:], c0[:, None]), axis=1)
    return ceps
