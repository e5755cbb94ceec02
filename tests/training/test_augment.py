"""Waveform augmentation: noise at the SNR asked for, coloured noise and room responses as specified,
reproducible draws, and a noise wav.scp used as given."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from asr.errors import AsrError
from asr.training.augment import (WaveAugment, add_noise, coloured_noise, load_noise, reverberate,
                                  room_impulse_response)

RATE = 8000


def speech_like(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    rng = np.random.default_rng(seed)
    return (3000 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + rng.normal(0, 50, t.size)
            ).astype(np.float32)


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 25.0])
def test_noise_is_added_at_the_snr_asked_for(snr_db):
    wave = speech_like()
    noise = coloured_noise(wave.size, 0.0, np.random.default_rng(1))
    noisy = add_noise(wave, noise, snr_db)
    measured = 10 * np.log10(np.mean(wave.astype(np.float64) ** 2) / np.mean((noisy - wave).astype(np.float64) ** 2))
    assert measured == pytest.approx(snr_db, abs=0.01)


@pytest.mark.parametrize("slope", [0.0, -1.0, -2.0])
def test_coloured_noise_has_the_spectral_slope_asked_for(slope):
    noise = coloured_noise(2**16, slope, np.random.default_rng(2))
    power = np.abs(np.fft.rfft(noise))[1:] ** 2
    frequencies = np.arange(1, power.size + 1)
    fitted = np.polyfit(np.log(frequencies), np.log(power + 1e-30), 1)[0]
    assert fitted == pytest.approx(slope, abs=0.1)
    assert np.std(noise) == pytest.approx(1.0, rel=1e-3)


def test_room_impulse_response_decays_by_60_db_over_rt60():
    rir = room_impulse_response(RATE, 0.5, np.random.default_rng(3))
    assert rir[0] == 1.0 and rir.size == int(0.5 * RATE)
    energy = rir[1:] ** 2
    early, late = energy[:400].mean(), energy[-400:].mean()  # 50 ms windows at the start and the end
    assert 10 * np.log10(early / late) == pytest.approx(60.0 * (rir.size - 400) / rir.size, abs=6.0)
    wet = reverberate(speech_like(), rir)
    assert wet.size == RATE and np.mean(wet.astype(np.float64) ** 2) == pytest.approx(
        np.mean(speech_like().astype(np.float64) ** 2), rel=1e-3)


def test_draws_are_reproducible_and_fire_with_their_probability():
    augment = WaveAugment(noise_prob=0.5, noise_snr=(5.0, 5.0), reverb_prob=0.0)
    wave = speech_like()
    fired = [augment.draw(np.random.default_rng([7, i])) for i in range(200)]
    assert 70 < sum(f is not None for f in fired) < 130
    first = next(f for f in fired if f is not None)
    index = fired.index(first)
    again = augment.draw(np.random.default_rng([7, index]))
    np.testing.assert_array_equal(first(wave, RATE), again(wave, RATE))
    assert all(WaveAugment().draw(np.random.default_rng(i)) is None for i in range(20))  # probabilities 0: off


def test_a_noise_wav_scp_is_the_noise_used(tmp_path):
    hum = (1000 * np.sin(2 * np.pi * 100 * np.arange(RATE // 4) / RATE)).astype(np.int16)
    soundfile.write(tmp_path / "hum.wav", hum, RATE)
    (tmp_path / "noise.scp").write_text(f"hum {tmp_path / 'hum.wav'}\n")
    augment = WaveAugment(noise_prob=1.0, noise_snr=(10.0, 10.0),
                          noise_recordings=load_noise(tmp_path / "noise.scp", RATE))
    wave = speech_like()
    added = augment.draw(np.random.default_rng(0))(wave, RATE) - wave
    spectrum = np.abs(np.fft.rfft(added))
    assert np.argmax(spectrum) == 100  # 1 s at 8 kHz: bin k is k Hz; the hum (100 Hz, looped to the length)


def test_a_bad_noise_list_names_the_line(tmp_path):
    soundfile.write(tmp_path / "silent.wav", np.zeros(800, dtype=np.int16), RATE)
    (tmp_path / "noise.scp").write_text(f"silent {tmp_path / 'silent.wav'}\n")
    with pytest.raises(AsrError, match=r"noise.scp:1: recording silent is empty or silent"):
        load_noise(tmp_path / "noise.scp", RATE)
    with pytest.raises(AsrError, match="no such noise wav.scp"):
        load_noise(tmp_path / "missing.scp", RATE)
