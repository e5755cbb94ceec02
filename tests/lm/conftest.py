"""Real transcripts for the LM tests: speechocean762 training text, split by lines into train / held-out."""

from __future__ import annotations

from pathlib import Path

import pytest

from asr.lm.ngram import read_sentences


@pytest.fixture(scope="session")
def transcripts(speechocean_dir: Path) -> list[list[str]]:
    return read_sentences(speechocean_dir / "text")


@pytest.fixture(scope="session")
def train_heldout(transcripts: list[list[str]]) -> tuple[list[list[str]], list[list[str]]]:
    """The first 80% of the lines to train, the rest held out."""
    cut = len(transcripts) * 4 // 5
    return transcripts[:cut], transcripts[cut:]
