from __future__ import annotations

import pytest
import sentencepiece

from asr.errors import AsrError
from asr.units import load_tokenizer, train_tokenizer


@pytest.mark.parametrize("model_type", ["unigram", "bpe"])
def test_round_trip_and_vocab_size(speechocean_texts, tmp_path, model_type):
    train_tokenizer("bpe", speechocean_texts, {"vocab_size": 150, "model_type": model_type}).save(tmp_path)
    tokenizer = load_tokenizer(tmp_path)
    assert tokenizer.kind == "bpe" and len(tokenizer.tokens) == 150
    for text in speechocean_texts:
        ids = tokenizer.encode(text)
        assert 0 not in ids
        assert tokenizer.decode(ids) == text


def test_tokens_txt_matches_the_sentencepiece_model(speechocean_texts, tmp_path):
    train_tokenizer("bpe", speechocean_texts, {"vocab_size": 120}).save(tmp_path)
    processor = sentencepiece.SentencePieceProcessor(model_file=str(tmp_path / "bpe.model"))
    lines = (tmp_path / "tokens.txt").read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["<blk> 0", "<unk> 1"]
    assert lines == [f"{processor.id_to_piece(i)} {i}" for i in range(processor.get_piece_size())]
    text = speechocean_texts[0]
    assert load_tokenizer(tmp_path).encode(text) == processor.encode(text)


def test_same_text_gives_same_model(speechocean_texts, tmp_path):
    for name in "ab":
        train_tokenizer("bpe", speechocean_texts[:500], {"vocab_size": 80}).save(tmp_path / name)
    for file in ["tokens.txt", "bpe.model"]:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_unseen_characters_are_unk_and_vanish_in_decode(speechocean_texts):
    tokenizer = train_tokenizer("bpe", speechocean_texts[:500], {"vocab_size": 80})
    ids = tokenizer.encode("HELLO \u4e2d")
    assert tokenizer.unk_id in ids
    assert tokenizer.decode(ids) == "HELLO"


def test_vocab_size_too_large_says_what_fits():
    with pytest.raises(AsrError, match=r"could not train 300 units on 1 sentences: .*Vocabulary size too high"):
        train_tokenizer("bpe", ["ZERO ONE TWO"], {"vocab_size": 300})


def test_tokens_txt_from_another_model_is_rejected(speechocean_texts, tmp_path):
    train_tokenizer("bpe", speechocean_texts[:500], {"vocab_size": 80}).save(tmp_path / "a")
    train_tokenizer("bpe", speechocean_texts[500:1000], {"vocab_size": 80}).save(tmp_path / "b")
    (tmp_path / "a" / "tokens.txt").write_bytes((tmp_path / "b" / "tokens.txt").read_bytes())
    with pytest.raises(AsrError, match="does not match"):
        load_tokenizer(tmp_path / "a")
