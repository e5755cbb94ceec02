"""recipes/utils/english_counts.py: published English counts as a count file `asr lm train --counts` reads, on
one scale (a word's listed bigrams never add up to more than its count for the best-covered words)."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import pytest

from asr.lm import estimate_ngram, read_counts
from asr.units.phone import cmu_pronunciations

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "recipes" / "utils"))

pytest.importorskip("symspellpy", reason="pip install 'asr[english]' (make install does)")
from english_counts import english_counts  # noqa: E402


def test_counts_are_pronounceable_words_on_one_scale(tmp_path: Path) -> None:
    words, lines = english_counts(2000, pronounceable=True)
    assert len(words) == 2000 and words[:3] == ["THE", "OF", "AND"]
    assert all(cmu_pronunciations(w) for w in words)
    kept = set(words)
    unigrams = {g[0]: c for g, c in lines if len(g) == 1}
    continuations: dict[str, int] = defaultdict(int)
    for g, c in lines:
        assert len(g) in (1, 2) and kept.issuperset(g) and c >= 0
        if len(g) == 2:
            continuations[g[0]] += c
    assert len(continuations) > 1000
    assert all(continuations[w] <= unigrams[w] for w in ("THE", "OF", "AND", "YOU", "VERY"))
    path = tmp_path / "english.counts"
    path.write_text("".join(f"{' '.join(g)} {c}\n" for g, c in lines))
    lm = estimate_ngram(read_counts(path), 2, "witten_bell")
    # a likely continuation beats an unlikely one, and unlisted bigrams keep real mass after common words
    assert lm.log10_prob("DOG", ("THE",)) > lm.log10_prob("DOG", ("OF",))
    assert lm.bows[("THE",)] > -2
