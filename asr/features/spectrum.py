"""Power spectrum of processed frames, and Kaldi's compute-spectrogram-feats."""

from __future__ import annotations

import numpy as np

from asr.features.config import SpectrogramOptions
from asr.features.framing import FLOAT32_EPSILON, frame_signal, process_frames


def power_spectrum(buffer: np.ndarray) -> np.ndarray:
    """|rfft|^2 of each zero-padded frame: (frames, padded/2 + 1) float64."""
    spectrum = np.fft.rfft(buffer, axis=1)
    pairs = spectrum.view(np.float64)
    pairs *= pairs
    return pairs[:, 0::2] + pairs[:, 1::2]


def spectrogram_from_signal(signal: np.ndarray, opts: SpectrogramOptions) -> np.ndarray:
    """Kaldi's SpectrogramComputer: log power per FFT bin, bin 0 replaced by the frame's log energy."""
    buffer, log_energy = process_frames(frame_signal(signal, opts), opts, raw_energy=opts.raw_energy,
                                        energy_floor=opts.energy_floor)
    power = power_spectrum(buffer)
    if opts.use_log:
        np.maximum(power, FLOAT32_EPSILON, out=power)
        np.log(power, out=power)
        power[:, 0] = log_energy
    else:
        power[:, 0] = np.exp(log_energy)
    return power
