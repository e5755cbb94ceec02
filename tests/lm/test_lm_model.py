"""The decoder-facing state API agrees with plain back-off lookups, and perplexity matches its definition."""

from __future__ import annotations

import math

import pytest

from asr.lm import BOS, EOS, UNK, read_arpa, train_ngram, write_arpa


@pytest.fixture(scope="module")
def kn_model(train_heldout):
    return train_ngram(train_heldout[0], 3, "kneser_ney", cutoffs=[0, 1, 1])


def test_state_scores_equal_full_context_lookups(kn_model, train_heldout):
    lm = kn_model
    for words in train_heldout[1][:300]:
        state, history = lm.begin_state(), [BOS]
        for w in list(words) + [EOS]:
            p, state = lm.score(state, w)
            assert p == lm.log10_prob(w, tuple(history))
            history.append(w)
            assert len(state) <= lm.order - 1
            assert tuple(history[len(history) - len(state):]) == tuple(x if x in lm.vocab else UNK for x in state) \
                or UNK in state


def test_states_merge_histories_the_model_cannot_tell_apart(kn_model):
    lm = kn_model
    # A history ending in a word never followed by anything stored backs off to the empty state.
    _, state = lm.score(lm.begin_state(), "zzz-not-a-word")
    assert state == (UNK,) if (UNK,) in lm._contexts else state == ()
    # Two histories with the same last two words share a state.
    _, s1 = lm.score(lm.score(lm.score(lm.begin_state(), "I")[1], "LIKE")[1], "TO")
    _, s2 = lm.score(lm.score(lm.score(lm.begin_state(), "WE")[1], "LIKE")[1], "TO")
    assert s1 == s2


def test_perplexity_and_oov_rate_follow_the_definition(tmp_path):
    lm = train_ngram([["a", "b"], ["b", "a", "b"]], 2, "laplace")
    report = lm.evaluate([["a", "x", "b"], ["b"]])
    assert (report.sentences, report.words, report.oovs) == (2, 4, 1)
    expected = (lm.log10_prob("a", (BOS,)) + lm.log10_prob("b", (UNK,)) + lm.log10_prob(EOS, ("b",))
                + lm.log10_prob("b", (BOS,)) + lm.log10_prob(EOS, ("b",)))
    assert report.log10_prob == pytest.approx(expected)
    assert report.perplexity == pytest.approx(10 ** (-expected / (3 + 2)))  # 3 known words + 2 </s>
    assert report.oov_rate == 0.25
    write_arpa(lm, tmp_path / "lm.arpa")
    assert read_arpa(tmp_path / "lm.arpa").perplexity([["a", "x", "b"], ["b"]]) == pytest.approx(report.perplexity)
    assert math.isclose(lm.sentence_log10_prob(["b"]), lm.log10_prob("b", (BOS,)) + lm.log10_prob(EOS, ("b",)))
