"""Power spectrum of processed frames, and Kaldi's compute-spectrogram-feats."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from asr.features.config import FrameOptions, SpectrogramOptions
from asr.features.framing import FLOAT32_EPSILON, num_frames, windowed_blocks

# numpy 2 can write the rfft into the reused block; numpy 1.26 (what pip picks beside numpy<2 pins) cannot, and
# copies it there instead: one more (frames, bins) allocation per block.
RFFT_HAS_OUT = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


def squared_part_blocks(signal: np.ndarray, opts: FrameOptions, *, raw_energy: bool | None,
                        energy_floor: float = 0.0) -> Iterator[tuple[slice, np.ndarray, np.ndarray | None]]:
    """Per block of frames: (rows, squared parts, log_energy), see `windowed_blocks` for the energy.

    Squared parts are the rfft's real and imaginary parts squared, interleaved, (frames, 2 * (padded/2 + 1)):
    neighbouring columns sum to the power spectrum, and a mel matmul can do that sum for free. The array is
    reused for the next block.
    """
    spectrum = None
    for rows, buffer, log_energy in windowed_blocks(signal, opts, raw_energy=raw_energy, energy_floor=energy_floor):
        if spectrum is None:
            spectrum = np.empty((len(buffer), buffer.shape[1] // 2 + 1), dtype=np.complex128)
        block = spectrum[:len(buffer)]
        if RFFT_HAS_OUT:
            np.fft.rfft(buffer, axis=1, out=block)
        else:
            block[...] = np.fft.rfft(buffer, axis=1)
        pairs = block.view(np.float64)
        yield rows, np.multiply(pairs, pairs, out=pairs), log_energy


def spectrogram_from_signal(signal: np.ndarray, opts: SpectrogramOptions) -> np.ndarray:
    """Kaldi's SpectrogramComputer: log power per FFT bin, bin 0 replaced by the frame's log energy."""
    out = np.empty((num_frames(len(signal), opts), opts.padded_window_size // 2 + 1))
    for rows, pairs, log_energy in squared_part_blocks(signal, opts, raw_energy=opts.raw_energy,
                                                       energy_floor=opts.energy_floor):
        power = out[rows]
        np.add(pairs[:, 0::2], pairs[:, 1::2], out=power)
        if opts.use_log:
            np.maximum(power, FLOAT32_EPSILON, out=power)
            np.log(power, out=power)
            power[:, 0] = log_energy
        else:
            power[:, 0] = np.exp(log_energy)
    return out
