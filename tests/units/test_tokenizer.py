"""The lang/ directory contract shared by all unit kinds."""

from __future__ import annotations

import pytest
import yaml

from asr.errors import AsrError
from asr.units import load_tokenizer, read_tokens, train_tokenizer


@pytest.mark.parametrize("kind", ["char", "phone", "bpe"])
def test_units_yaml_records_kind_and_options(tmp_path, kind):
    options = {"bpe": {"vocab_size": 19}, "phone": {"stress": False, "oov": "error"}, "char": {}}[kind]
    tokenizer = train_tokenizer(kind, ["ZERO ONE TWO THREE", "FOUR FIVE SIX"], options)
    tokenizer.save(tmp_path)
    units = yaml.safe_load((tmp_path / "units.yaml").read_text(encoding="utf-8"))
    assert units["kind"] == kind and units["num_tokens"] == len(tokenizer.tokens)
    assert {k: units["options"][k] for k in options} == options
    loaded = load_tokenizer(tmp_path)
    assert type(loaded) is type(tokenizer) and loaded.tokens == tokenizer.tokens
    assert loaded.options == tokenizer.options


def test_unknown_option_for_kind():
    with pytest.raises(AsrError, match="unknown option 'vocab_size'"):
        train_tokenizer("char", ["A"], {"vocab_size": 5})


def test_unknown_kind():
    with pytest.raises(AsrError, match="unknown unit type 'word'"):
        train_tokenizer("word", ["A"])


def test_lang_dir_without_units_yaml(tmp_path):
    with pytest.raises(AsrError, match="units.yaml: cannot read"):
        load_tokenizer(tmp_path)


def test_units_yaml_from_another_version(tmp_path):
    train_tokenizer("char", ["A"]).save(tmp_path)
    (tmp_path / "units.yaml").write_text("kind: char\noptions: {lowercase: true}\n", encoding="utf-8")
    with pytest.raises(AsrError, match="units.yaml: .*unknown option 'lowercase'"):
        load_tokenizer(tmp_path)


@pytest.mark.parametrize("content, message", [
    ("a 0\n<blk> 1\n", "first unit must be `<blk> 0`"),
    ("<blk> 0\na 2\n", r"tokens.txt:2: id 2 out of order"),
    ("<blk> 0\na\n", r"tokens.txt:2: expected `unit id`"),
    ("<blk> 0\na 1\na 2\n", r"tokens.txt:3: unit 'a' repeats"),
])
def test_bad_tokens_txt_names_the_line(tmp_path, content, message):
    (tmp_path / "tokens.txt").write_text(content, encoding="utf-8")
    with pytest.raises(AsrError, match=message):
        read_tokens(tmp_path / "tokens.txt")


def test_reused_lang_dir_keeps_no_files_of_another_kind(tmp_path):
    train_tokenizer("phone", ["ZERO XQZ"]).save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"tokens.txt", "units.yaml", "lexicon.txt", "oov.txt"}
    train_tokenizer("char", ["ZERO XQZ"]).save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"tokens.txt", "units.yaml"}
    assert load_tokenizer(tmp_path).kind == "char"
