"""Fixtures for training tests: the synthetic corpus of synthetic_corpus.py, written once per session."""

from __future__ import annotations

import pytest

from synthetic_corpus import write_corpus


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """(train_dir, valid_dir, lang_dir, feature_config) of a tiny learnable corpus."""
    root = tmp_path_factory.mktemp("corpus")
    train, valid, lang = write_corpus(root)
    return train, valid, lang, root / "mfcc.conf"
