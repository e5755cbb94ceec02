"""Transcript normalization: case, punctuation, and numbers spelled as words. Every step is off by default.

Units and language models only see what the transcripts contain, so "16", "sixteen" and "Sixteen," are three
different words unless they are normalized the same way for training and scoring. Each changed line is
reported (utterance, before, after) so a user can see what was rewritten.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import unicodedata
from typing import Literal, Mapping

from asr.fileio import atomic_write

logger = logging.getLogger(__name__)

_ONES = ["ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE", "TEN", "ELEVEN",
         "TWELVE", "THIRTEEN", "FOURTEEN", "FIFTEEN", "SIXTEEN", "SEVENTEEN", "EIGHTEEN", "NINETEEN"]
_TENS = ["", "", "TWENTY", "THIRTY", "FORTY", "FIFTY", "SIXTY", "SEVENTY", "EIGHTY", "NINETY"]
_SCALES = ["", "THOUSAND", "MILLION", "BILLION", "TRILLION", "QUADRILLION"]
_ORDINAL_WORDS = {"ONE": "FIRST", "TWO": "SECOND", "THREE": "THIRD", "FIVE": "FIFTH", "EIGHT": "EIGHTH",
                  "NINE": "NINTH", "TWELVE": "TWELFTH"}
# 1,234,567 | 3.25 | 21st | 007 ; digits glued to letters (B2B, MP3) are left alone
_NUMBER = re.compile(r"(?<![^\W\d_])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th|ST|ND|RD|TH)?(?![^\W\d_])")


@dataclasses.dataclass
class NormalizeOptions:
    case: Literal["keep", "upper", "lower"] = "keep"
    remove_punctuation: bool = False  # drop punctuation; apostrophes inside words (DON'T) stay
    numbers_to_words: bool = False  # "16" -> SIXTEEN, "3.5" -> THREE POINT FIVE, "21st" -> TWENTY FIRST

    @property
    def active(self) -> bool:
        return self.case != "keep" or self.remove_punctuation or self.numbers_to_words


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    if n >= 100:
        words += [_ONES[n // 100], "HUNDRED"]
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10])
        n %= 10
        if n:
            words.append(_ONES[n])
    elif n or not words:
        words.append(_ONES[n])
    return words


def number_to_words(n: int) -> list[str]:
    """Cardinal words of a non-negative integer: 1016 -> ONE THOUSAND SIXTEEN."""
    if n == 0:
        return ["ZERO"]
    if n >= 1000 ** len(_SCALES):
        return digits_to_words(str(n))  # too long to say as a number: read the digits
    groups: list[int] = []
    while n:
        groups.append(n % 1000)
        n //= 1000
    words: list[str] = []
    for scale, group in reversed(list(enumerate(groups))):
        if group:
            words += _below_thousand(group) + ([_SCALES[scale]] if _SCALES[scale] else [])
    return words


def digits_to_words(digits: str) -> list[str]:
    """Digit by digit: 007 -> ZERO ZERO SEVEN (codes, decimals, numbers with leading zeros)."""
    return [_ONES[int(d)] for d in digits]


def ordinal_words(words: list[str]) -> list[str]:
    """Make the last word ordinal: TWENTY ONE -> TWENTY FIRST, FORTY -> FORTIETH."""
    last = words[-1]
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("Y"):
        last = last[:-1] + "IETH"
    else:
        last += "TH"
    return words[:-1] + [last]


def _spell_number(match: re.Match) -> str:
    integer, fraction, suffix = match.group(1), match.group(2), match.group(3)
    digits = integer.replace(",", "")
    words = digits_to_words(digits) if len(digits) > 1 and digits.startswith("0") else number_to_words(int(digits))
    if fraction is not None:
        words += ["POINT", *digits_to_words(fraction)]
    elif suffix:
        words = ordinal_words(words)
    return " ".join(words)


def _remove_punctuation(text: str) -> str:
    kept = []
    for i, c in enumerate(text):
        if not unicodedata.category(c).startswith("P"):
            kept.append(c)
        elif c in "'’" and 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum():
            kept.append("'")  # DON'T, O'BRIEN: part of the word
        else:
            kept.append(" ")
    return "".join(kept)


def normalize_text(text: str, options: NormalizeOptions) -> str:
    """Normalize one transcript; whitespace always collapses to single spaces."""
    if options.numbers_to_words:
        lower_case_line = text == text.lower() and text != text.upper()  # has letters, all lower case
        text = _NUMBER.sub(lambda m: _spell_number(m).lower() if lower_case_line else _spell_number(m), text)
    if options.remove_punctuation:
        text = _remove_punctuation(text)
    if options.case == "upper":
        text = text.upper()
    elif options.case == "lower":
        text = text.lower()
    return " ".join(text.split())


def normalize_transcripts(transcripts: Mapping[str, str], options: NormalizeOptions
                          ) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Normalize every transcript; returns the new map and the changed lines as (utterance, before, after)."""
    normalized: dict[str, str] = {}
    changed: list[tuple[str, str, str]] = []
    for utt, text in transcripts.items():
        normalized[utt] = normalize_text(text, options) if options.active else text
        if normalized[utt] != text:
            changed.append((utt, text, normalized[utt]))
    if changed:
        logger.info("normalization changed %d of %d transcripts, e.g. %s: %r -> %r", len(changed),
                    len(transcripts), *changed[0])
    return normalized, changed


def write_normalization_report(path: str | os.PathLike, changed: list[tuple[str, str, str]]) -> None:
    """Write the changed lines as `utterance<TAB>before<TAB>after`, one per line."""
    with atomic_write(path) as f:
        for utt, before, after in changed:
            f.write(f"{utt}\t{before}\t{after}\n")
    logger.info("wrote the %d lines normalization changed (utterance, before, after) to %s", len(changed), path)
