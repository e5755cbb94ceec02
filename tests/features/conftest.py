"""Shared inputs for feature tests: a few real FSDD recordings (8 kHz) and generated 16 kHz signals."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile


@pytest.fixture(scope="session")
def fsdd_waves(fsdd_dir) -> list[tuple[np.ndarray, int]]:
    """Three FSDD recordings (two speakers) as float64 in the int16 range."""
    names = ["0_jackson_0.wav", "7_theo_3.wav", "9_nicolas_10.wav"]
    waves = []
    for name in names:
        samples, rate = soundfile.read(fsdd_dir / name, dtype="int16")
        waves.append((samples.astype(np.float64), rate))
    return waves


@pytest.fixture(scope="session")
def synthetic_16k() -> list[tuple[np.ndarray, int]]:
    """Generated 16 kHz signals: a chirp with noise, and a vowel-like harmonic tone with a DC offset."""
    rate = 16000
    rng = np.random.default_rng(7)
    t = np.arange(int(1.3 * rate)) / rate
    chirp = 8000 * np.sin(2 * np.pi * (100 + 1500 * t) * t) + rng.normal(0, 30, len(t))
    phase = 2 * np.pi * np.cumsum(120 + 20 * np.sin(2 * np.pi * 3 * t)) / rate
    vowel = sum(np.sin(k * phase) * 3000 / k ** 1.5 for k in range(1, 30)) + 200 + rng.normal(0, 5, len(t))
    return [(chirp[:20011], rate), (vowel, rate)]


@pytest.fixture(scope="session")
def kaldi_reference():
    """torchaudio.compliance.kaldi computing in float64 throughout (its mel banks and DCT follow torch's
    default dtype, so that is switched to float64 while a reference is computed)."""
    torch = pytest.importorskip("torch")
    kaldi = pytest.importorskip("torchaudio.compliance.kaldi")
    torch.set_num_threads(1)

    def reference(kind: str, wave: np.ndarray, rate: int, **options) -> np.ndarray:
        previous = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            result = getattr(kaldi, kind)(torch.from_numpy(wave)[None], sample_frequency=rate, **options)
        finally:
            torch.set_default_dtype(previous)
        return result.numpy()

    return reference


def _assert_close_to_reference(ours: np.ndarray, reference: np.ndarray, max_tol: float = 1e-3,
                               mean_tol: float = 1e-5) -> None:
    """Same shape, max |d| <= max_tol and mean |d| <= mean_tol (the accuracy bar of the feature stage)."""
    assert ours.shape == reference.shape
    difference = np.abs(ours - reference)
    assert difference.max() <= max_tol, f"max |d| = {difference.max():.3g}"
    assert difference.mean() <= mean_tol, f"mean |d| = {difference.mean():.3g}"


@pytest.fixture(scope="session")
def assert_close_to_reference():
    """The accuracy check: identical shape, max |d| <= 1e-3, mean |d| <= 1e-5."""
    return _assert_close_to_reference
