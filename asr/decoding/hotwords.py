"""Hotword boosting: phrases the user expects (names, jargon) get a bonus so the beam keeps and prefers them.

The bonus is a function of the hypothesis, not a running sum of rewards, so a hypothesis that starts a phrase
and then leaves it loses the credit it was given (as in icefall's context graph):
- a completed phrase of n words adds `weight * n` for good;
- a phrase under way (its first k words are the last words) adds `weight * k` while it lasts;
- a partial word that starts a hotword word adds `weight * len(partial) / len(word)` (spelled units only).
Words are matched exactly as the decoder spells them (mind the case of your units).
"""

from __future__ import annotations

from typing import Iterable

History = tuple[str, ...]


class HotwordScorer:
    """Word-level phrase matching with per-(history, word) memoisation."""

    def __init__(self, phrases: Iterable[str], weight: float) -> None:
        self.phrases: list[tuple[str, ...]] = sorted({tuple(p.split()) for p in phrases if p.split()})
        self.weight = float(weight)
        self.max_words = max((len(p) for p in self.phrases), default=0)
        self._prefix_share: dict[str, float] = {}
        for phrase in self.phrases:
            for word in phrase:
                for i in range(1, len(word) + 1):
                    share = i / len(word)
                    if share > self._prefix_share.get(word[:i], 0.0):
                        self._prefix_share[word[:i]] = share
        self._memo: dict[tuple[History, str], tuple[float, float, History]] = {}

    def __bool__(self) -> bool:
        return bool(self.phrases)

    @property
    def max_gain(self) -> float:
        """An upper bound on what one decoding step can add (used to prune before exact scoring)."""
        return self.weight * (self.max_words + 1)

    def partial_bonus(self, partial: str) -> float:
        """Credit for a word being spelled that begins some hotword word."""
        return self.weight * self._prefix_share.get(partial, 0.0)

    def add_word(self, history: History, word: str) -> tuple[float, float, History]:
        """After `word` follows `history`: (bonus of phrases completed now, credit of the phrase under way,
        the history to keep)."""
        key = (history, word)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        seq = history + (word,)
        completed = 0.0
        under_way = 0
        for phrase in self.phrases:
            n = len(phrase)
            if seq[-n:] == phrase:
                completed += self.weight * n
            for k in range(min(n - 1, len(seq)), under_way, -1):
                if seq[-k:] == phrase[:k]:
                    under_way = k
                    break
        keep = seq[-(self.max_words - 1):] if self.max_words > 1 else ()
        hit = (completed, self.weight * under_way, keep)
        self._memo[key] = hit
        return hit
