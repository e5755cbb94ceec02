"""ARPA back-off language model files: write ours, read any standard one (SRILM, KenLM, ours; `.gz` too).

Layout: optional preamble, `\\data\\` with one `ngram N=COUNT` line per order, then for N = 1..order a
`\\N-grams:` section of `log10prob <tab> w1 .. wN [<tab> log10bow]` lines, then `\\end\\`. We write the
numbers with full float precision (Python's shortest round-trip repr), so a model survives a round trip
bit-exactly. The reader checks everything a broken or truncated file can get wrong and raises `AsrError`
naming `file:line`.
"""

from __future__ import annotations

import gzip
import logging
import math
import os
import re
import zlib
from pathlib import Path
from typing import IO, Iterator

from asr.errors import AsrError, where
from asr.fileio import atomic_write
from asr.lm.model import Ngram, NgramLM

logger = logging.getLogger(__name__)

_NGRAM_HEADER = re.compile(r"ngram\s+(\d+)\s*=\s*(\d+)")
_SECTION = re.compile(r"\\(\d+)-grams:")


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, stripped text) for every line; bad bytes or gzip data become AsrError."""
    try:
        with _open_binary(path) as f:
            for number, raw in enumerate(f, 1):
                try:
                    yield number, raw.decode("utf-8").strip()
                except UnicodeDecodeError:
                    raise AsrError(f"{where(path, number)}: not UTF-8 text; is this an ARPA language model?") from None
    except FileNotFoundError:
        raise AsrError(f"{path}: no such ARPA file") from None
    except IsADirectoryError:
        raise AsrError(f"{path}: is a directory, expected an ARPA file") from None
    except (OSError, EOFError, zlib.error) as e:
        raise AsrError(f"{path}: cannot read ({e})") from None


def _number(text: str, path: Path, line: int, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise AsrError(f"{where(path, line)}: {what} {text!r} is not a number") from None
    if math.isnan(value) or value == math.inf:
        raise AsrError(f"{where(path, line)}: {what} {text!r} is not a finite log10 value")
    return value


def read_arpa(path: str | os.PathLike) -> NgramLM:
    """Read an ARPA file (optionally gzipped) into an `NgramLM`; malformed input raises AsrError at file:line."""
    path = Path(path)
    lines = _lines(path)
    expected: dict[int, int] = {}
    probs: dict[Ngram, float] = {}
    bows: dict[Ngram, float] = {}

    # Preamble, then \data\.
    for number, text in lines:
        if text == "\\data\\":
            break
    else:
        raise AsrError(f"{path}: no \\data\\ line; not an ARPA language model (or the file is empty)")

    # The counts header, up to the first section.
    section_line = None
    for number, text in lines:
        if not text:
            continue
        m = _NGRAM_HEADER.fullmatch(text)
        if m:
            n, count = int(m.group(1)), int(m.group(2))
            if n != len(expected) + 1:
                raise AsrError(f"{where(path, number)}: expected 'ngram {len(expected) + 1}=COUNT', got {text!r}")
            expected[n] = count
            continue
        section_line = (number, text)
        break
    if not expected:
        location = where(path, section_line[0]) if section_line else path
        raise AsrError(f"{location}: the \\data\\ header has no 'ngram N=COUNT' lines before this")
    order = len(expected)
    if section_line is None:
        raise AsrError(f"{path}: truncated after the \\data\\ header: no \\1-grams: section")

    number, text = section_line
    for n in range(1, order + 1):
        if _SECTION.fullmatch(text) is None or int(text[1:].split("-")[0]) != n:
            raise AsrError(f"{where(path, number)}: expected the \\{n}-grams: section, got {text!r}")
        found = 0
        section_start = number
        for number, text in lines:
            if not text:
                continue
            if text.startswith("\\"):
                break
            fields = text.split()
            if len(fields) not in (n + 1, n + 2):
                raise AsrError(f"{where(path, number)}: a {n}-gram line needs a log10 probability, {n} word(s) and "
                               f"an optional back-off weight; got {len(fields)} fields")
            prob = _number(fields[0], path, number, "log10 probability")
            if prob > 0:
                raise AsrError(f"{where(path, number)}: log10 probability {fields[0]} is above 0 (probability > 1)")
            ngram = tuple(fields[1:n + 1])
            if ngram in probs:
                raise AsrError(f"{where(path, number)}: duplicate {n}-gram {' '.join(ngram)!r}")
            if n > 1:
                for w in ngram:
                    if (w,) not in probs:
                        raise AsrError(f"{where(path, number)}: word {w!r} has no 1-gram entry")
            probs[ngram] = prob
            if len(fields) == n + 2:
                bows[ngram] = _number(fields[-1], path, number, "log10 back-off weight")
            found += 1
        else:
            number, text = number + 1, ""  # end of file inside the section
        if found != expected[n]:
            raise AsrError(f"{where(path, section_start)}: the \\data\\ header says {expected[n]} {n}-grams, "
                           f"the section has {found}{'' if text else ' (file truncated?)'}")
        if not text:
            raise AsrError(f"{where(path, number)}: file ends inside the \\{n}-grams: section (no \\end\\); "
                           "the file is truncated")
    if text != "\\end\\":
        raise AsrError(f"{where(path, number)}: expected \\end\\ after the \\{order}-grams: section, got {text!r}")
    if not probs:
        raise AsrError(f"{path}: the model has no 1-grams")
    lm = NgramLM(probs, bows, order)
    logger.debug("read %s from %s", lm, path)
    return lm


def _format(x: float) -> str:
    return repr(float(x))


def write_arpa(lm: NgramLM, path: str | os.PathLike) -> None:
    """Write `lm` as an ARPA file (atomically); N-grams sorted within each order for reproducible files.

    Lower-order lines always carry a back-off weight (0 where there is none): readers such as pyctcdecode's
    take the unigram list from lines with one.
    """
    path = Path(path)
    by_order: list[list[Ngram]] = [[] for _ in range(lm.order)]
    for g in lm.probs:
        by_order[len(g) - 1].append(g)
    with atomic_write(path) as f:
        f.write("\\data\\\n")
        for n, grams in enumerate(by_order, 1):
            f.write(f"ngram {n}={len(grams)}\n")
        for n, grams in enumerate(by_order, 1):
            f.write(f"\n\\{n}-grams:\n")
            for g in sorted(grams):
                line = f"{_format(lm.probs[g])}\t{' '.join(g)}"
                if n < lm.order:  # every lower-order line carries a back-off weight, as KenLM writes them
                    line += f"\t{_format(lm.bows.get(g, 0.0))}"
                f.write(line + "\n")
        f.write("\n\\end\\\n")
    logger.info("wrote %s to %s", lm, path)
