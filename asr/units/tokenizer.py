"""The one tokenizer interface shared by character, phone and subword units, and the `lang/` directory format.

A `lang/` directory is self-describing, so training, decoding and transcription all rebuild the same tokenizer:
- `tokens.txt`: Kaldi/icefall symbol table, `<blk> 0` first, then one `unit id` per line, ids contiguous;
- `units.yaml`: `kind` (char | phone | bpe) and the options the units were trained with;
- `lexicon.txt` (phone units) or `bpe.model` (subword units).
Id 0 is the CTC blank: `encode` never emits it, `decode` skips it.
"""

from __future__ import annotations

import abc
import dataclasses
import importlib
import logging
import os
from pathlib import Path
from typing import Any, ClassVar, Iterable, Sequence

import yaml

from asr.config import build_config
from asr.errors import AsrError, where
from asr.fileio import write_text_atomic

logger = logging.getLogger(__name__)

BLANK = "<blk>"
UNK = "<unk>"
TOKENS_FILE = "tokens.txt"
UNITS_FILE = "units.yaml"
LEXICON_FILE = "lexicon.txt"
OOV_FILE = "oov.txt"
BPE_MODEL_FILE = "bpe.model"
# the kind-specific files; saving one kind removes the others' so a reused lang dir holds nothing stale
MODEL_FILES: dict[str, tuple[str, ...]] = {
    "char": (), "phone": (LEXICON_FILE, OOV_FILE), "bpe": (BPE_MODEL_FILE,)}

# kind -> "module:class"; imported lazily so char units never import sentencepiece
KINDS: dict[str, str] = {
    "char": "asr.units.char:CharTokenizer",
    "phone": "asr.units.phone:PhoneTokenizer",
    "bpe": "asr.units.bpe:BpeTokenizer",
}


class Tokenizer(abc.ABC):
    """Maps text to unit ids (1..V-1) and back; id 0 is the CTC blank `<blk>`."""

    kind: ClassVar[str]
    options_class: ClassVar[type]  # dataclass of this kind's training options, recorded in units.yaml

    def __init__(self, tokens: Sequence[str], options: Any) -> None:
        if not tokens or tokens[0] != BLANK:
            raise ValueError(f"tokens[0] must be {BLANK!r}")
        self.tokens: list[str] = list(tokens)
        self.options = options
        self.token_to_id: dict[str, int] = {t: i for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def blank_id(self) -> int:
        return 0

    @abc.abstractmethod
    def encode(self, text: str) -> list[int]:
        """Unit ids of `text` (never 0)."""

    @abc.abstractmethod
    def decode(self, ids: Iterable[int]) -> str:
        """Text of `ids` (blanks skipped): words separated by single spaces; phone units give the phone string."""

    @abc.abstractmethod
    def _save_model(self, lang_dir: Path) -> None:
        """Write the kind-specific files (lexicon.txt, bpe.model)."""

    @classmethod
    @abc.abstractmethod
    def load(cls, lang_dir: Path, tokens: list[str], options: Any) -> "Tokenizer":
        """Rebuild from a lang dir whose tokens.txt and units.yaml (options: `options_class`) are already read."""

    def save(self, lang_dir: str | os.PathLike) -> None:
        """Write tokens.txt, units.yaml and the kind-specific files into `lang_dir` (each atomically)."""
        lang_dir = Path(lang_dir)
        lang_dir.mkdir(parents=True, exist_ok=True)
        for kind, files in MODEL_FILES.items():
            for name in files if kind != self.kind else ():
                (lang_dir / name).unlink(missing_ok=True)
        self._save_model(lang_dir)
        write_tokens(lang_dir / TOKENS_FILE, self.tokens)
        options = dataclasses.asdict(self.options) if dataclasses.is_dataclass(self.options) else dict(self.options)
        write_text_atomic(lang_dir / UNITS_FILE,
                          yaml.safe_dump({"kind": self.kind, "num_tokens": len(self.tokens), "options": options},
                                         sort_keys=False))
        logger.info("wrote %s units (%d tokens incl. %s) to %s", self.kind, len(self.tokens), BLANK, lang_dir)

    def _check_ids(self, ids: Iterable[int]) -> list[int]:
        """The non-blank ids; an id outside tokens.txt means the model and lang dir do not belong together."""
        result = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.tokens):
                raise AsrError(f"unit id {i} is outside the {len(self.tokens)} tokens of this lang dir; "
                               f"use the lang dir the model was trained with")
            if i != 0:
                result.append(i)
        return result


def write_tokens(path: str | os.PathLike, tokens: Sequence[str]) -> None:
    """Write a Kaldi/icefall symbol table: `unit id` per line, in id order."""
    write_text_atomic(path, "".join(f"{t} {i}\n" for i, t in enumerate(tokens)))


def read_tokens(path: str | os.PathLike) -> list[str]:
    """Read tokens.txt, checking `<blk> 0` comes first and ids run 0..V-1 without gaps or repeats."""
    try:
        lines = Path(path).read_bytes().decode("utf-8").split("\n")
    except OSError as e:
        raise AsrError(f"{path}: cannot read tokens ({e.strerror}); run `asr units train` first") from None
    except UnicodeDecodeError as e:
        raise AsrError(f"{path}: not UTF-8 (byte {e.start}); re-save it as UTF-8") from None
    tokens: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2 or not (fields[1].isascii() and fields[1].isdigit()):  # not '²', which int() refuses
            raise AsrError(f"{where(path, number)}: expected `unit id`, got {line!r}")
        if int(fields[1]) != len(tokens):
            raise AsrError(f"{where(path, number)}: id {fields[1]} out of order, expected {len(tokens)}; "
                           f"ids must run 0, 1, 2, ... without gaps")
        if fields[0] in tokens:
            raise AsrError(f"{where(path, number)}: unit {fields[0]!r} repeats")
        tokens.append(fields[0])
    if not tokens or tokens[0] != BLANK:
        raise AsrError(f"{path}: the first unit must be `{BLANK} 0` (the CTC blank)")
    return tokens


def read_units_yaml(lang_dir: Path) -> tuple[str, dict[str, Any]]:
    """The kind and options recorded in `lang_dir/units.yaml`."""
    path = lang_dir / UNITS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise AsrError(f"{path}: cannot read ({e.strerror}); is {lang_dir} a lang dir from `asr units train`?") \
            from None
    except UnicodeDecodeError as e:
        raise AsrError(f"{path}: not UTF-8 (byte {e.start}); rerun `asr units train`") from None
    except yaml.YAMLError as e:
        raise AsrError(f"{path}: invalid YAML ({' '.join(str(e).split())}); rerun `asr units train`") from None
    kind = data.get("kind") if isinstance(data, dict) else None
    if not isinstance(kind, str) or kind not in KINDS:
        raise AsrError(f"{path}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise AsrError(f"{path}: options must be a mapping of option: value, got {options!r}; rerun "
                       f"`asr units train`")
    return kind, dict(options)


def tokenizer_class(kind: str) -> type[Tokenizer]:
    """The implementation class for `kind` (char, phone, bpe)."""
    if kind not in KINDS:
        raise AsrError(f"unknown unit type {kind!r}; choose one of {', '.join(KINDS)}")
    module, name = KINDS[kind].split(":")
    return getattr(importlib.import_module(module), name)


def load_tokenizer(lang_dir: str | os.PathLike) -> Tokenizer:
    """Rebuild the tokenizer saved in `lang_dir` by `Tokenizer.save`."""
    lang_dir = Path(lang_dir)
    kind, options = read_units_yaml(lang_dir)
    tokens = read_tokens(lang_dir / TOKENS_FILE)
    cls = tokenizer_class(kind)
    try:  # unknown keys mean a lang dir from another version: say so rather than guess
        options = build_config(cls.options_class, overrides=options)
    except AsrError as e:
        raise AsrError(f"{lang_dir / UNITS_FILE}: {e}") from None
    try:
        return cls.load(lang_dir, tokens, options)
    except AsrError as e:  # e.g. tokens.txt of another kind: the message must say which lang dir
        if str(lang_dir) in str(e):
            raise
        raise AsrError(f"{lang_dir}: {e}") from None
