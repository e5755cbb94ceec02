"""Kaldi/NIST time-marked conversation files: `name channel start duration word` lines, times in seconds (two
decimals, as Kaldi's steps/get_ctm.sh writes them), and optionally a sixth column, the word's confidence in
[0, 1]; sclite and alignment tools read them."""

from __future__ import annotations


def ctm_line(name: str, start_s: float, duration_s: float, word: str, channel: int = 1,
             confidence: float | None = None) -> str:
    """One ctm line for a word starting `start_s` into recording (or utterance) `name`."""
    conf = "" if confidence is None else f" {confidence:.2f}"
    return f"{name} {channel} {start_s:.2f} {duration_s:.2f} {word}{conf}\n"
