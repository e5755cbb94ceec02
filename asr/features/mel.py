"""compute-fbank-feats: log mel energies of the power (or magnitude) spectrum, over `asr.features.melbanks`."""

from __future__ import annotations

import functools

import numpy as np

from asr.features.config import FbankOptions, MelOptions
from asr.features.framing import FLOAT32_EPSILON, num_frames
from asr.features.melbanks import mel_banks
from asr.features.spectrum import squared_part_blocks


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
