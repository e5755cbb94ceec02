"""Spelling prefixes and the pronunciation trie that turns phone hypotheses into words."""

from __future__ import annotations

import pytest

from asr.decoding import PronunciationTrie, word_prefixes
from asr.errors import AsrError


def test_word_prefixes():
    assert word_prefixes(["CAT", "CAR"]) == {"C", "CA", "CAT", "CAR"}


def test_homophones_end_at_one_trie_node():
    ids = {"T": 1, "UW1": 2, "K": 3, "AE1": 4}
    trie = PronunciationTrie({"TWO": [("T", "UW1")], "TOO": [("T", "UW1")], "CAT": [("K", "AE1", "T")]}, ids)
    node = trie.children[trie.ROOT][1]
    node = trie.children[node][2]
    assert set(trie.words[node]) == {"TWO", "TOO"}
    assert trie.words[trie.children[trie.ROOT][1]] == ()
    assert len(trie) == 1 + 2 + 3


def test_unknown_phone_is_a_user_error():
    with pytest.raises(AsrError, match="not in tokens.txt"):
        PronunciationTrie({"CAT": [("K", "AE1", "TT")]}, {"K": 1, "AE1": 2})
