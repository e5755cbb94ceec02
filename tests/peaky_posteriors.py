"""Synthetic CTC posteriors for decoder tests: a peak per unit at a known frame, blanks elsewhere."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.special import log_softmax


def peaky_log_probs(units: Sequence[int], num_units: int, *, lead: int = 2, gap: int = 2,
                    confusions: dict[int, dict[int, float]] | None = None,
                    noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, list[int]]:
    """(T, V) log-posteriors spelling `units`: `lead` blank frames, then each unit on one frame followed by
    `gap` blank frames. `confusions[i] = {unit: logit}` adds competitors at the frame of the i-th unit.
    Returns the matrix and the frame of every unit."""
    rng = np.random.default_rng(seed)
    frames = lead + len(units) * (1 + gap) + lead
    logits = np.full((frames, num_units), -8.0) + noise * rng.standard_normal((frames, num_units))
    logits[:, 0] = 0.0
    where = []
    for i, u in enumerate(units):
        t = lead + i * (1 + gap)
        logits[t, 0] = -8.0
        logits[t, u] = 0.0
        for other, value in (confusions or {}).get(i, {}).items():
            logits[t, other] = value
        where.append(t)
    return log_softmax(logits, axis=1), where
