"""Word confidence from CTC posteriors: the Viterbi alignment against brute force, the max-then-min aggregation,
and NCE against its definition."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from asr.decoding.confidence import calibration, ctc_viterbi, word_confidences


def _collapse(path: tuple[int, ...], blank: int = 0) -> list[int]:
    out, previous = [], None
    for unit in path:
        if unit != previous and unit != blank:
            out.append(unit)
        previous = unit
    return out


def _brute_force_best_path(log_probs: np.ndarray, labels: list[int]) -> tuple[float, tuple[int, ...]] | None:
    best = None
    for path in itertools.product(range(log_probs.shape[1]), repeat=len(log_probs)):
        if _collapse(path) == labels:
            score = float(sum(log_probs[t, u] for t, u in enumerate(path)))
            if best is None or score > best[0]:
                best = (score, path)
    return best


@pytest.mark.parametrize("labels", [[1], [1, 2], [2, 2], [1, 2, 1], [2, 1, 1]])
@pytest.mark.parametrize("seed", range(4))
def test_viterbi_spans_are_those_of_the_best_path_brute_force_finds(labels, seed) -> None:
    rng = np.random.default_rng(seed)
    log_probs = np.log(rng.dirichlet(np.ones(3), size=6))
    best = _brute_force_best_path(log_probs, labels)
    spans = ctc_viterbi(log_probs, labels)
    # rebuild the path from the spans and compare its score (ties may pick another path of the same score)
    path = np.zeros(len(log_probs), dtype=int)
    for label, (first, last) in zip(labels, spans):
        assert 0 <= first <= last < len(log_probs)
        path[first:last + 1] = label
    assert _collapse(tuple(path)) == labels
    assert float(log_probs[np.arange(len(path)), path].sum()) == pytest.approx(best[0])


def test_too_few_frames_for_the_labels_is_an_error() -> None:
    with pytest.raises(ValueError):
        ctc_viterbi(np.log(np.full((2, 3), 1 / 3)), [1, 1])  # a repeat needs a blank between: 3 frames


def test_a_words_confidence_is_the_mean_of_its_units_peak_posteriors() -> None:
    # units: 0 blank, 1 'a', 2 'b', 3 '|'; frames spell "a b | b" -> words "ab" (frames 0-3) and "b" (4-6)
    posteriors = np.full((7, 4), 0.02)
    for t, (unit, p) in enumerate([(1, 0.9), (2, 0.6), (2, 0.7), (3, 0.95), (0, 0.9), (2, 0.4), (0, 0.9)]):
        posteriors[t, unit] = p
    log_probs = np.log(posteriors / posteriors.sum(axis=1, keepdims=True))
    a = posteriors[0, 1] / posteriors[0].sum()
    b = posteriors[2, 2] / posteriors[2].sum()  # 'b' of the first word peaks at 0.7 (normalised)
    second = posteriors[5, 2] / posteriors[5].sum()
    assert word_confidences(log_probs, [1, 2, 3, 2], [(0, 3), (4, 7)], separators=(3,)) == pytest.approx(
        [(a + b) / 2, second])


def test_nce_against_its_definition() -> None:
    correct = [True] * 8 + [False] * 2
    assert calibration([0.8] * 10, correct).nce == pytest.approx(0.0, abs=1e-9)  # the overall rate: no information
    assert calibration([1.0] * 8 + [0.0] * 2, correct).nce == pytest.approx(1.0, abs=1e-4)
    confidences = [0.9] * 8 + [0.3, 0.6]
    h_max = -(8 * math.log2(0.8) + 2 * math.log2(0.2))
    h_conf = -(8 * math.log2(0.9) + math.log2(0.7) + math.log2(0.4))
    report = calibration(confidences, correct)
    assert report.nce == pytest.approx((h_max - h_conf) / h_max)
    assert report.words == 10 and report.correct == 8
    nine = report.bins[9]
    assert nine[2] == 8 and nine[3] == 1.0 and report.mean_confidence[9] == pytest.approx(0.9)
    assert "NCE" in report.report().splitlines()[0]
