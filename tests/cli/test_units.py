"""`asr units` as a user runs it: train a lang dir from a Kaldi text file, encode, decode, normalize."""

from __future__ import annotations

import pytest
import yaml

from asr.cli import main
from asr.units import load_tokenizer


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as e:
        code = e.code or 0
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text"
    path.write_text("u1 ZERO ONE TWO\nu2 THREE FOUR FIVE SIX\nu3 SEVEN EIGHT NINE\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("flags", [["--type", "char"], ["--type", "phone", "--no-stress"],
                                   ["--type", "bpe", "--vocab-size", "30", "--model-type", "bpe"]])
def test_train_encode_decode_round_trip(tmp_path, text_file, capsys, flags):
    lang = tmp_path / "lang"
    assert run(["units", "train", *flags, str(text_file), str(lang)], capsys)[0] == 0
    assert (lang / "tokens.txt").read_text(encoding="utf-8").startswith("<blk> 0\n")
    kind = yaml.safe_load((lang / "units.yaml").read_text(encoding="utf-8"))["kind"]
    assert kind == flags[1]
    ids = tmp_path / "ids"
    assert run(["units", "encode", str(lang), str(text_file), "-o", str(ids)], capsys)[0] == 0
    code, out, _ = run(["units", "decode", str(lang), str(ids)], capsys)
    assert code == 0
    tokenizer = load_tokenizer(lang)
    expected = {"char": "u1 ZERO ONE TWO", "bpe": "u1 ZERO ONE TWO",
                "phone": "u1 " + tokenizer.decode(tokenizer.encode("ZERO ONE TWO"))}[kind]
    assert out.splitlines()[0] == expected
    assert out.splitlines()[0] != "u1" and len(out.splitlines()) == 3


def test_encode_symbols_prints_units(tmp_path, text_file, capsys):
    lang = tmp_path / "lang"
    run(["units", "train", "--type", "char", str(text_file), str(lang)], capsys)
    code, out, _ = run(["units", "encode", "--symbols", str(lang), str(text_file)], capsys)
    assert code == 0 and out.splitlines()[0] == "u1 Z E R O | O N E | T W O"


def test_option_of_another_unit_type_is_an_error(tmp_path, text_file, capsys):
    code, _, err = run(["units", "train", "--type", "char", "--vocab-size", "5", str(text_file),
                        str(tmp_path / "lang")], capsys)
    assert code == 1 and "asr: error: --vocab-size does not apply to --type char" in err
    assert not (tmp_path / "lang").exists()


def test_words_extend_the_phone_lexicon(tmp_path, text_file, capsys):
    words = tmp_path / "words.txt"
    words.write_text("HUNDRED\nTHOUSAND 7\n", encoding="utf-8")
    lang = tmp_path / "lang"
    assert run(["units", "train", "--type", "phone", "--no-stress", "--words", str(words), str(text_file),
                str(lang)], capsys)[0] == 0
    lexicon = (lang / "lexicon.txt").read_text(encoding="utf-8").splitlines()
    assert "HUNDRED HH AH N D R AH D" in lexicon and any(line.startswith("THOUSAND ") for line in lexicon)
    assert any(line.startswith("ZERO ") for line in lexicon)
    code, _, err = run(["units", "train", "--type", "char", "--words", str(words), str(text_file),
                        str(tmp_path / "lang_char")], capsys)
    assert code == 1 and "--words does not apply to --type char" in err


def test_crlf_text_names_file_and_line(tmp_path, capsys):
    text = tmp_path / "text"
    text.write_bytes(b"u1 A B\nu2 C D\r\n")
    code, _, err = run(["units", "train", "--type", "char", str(text), str(tmp_path / "lang")], capsys)
    assert code == 1 and f"{text}:2: CRLF line end" in err


def test_non_utf8_text_names_file_and_line(tmp_path, capsys):
    text = tmp_path / "text"
    text.write_bytes(b"u1 A B\nu2 caf\xe9\n")
    code, _, err = run(["units", "train", "--type", "char", str(text), str(tmp_path / "lang")], capsys)
    assert code == 1 and f"{text}:2: not valid UTF-8" in err


def test_encode_oov_under_error_policy_names_the_utterance(tmp_path, text_file, capsys):
    lang = tmp_path / "lang"
    run(["units", "train", "--type", "phone", "--oov", "error", str(text_file), str(lang)], capsys)
    held_out = tmp_path / "held_out"
    held_out.write_text("v1 ZERO XQZ\n", encoding="utf-8")
    code, _, err = run(["units", "encode", str(lang), str(held_out)], capsys)
    assert code == 1 and "utterance v1: word 'XQZ' has no pronunciation" in err


def test_decode_rejects_non_integer_ids(tmp_path, text_file, capsys):
    lang = tmp_path / "lang"
    run(["units", "train", "--type", "char", str(text_file), str(lang)], capsys)
    ids = tmp_path / "ids"
    ids.write_text("u1 3 x 4\n", encoding="utf-8")
    code, _, err = run(["units", "decode", str(lang), str(ids)], capsys)
    assert code == 1 and "utterance u1: expected integer unit ids" in err


def test_normalize_writes_text_and_report(tmp_path, capsys):
    text = tmp_path / "text"
    text.write_text("a1 I am 16.\na2 OK\n", encoding="utf-8")
    out, report = tmp_path / "normalized", tmp_path / "report.tsv"
    code, _, _ = run(["units", "normalize", "--case", "upper", "--remove-punctuation", "--numbers-to-words",
                      "--report", str(report), str(text), str(out)], capsys)
    assert code == 0
    assert out.read_text(encoding="utf-8") == "a1 I AM SIXTEEN\na2 OK\n"
    assert report.read_text(encoding="utf-8") == "a1\tI am 16.\tI AM SIXTEEN\n"
