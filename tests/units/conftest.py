"""Transcripts for unit tests: the speechocean762 prompts (real text, 2,500 lines) and a tiny hand-made set."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def speechocean_texts(speechocean_dir: Path) -> list[str]:
    """The transcripts of the speechocean762 training half, one per utterance."""
    lines = (speechocean_dir / "text").read_text(encoding="utf-8").splitlines()
    return [line.split(maxsplit=1)[1] for line in lines]
