"""Kaldi's add-deltas: append time derivatives computed by a regression over +-window frames."""

from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=16)
def delta_filters(order: int, window: int) -> tuple[np.ndarray, ...]:
    """Kaldi's DeltaFeatures scales: filter i (length 2*i*window+1) is the regression filter applied i times."""
    scales = [np.ones(1)]
    for i in range(1, order + 1):
        previous = scales[-1]
        normalizer = 2.0 * sum(j * j for j in range(1, window + 1))
        base = np.arange(-window, window + 1, dtype=np.float64) / normalizer
        scales.append(np.convolve(previous, base))
    return tuple(scales)


def add_deltas(feats: np.ndarray, order: int = 2, window: int = 2) -> np.ndarray:
    """(frames, dim) -> (frames, dim * (order + 1)): features, deltas, delta-deltas, ...

    Like Kaldi, frames beyond the edges repeat the first/last frame.
    """
    feats = np.asarray(feats, dtype=np.float64)
    if order < 0 or window < 1:
        raise ValueError(f"add_deltas needs order >= 0 and window >= 1, got order={order}, window={window}")
    frames, dim = feats.shape
    out = np.empty((frames, dim * (order + 1)))
    out[:, :dim] = feats
    if frames == 0:
        return out
    for i, scale in enumerate(delta_filters(order, window)[1:], 1):
        half = (len(scale) - 1) // 2
        index = np.clip(np.arange(-half, frames + half), 0, frames - 1)
        padded = feats[index]
        block = np.zeros((frames, dim))
        for j, weight in enumerate(scale):
            if weight != 0.0:
                block += weight * padded[j:j + frames]
        out[:, i * dim:(i + 1) * dim] = block
    return out
