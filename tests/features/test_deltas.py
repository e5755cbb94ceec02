"""add-deltas against hand-computed regression filters."""

from __future__ import annotations

import numpy as np
import pytest

from asr.features import add_deltas


def hand_deltas(feats: np.ndarray, window: int) -> np.ndarray:
    """delta[t] = sum_n n (x[t+n] - x[t-n]) / (2 sum n^2), frames beyond the edges repeating the edge frame."""
    frames = len(feats)
    clamp = lambda t: min(max(t, 0), frames - 1)  # noqa: E731
    norm = 2 * sum(n * n for n in range(1, window + 1))
    return np.array([sum(n * (feats[clamp(t + n)] - feats[clamp(t - n)]) for n in range(1, window + 1)) / norm
                     for t in range(frames)])


def test_first_order_is_the_regression_formula():
    feats = np.random.default_rng(0).normal(size=(17, 5))
    for window in (1, 2, 3):
        out = add_deltas(feats, order=1, window=window)
        np.testing.assert_allclose(out[:, :5], feats)
        np.testing.assert_allclose(out[:, 5:], hand_deltas(feats, window), atol=1e-12)


def test_second_order_uses_kaldis_nine_tap_filter():
    """Kaldi convolves the window-2 filter [-2..2]/10 with itself: [4 4 1 -4 -10 -4 1 4 4] / 100,
    applied to the edge-clamped features (not deltas of clamped deltas)."""
    feats = np.random.default_rng(1).normal(size=(12, 3))
    taps = np.array([4, 4, 1, -4, -10, -4, 1, 4, 4]) / 100.0
    index = np.clip(np.arange(-4, 12 + 4), 0, 11)
    expected = np.array([taps @ feats[index[t:t + 9]] for t in range(12)])
    out = add_deltas(feats, order=2, window=2)
    assert out.shape == (12, 9)
    np.testing.assert_allclose(out[:, 6:], expected, atol=1e-12)
    # away from the edges it is the delta of the delta
    np.testing.assert_allclose(out[4:-4, 6:], hand_deltas(hand_deltas(feats, 2), 2)[4:-4], atol=1e-12)


def test_linear_ramp_has_constant_delta_and_zero_acceleration():
    feats = np.arange(20.0)[:, None] * np.array([[1.0, -2.0]])
    out = add_deltas(feats)
    np.testing.assert_allclose(out[4:-4, 2:4], [[1.0, -2.0]] * 12, atol=1e-12)
    np.testing.assert_allclose(out[4:-4, 4:], 0.0, atol=1e-12)


def test_bad_arguments_and_empty_input():
    with pytest.raises(ValueError):
        add_deltas(np.zeros((3, 2)), window=0)
    assert add_deltas(np.zeros((0, 4))).shape == (0, 12)
