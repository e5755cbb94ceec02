"""Kaldi/NIST time-marked conversation files: `name channel start duration word` lines, times in seconds (two
decimals, as Kaldi's steps/get_ctm.sh writes them), and optionally a sixth column, the word's confidence in
[0, 1]; sclite and alignment tools read them."""

from __future__ import annotations

import math
import os
from pathlib import Path

from asr.errors import AsrError


def ctm_line(name: str, start_s: float, duration_s: float, word: str, channel: int = 1,
             confidence: float | None = None) -> str:
    """One ctm line for a word starting `start_s` into recording (or utterance) `name`."""
    conf = "" if confidence is None else f" {confidence:.2f}"
    return f"{name} {channel} {start_s:.2f} {duration_s:.2f} {word}{conf}\n"


def read_ctm(path: str | os.PathLike) -> dict[str, list[tuple[float, str, float | None]]]:
    """name -> its words as (start, word, confidence or None), in time order; a malformed line raises AsrError
    naming the file and line."""
    words: dict[str, list[tuple[float, str, float | None]]] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise AsrError(f"{path}: cannot read ({e.__class__.__name__}); give a UTF-8 ctm file") from None
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields or fields[0].startswith(";;"):
            continue
        try:
            if len(fields) not in (5, 6):
                raise ValueError
            start, duration = float(fields[2]), float(fields[3])
            confidence = float(fields[5]) if len(fields) == 6 else None
        except ValueError:
            raise AsrError(f"{path}:{number}: expected `name channel start duration word [confidence]`, got "
                           f"{line.strip()!r}") from None
        if confidence is not None and not 0.0 <= confidence <= 1.0:
            raise AsrError(f"{path}:{number}: confidence {confidence} outside [0, 1]")
        if duration < 0 or not math.isfinite(start + duration):
            raise AsrError(f"{path}:{number}: start {fields[2]} / duration {fields[3]} are not valid times")
        words.setdefault(fields[0], []).append((start, fields[4], confidence))
    return {name: sorted(ws, key=lambda w: w[0]) for name, ws in words.items()}
