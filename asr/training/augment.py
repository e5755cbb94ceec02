"""Waveform augmentation for training: additive noise at a random SNR and synthetic reverberation.

Noise comes from the recordings of a user's noise `wav.scp` (MUSAN-style: a random stretch of a random recording,
looped when shorter than the utterance) or, without one, is synthesized: Gaussian noise with a random spectral
slope between white (0) and brown (-2 in log power per log frequency). Reverberation convolves with a synthetic
room impulse response: exponentially decaying noise with a random RT60 (the time it decays by 60 dB), after a
direct path. Every draw comes from the generator the trainer passes in, seeded by (seed, epoch, batch), so a
resumed run adds the same noise.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from asr.errors import AsrError

logger = logging.getLogger(__name__)

RT60_RANGE_S = (0.2, 0.8)      # synthetic rooms: from a small office to a large hall
NOISE_SLOPE_RANGE = (-2.0, 0.0)  # synthetic noise: brown (-2) to white (0)


def add_noise(wave: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`wave` plus `noise` (as long as it) scaled so that the speech-to-noise power ratio is `snr_db`."""
    speech_power = float(np.mean(np.square(wave, dtype=np.float64)))
    noise_power = float(np.mean(np.square(noise, dtype=np.float64)))
    if speech_power == 0.0 or noise_power == 0.0:
        return wave
    scale = math.sqrt(speech_power / (noise_power * 10.0 ** (snr_db / 10.0)))
    return (wave + scale * noise).astype(np.float32)


def coloured_noise(num_samples: int, slope: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise whose power spectrum falls as frequency**slope (0 white, -1 pink, -2 brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(num_samples))
    frequencies = np.arange(1, spectrum.size + 1, dtype=np.float64)
    noise = np.fft.irfft(spectrum * frequencies ** (slope / 2.0), n=num_samples)
    return (noise / max(float(np.std(noise)), 1e-12)).astype(np.float32)


def room_impulse_response(rate: int, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """A synthetic RIR: a unit direct path, then noise decaying by 60 dB over `rt60_s` (Sabine's exponential
    tail), with the reverberant energy a random 0.3-1x of the direct path's."""
    length = max(2, int(rt60_s * rate))
    t = np.arange(length) / rate
    tail = rng.standard_normal(length) * np.exp(-6.9078 * t / rt60_s)  # ln(1000) = 6.9078: -60 dB at rt60
    tail[0] = 0.0
    tail *= math.sqrt(rng.uniform(0.3, 1.0) / max(float(np.sum(tail**2)), 1e-12))
    tail[0] = 1.0
    return tail


def reverberate(wave: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """`wave` convolved with `rir`, cut to its own length and brought back to its original power."""
    from scipy.signal import fftconvolve

    wet = fftconvolve(wave.astype(np.float64), rir)[:wave.size]
    power, wet_power = float(np.mean(wave.astype(np.float64) ** 2)), float(np.mean(wet**2))
    return (wet * math.sqrt(power / wet_power) if wet_power > 0 else wet).astype(np.float32)


@dataclass
class WaveAugment:
    """The waveform augmentation of a training config: noise with probability `noise_prob` at an SNR uniform
    in `noise_snr`, reverberation with probability `reverb_prob`."""

    noise_prob: float = 0.0
    noise_snr: tuple[float, float] = (5.0, 20.0)
    reverb_prob: float = 0.0
    noise_recordings: list[tuple[np.ndarray, int]] | None = None  # None: synthetic noise

    @classmethod
    def from_config(cls, config, sample_frequency: float) -> "WaveAugment | None":
        """None when the config asks for no waveform augmentation; noise recordings are loaded once here."""
        if config.noise_prob <= 0.0 and config.reverb_prob <= 0.0:
            return None
        recordings = load_noise(config.noise_scp, int(sample_frequency)) if config.noise_scp else None
        low, high = config.noise_snr
        return cls(config.noise_prob, (float(low), float(high)), config.reverb_prob, recordings)

    def draw(self, rng: np.random.Generator) -> Callable[[np.ndarray, int], np.ndarray] | None:
        """This utterance's augmentation as a function of (waveform, rate), or None when neither draw fires.
        Always takes the same number of values from `rng`, so one utterance's choice never shifts the next's."""
        reverb, noise = rng.uniform(size=2) < (self.reverb_prob, self.noise_prob)
        rt60, snr = rng.uniform(*RT60_RANGE_S), rng.uniform(*self.noise_snr)
        seed = int(rng.integers(2**31))
        if not reverb and not noise:
            return None

        def augment(wave: np.ndarray, rate: int) -> np.ndarray:
            if reverb:
                wave = reverberate(wave, room_impulse_response(rate, rt60, np.random.default_rng(seed)))
            if noise:
                wave = add_noise(wave, self.noise_for(wave.size, np.random.default_rng(seed + 1)), snr)
            return wave

        return augment

    def noise_for(self, num_samples: int, rng: np.random.Generator) -> np.ndarray:
        """`num_samples` of noise: a random stretch of a random noise recording (looped if short), else synthetic."""
        if not self.noise_recordings:
            return coloured_noise(num_samples, rng.uniform(*NOISE_SLOPE_RANGE), rng)
        noise, _ = self.noise_recordings[int(rng.integers(len(self.noise_recordings)))]
        start = int(rng.integers(noise.size))
        repeats = -(-(start + num_samples) // noise.size)
        return np.tile(noise, repeats)[start:start + num_samples]


def load_noise(noise_scp: str | Path, sample_frequency: int) -> list[tuple[np.ndarray, int]]:
    """The recordings of a noise wav.scp (resampled to the features' rate); errors name the line."""
    from asr.audio import read_wav_scp_entry
    from asr.kaldi_io import read_kaldi_map

    path = Path(noise_scp)
    if not path.is_file():
        raise AsrError(f"{path}: no such noise wav.scp; give a wav.scp of noise recordings (or none for synthetic "
                       f"noise)")
    recordings = []
    for line, (key, entry) in enumerate(read_kaldi_map(path).items(), start=1):
        wave, rate = read_wav_scp_entry(entry, sample_frequency=sample_frequency, allow_resample=True,
                                        source=f"{path}:{line}")
        if wave.size == 0 or not np.any(wave):
            raise AsrError(f"{path}:{line}: recording {key} is empty or silent; remove it from the noise list")
        recordings.append((wave, rate))
    if not recordings:
        raise AsrError(f"{path}: no recordings; give a wav.scp of noise recordings")
    logger.info("noise: %d recordings from %s", len(recordings), path)
    return recordings
