"""Character units, with `|` as the word-separator token.

Like wav2vec2 and flashlight letter models, the space between words is a unit of its own, `|`, so a CTC model
learns word boundaries and `decode` can restore them: "HI THERE" <-> H I | T H E R E. The separator goes
between words only (none at the ends). Characters unseen in the training text encode to `<unk>`, which decodes
to nothing, so held-out text with a rare symbol still trains and scores.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any, Iterable

from asr.errors import AsrError
from asr.units.tokenizer import BLANK, UNK, Tokenizer

logger = logging.getLogger(__name__)

WORD_SEPARATOR = "|"


@dataclasses.dataclass
class CharOptions:
    """Character units have no tunables; the dataclass keeps units.yaml uniform across kinds."""


class CharTokenizer(Tokenizer):
    """Characters of the training text, sorted by code point, after `<blk>`, `<unk>` and `|`."""

    kind = "char"
    options_class = CharOptions

    def __init__(self, tokens: list[str], options: CharOptions | None = None) -> None:
        super().__init__(tokens, options or CharOptions())
        if tokens[1:3] != [UNK, WORD_SEPARATOR]:
            raise AsrError(f"character units must start {BLANK}, {UNK}, {WORD_SEPARATOR}; got {tokens[:3]}")
        self.unk_id = 1
        self.separator_id = 2

    @classmethod
    def train(cls, texts: Iterable[str], options: CharOptions | None = None) -> "CharTokenizer":
        """Collect the characters of `texts` (one transcript each); sorted, so ids are stable across runs."""
        chars = {c for text in texts for c in text if not c.isspace()}
        if WORD_SEPARATOR in chars:
            raise AsrError(f"the training text contains {WORD_SEPARATOR!r}, the word-separator unit; "
                           f"remove it (asr prepare --remove-punctuation) or replace it")
        if not chars:
            raise AsrError("the training text has no characters; check the text file")
        return cls([BLANK, UNK, WORD_SEPARATOR, *sorted(chars)], options)

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for word in text.split():
            if ids:
                ids.append(self.separator_id)
            ids.extend(self.token_to_id.get(c, self.unk_id) for c in word)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        pieces = [" " if i == self.separator_id else self.tokens[i]
                  for i in self._check_ids(ids) if i != self.unk_id]
        return " ".join("".join(pieces).split())

    def _save_model(self, lang_dir: Path) -> None:
        """Everything lives in tokens.txt."""

    @classmethod
    def load(cls, lang_dir: Path, tokens: list[str], options: Any) -> "CharTokenizer":
        return cls(tokens, options)
