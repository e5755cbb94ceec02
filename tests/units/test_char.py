from __future__ import annotations

import random

import pytest
from hypothesis import given, strategies as st

from asr.errors import AsrError
from asr.units import load_tokenizer, read_tokens, train_tokenizer
from asr.units.char import CharTokenizer


def test_round_trip_on_real_transcripts(speechocean_texts, tmp_path):
    train_tokenizer("char", speechocean_texts).save(tmp_path)
    tokenizer = load_tokenizer(tmp_path)
    assert tokenizer.kind == "char"
    for text in speechocean_texts:
        ids = tokenizer.encode(text)
        assert 0 not in ids
        assert tokenizer.decode(ids) == " ".join(text.split())


def test_tokens_txt_is_kaldi_symbol_table_independent_of_text_order(speechocean_texts, tmp_path):
    shuffled = list(speechocean_texts)
    random.Random(0).shuffle(shuffled)
    train_tokenizer("char", speechocean_texts).save(tmp_path / "a")
    train_tokenizer("char", shuffled).save(tmp_path / "b")
    a = (tmp_path / "a" / "tokens.txt").read_text(encoding="utf-8")
    assert a == (tmp_path / "b" / "tokens.txt").read_text(encoding="utf-8")
    lines = a.splitlines()
    assert lines[:3] == ["<blk> 0", "<unk> 1", "| 2"]
    assert [int(line.split()[1]) for line in lines] == list(range(len(lines)))
    letters = [line.split()[0] for line in lines[3:]]
    assert letters == sorted(set("".join(speechocean_texts).replace(" ", "")))


def test_word_separator_between_words_only():
    tokenizer = CharTokenizer.train(["HI THERE"])
    units = [tokenizer.tokens[i] for i in tokenizer.encode("  HI   THERE ")]
    assert units == list("HI|THERE")


def test_unseen_character_encodes_to_unk_and_decodes_to_nothing():
    tokenizer = CharTokenizer.train(["AB"])
    ids = tokenizer.encode("AXB")
    assert ids == [tokenizer.token_to_id["A"], tokenizer.unk_id, tokenizer.token_to_id["B"]]
    assert tokenizer.decode(ids) == "AB"


def test_separator_in_training_text_is_an_error():
    with pytest.raises(AsrError, match="word-separator"):
        CharTokenizer.train(["A|B"])


def test_decode_rejects_ids_outside_the_lang_dir():
    tokenizer = CharTokenizer.train(["AB"])
    with pytest.raises(AsrError, match="outside the 5 tokens"):
        tokenizer.decode([1, 5])


def test_decode_skips_blanks():
    tokenizer = CharTokenizer.train(["AB"])
    assert tokenizer.decode([0, *tokenizer.encode("AB BA"), 0]) == "AB BA"


@given(st.lists(st.text(alphabet="abcXYZ'é\u4e2d", min_size=1, max_size=6), min_size=1, max_size=5))
def test_round_trip_property(words):
    text = " ".join(words)
    tokenizer = CharTokenizer.train([text])
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_saved_tokens_read_back(tmp_path):
    tokenizer = CharTokenizer.train(["ZERO ONE"])
    tokenizer.save(tmp_path)
    assert read_tokens(tmp_path / "tokens.txt") == tokenizer.tokens
