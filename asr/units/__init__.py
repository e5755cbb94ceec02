"""Output units of the acoustic model: characters, phones (CMU dictionary) or subwords (sentencepiece).

All three share `Tokenizer` (`.kind`, `.tokens` with `tokens[0] == "<blk>"`, `.encode`, `.decode`, `.save`) and
are saved into a `lang/` directory that `load_tokenizer` reads back. See `asr.units.tokenizer` for the format.
"""

from __future__ import annotations

from typing import Any, Iterable

from asr.config import build_config
from asr.units.tokenizer import (BLANK, KINDS, UNK, Tokenizer, load_tokenizer, read_tokens, tokenizer_class,
                                 write_tokens)

__all__ = ["BLANK", "KINDS", "UNK", "Tokenizer", "load_tokenizer", "read_tokens", "write_tokens",
           "tokenizer_class", "train_tokenizer"]


def train_tokenizer(kind: str, texts: Iterable[str], options: dict[str, Any] | None = None) -> Tokenizer:
    """Train units of `kind` (char | phone | bpe) on transcripts `texts`, with `options` for that kind."""
    cls = tokenizer_class(kind)
    return cls.train(texts, build_config(cls.options_class, overrides=options or {}))
