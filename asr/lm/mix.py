"""Linear interpolation of back-off N-gram models into one model (SRILM's `ngram -lm A -mix-lm B -lambda L
-write-lm`), and the weights that make the mixture most likely on held-out text (SRILM's `compute-best-mix`).

Why: a small in-domain model (the training transcripts) knows the corpus's phrasing but few words; a large
general model (published English counts) knows the words. Their mixture keeps both, as one ARPA file that any
decoder reads.

The mixture is computed exactly for every N-gram stored in any component: P(w | h) = sum_i weight_i P_i(w | h),
each P_i with its own back-off, and 0 where w is outside model i's vocabulary. Every other N-gram backs off
with a weight that makes each history's distribution sum to one, which is the approximation SRILM makes to keep
the result a back-off model.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from typing import Iterable, Sequence

from asr.errors import AsrError
from asr.lm.model import BOS, EOS, LOG10_ZERO, UNK, Ngram, NgramLM, backoff_log10_prob

logger = logging.getLogger(__name__)

EM_MAX_ITERATIONS = 200
EM_TOLERANCE = 1e-5  # stop when no weight moves more than this
_MIN_MASS = 1e-12  # a history whose stored words take (numerically) all its mass backs off with this weight


def _check_weights(models: Sequence[NgramLM], weights: Sequence[float]) -> list[float]:
    if len(models) < 2:
        raise AsrError(f"mixing needs at least two models, got {len(models)}")
    if len(weights) != len(models):
        raise AsrError(f"{len(weights)} weights for {len(models)} models; give one weight per model")
    if any(not w >= 0 for w in weights) or not math.isclose(sum(weights), 1.0, abs_tol=1e-6):
        raise AsrError(f"weights {list(weights)} must be >= 0 and sum to 1")
    return list(weights)


def component_prob(model: NgramLM, word: str, context: Ngram) -> float:
    """P_i(word | context), 0 for a word the model does not know (its `<unk>` mass is for its own unknowns)."""
    if word not in model.vocab or word == BOS:
        return 0.0
    return 10.0 ** model.log10_prob(word, context)


def mix_ngram(models: Sequence[NgramLM], weights: Sequence[float]) -> NgramLM:
    """One back-off model equal to sum_i weights[i] * models[i] on every N-gram any of them stores."""
    weights = _check_weights(models, weights)
    probs: dict[Ngram, float] = {}
    for g in {g for m in models for g in m.probs}:
        p = math.fsum(lam * component_prob(m, g[-1], g[:-1]) for m, lam in zip(models, weights) if lam)
        probs[g] = math.log10(p) if p > 0 else LOG10_ZERO
    # Back-off weights, shortest histories first: bow(h) spreads what the stored words leave over the rest,
    # in proportion to the mixture's own lower-order distribution.
    children: dict[Ngram, list[str]] = defaultdict(list)
    for g in probs:
        if len(g) > 1:
            children[g[:-1]].append(g[-1])
    bows: dict[Ngram, float] = {}
    for h in sorted(children, key=len):
        if h not in probs:
            continue  # not a stored history (cannot happen in valid ARPA input)
        stored = math.fsum(10.0 ** probs[h + (w,)] for w in children[h])
        lower = math.fsum(10.0 ** backoff_log10_prob(probs, bows, w, h[1:]) for w in children[h])
        bows[h] = math.log10(max(1.0 - stored, _MIN_MASS) / max(1.0 - lower, _MIN_MASS))
    mixed = NgramLM(probs, bows, max(m.order for m in models))
    logger.info("mixed %d models with weights %s: %s", len(models), [round(w, 4) for w in weights], mixed)
    return mixed


def best_mix_weights(models: Sequence[NgramLM], sentences: Iterable[Sequence[str]]) -> list[float]:
    """The weights that maximise the mixture's likelihood of `sentences` (EM over the words every model scores
    as a word of its own or that some model knows, `</s>` included; words no model knows are skipped, as in
    `ngram -ppl`). Starts from equal weights."""
    if len(models) < 2:
        raise AsrError(f"mixing needs at least two models, got {len(models)}")
    span = max(m.order for m in models) - 1
    rows: list[list[float]] = []
    for words in sentences:
        history: list[str] = [BOS]
        for w in [*words, EOS]:
            context = tuple(history[-span:]) if span else ()
            row = [component_prob(m, w, context) for m in models]
            if any(row) and w != UNK:
                rows.append(row)
            history.append(w)
    if not rows:
        raise AsrError("no held-out word is known to any model; cannot estimate mixture weights")
    weights = [1.0 / len(models)] * len(models)
    for _ in range(EM_MAX_ITERATIONS):
        posterior = [0.0] * len(models)
        for row in rows:
            total = sum(lam * p for lam, p in zip(weights, row))
            for i, (lam, p) in enumerate(zip(weights, row)):
                posterior[i] += lam * p / total
        new = [s / len(rows) for s in posterior]
        moved = max(abs(a - b) for a, b in zip(new, weights))
        weights = new
        if moved < EM_TOLERANCE:
            break
    logger.info("mixture weights %s from %d held-out words", [round(w, 4) for w in weights], len(rows))
    return weights
