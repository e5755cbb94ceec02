"""Lexicon helpers for the prefix search: spelling prefixes (char/bpe units) and a pronunciation trie (phones).

Character and subword hypotheses spell words, so "only lexicon words" means every partial word must be a
prefix of some word. Phone hypotheses become words by walking a trie over pronunciations: a trie node is the
phones of the current word so far; nodes where a pronunciation ends carry its words (several for homophones).
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from asr.errors import AsrError


def word_prefixes(words: Iterable[str]) -> frozenset[str]:
    """Every non-empty prefix of every word (the words included): the partial words worth keeping."""
    return frozenset(word[:i] for word in words for i in range(1, len(word) + 1))


class PronunciationTrie:
    """Trie over pronunciations as unit ids; node 0 is the root (no phone of the current word yet)."""

    ROOT = 0

    def __init__(self, lexicon: Mapping[str, Sequence[Sequence[str]]], token_to_id: Mapping[str, int]) -> None:
        self.children: list[dict[int, int]] = [{}]
        self.words: list[tuple[str, ...]] = [()]
        for word, prons in lexicon.items():
            for pron in prons:
                if not pron:
                    continue
                missing = [p for p in pron if p not in token_to_id]
                if missing:
                    raise AsrError(f"lexicon word {word!r} uses units {missing} that are not in tokens.txt; "
                                   f"use the lexicon of the model's lang dir")
                node = self.ROOT
                for phone in pron:
                    nxt = self.children[node].get(token_to_id[phone])
                    if nxt is None:
                        nxt = len(self.children)
                        self.children[node][token_to_id[phone]] = nxt
                        self.children.append({})
                        self.words.append(())
                    node = nxt
                if word not in self.words[node]:
                    self.words[node] += (word,)
        if len(self.children) == 1:
            raise AsrError("the lexicon has no pronunciations; phone units need lexicon.txt to make words")

    def __len__(self) -> int:
        return len(self.children)
