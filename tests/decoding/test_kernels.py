"""CTC forced alignment against brute force over every path of a tiny input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import log_softmax

from asr.decoding import kernels


@pytest.mark.parametrize("labels", [[1], [1, 2], [1, 1], [2, 1, 2]])
def test_align_finds_the_best_path_of_the_labels(labels):
    rng = np.random.default_rng(len(labels))
    T, V = 6, 3
    lp = log_softmax(2.0 * rng.standard_normal((T, V)), axis=1)
    best, best_path = -np.inf, None
    for path in itertools.product(range(V), repeat=T):
        collapsed = [u for i, u in enumerate(path) if u != 0 and (i == 0 or path[i - 1] != u)]
        score = lp[np.arange(T), path].sum()
        if collapsed == labels and score > best:
            best, best_path = score, path
    start, end = kernels.align(lp, np.array(labels, dtype=np.int64), 0)
    # rebuild the path the spans describe and compare it with the brute-force best
    path = [0] * T
    for unit, s, e in zip(labels, start, end):
        path[s:e] = [unit] * (e - s)
    assert lp[np.arange(T), path].sum() == pytest.approx(best)
    assert all(0 <= s < e <= T for s, e in zip(start, end))
    assert list(start) == sorted(start)
