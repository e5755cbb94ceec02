"""Mixing back-off models: exact on stored N-grams, normalised everywhere, weight 1 gives the model back, and
the EM weights maximise the held-out likelihood."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asr.errors import AsrError
from asr.lm import BOS, EOS, train_ngram
from asr.lm.mix import best_mix_weights, component_prob, mix_ngram
from tests.lm.test_ngram import context_sums


@pytest.fixture(scope="module")
def two_models(transcripts):
    """An in-domain trigram model (speech transcripts) and a bigram model of other text with other words."""
    domain = train_ngram(transcripts[:1500], 3, "kneser_ney")
    other = [s[::-1] + ["ZEBRA", "QUOTA"] for s in transcripts[1500:1800]]  # other word order, two new words
    return domain, train_ngram(other, 2, "witten_bell")


def test_mixture_is_exact_on_stored_ngrams_and_sums_to_one(two_models):
    a, b = two_models
    mixed = mix_ngram([a, b], [0.7, 0.3])
    assert mixed.vocab == a.vocab | b.vocab and mixed.order == 3
    for g in list(mixed.probs)[::97]:
        if g[-1] == BOS:
            continue
        expected = 0.7 * component_prob(a, g[-1], g[:-1]) + 0.3 * component_prob(b, g[-1], g[:-1])
        assert 10 ** mixed.probs[g] == pytest.approx(expected, rel=1e-9)
    assert 10 ** mixed.log10_prob("ZEBRA", ("THE",)) > 0  # a word only the second model knows
    np.testing.assert_allclose(context_sums(mixed), 1.0, atol=1e-6)


def test_weight_one_gives_the_model_back(two_models, transcripts):
    a, b = two_models
    mixed = mix_ngram([a, b], [1.0, 0.0])
    for words in transcripts[1800:1830]:
        history = [BOS]
        for w in [*words, EOS]:
            if w in a.vocab:
                assert mixed.log10_prob(w, history[-2:]) == pytest.approx(a.log10_prob(w, history[-2:]), abs=1e-9)
            history.append(w)


def test_em_weights_maximise_heldout_likelihood(two_models, transcripts):
    a, b = two_models
    heldout = transcripts[1800:2000]
    weights = best_mix_weights([a, b], heldout)
    assert weights[0] > 0.5 and sum(weights) == pytest.approx(1.0)

    def loglik(lam: float) -> float:
        total = 0.0
        for words in heldout:
            history = [BOS]
            for w in [*words, EOS]:
                p = lam * component_prob(a, w, tuple(history[-2:])) + (1 - lam) * component_prob(b, w, tuple(history[-2:]))
                if p > 0:
                    total += math.log(p)
                history.append(w)
        return total

    best = loglik(weights[0])
    for lam in (weights[0] - 0.05, weights[0] + 0.05, 0.5, 0.9):
        assert best >= loglik(lam)


def test_bad_weights_are_refused(two_models):
    a, b = two_models
    with pytest.raises(AsrError, match="sum to 1"):
        mix_ngram([a, b], [0.7, 0.7])
    with pytest.raises(AsrError, match="one weight per model"):
        mix_ngram([a, b], [1.0])
    with pytest.raises(AsrError, match="at least two"):
        mix_ngram([a], [1.0])
