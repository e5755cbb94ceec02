"""Hotword credit follows the hypothesis: earned while a phrase is under way, kept once it completes."""

from __future__ import annotations

import pytest

from asr.decoding import HotwordScorer


def test_phrase_credit_is_kept_only_when_the_phrase_completes():
    scorer = HotwordScorer(["NEW YORK", "PARIS"], weight=2.0)
    completed, credit, history = scorer.add_word((), "NEW")
    assert (completed, credit, history) == (0.0, 2.0, ("NEW",))
    assert scorer.add_word(history, "YORK")[:2] == (4.0, 0.0)  # both words, for good
    assert scorer.add_word(history, "JERSEY")[:2] == (0.0, 0.0)  # the phrase broke: its credit is gone
    assert scorer.add_word(("OLD",), "PARIS")[:2] == (2.0, 0.0)


def test_partial_words_get_a_share_by_length():
    scorer = HotwordScorer(["YORK"], weight=2.0)
    assert scorer.partial_bonus("YO") == pytest.approx(1.0)
    assert scorer.partial_bonus("YORK") == pytest.approx(2.0)
    assert scorer.partial_bonus("YA") == 0.0


def test_no_phrases_is_false():
    assert not HotwordScorer([" ", ""], weight=1.0)
