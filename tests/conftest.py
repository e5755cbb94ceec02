"""Shared fixtures: real speech from ../shared/data, located relative to the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline (the machines are shared and noisy); under CI the examples are derandomized, so a
# red CI is reproducible and a green one does not depend on luck. Locally every run explores new examples.
settings.register_profile("asr", deadline=None)
settings.register_profile("ci", parent=settings.get_profile("asr"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "asr")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FSDD = SHARED_DATA / "fsdd" / "recordings"
SPEECHOCEAN = SHARED_DATA / "speechocean762-train"


def shared_corpus(path: Path) -> Path:
    """A corpus of ../shared/data: tests that need it skip where it is absent, except under CI, where a missing
    corpus is a failure (a green CI must not mean that the real-speech tests never ran)."""
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{path} not present: CI runs beside ../shared/data")
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(scope="session")
def fsdd_dir() -> Path:
    """The FSDD recordings folder (8 kHz digits)."""
    return shared_corpus(FSDD)


@pytest.fixture(scope="session")
def speechocean_dir() -> Path:
    """The speechocean762 training half (16 kHz FLAC with Kaldi lists)."""
    return shared_corpus(SPEECHOCEAN)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """(train_dir, valid_dir, lang_dir, feature_config) of synthetic_corpus.py's tiny learnable corpus."""
    from synthetic_corpus import write_corpus

    root = tmp_path_factory.mktemp("corpus")
    train, valid, lang = write_corpus(root)
    return train, valid, lang, root / "mfcc.conf"


@pytest.fixture(scope="session")
def peaky():
    """`peaky_posteriors.peaky_log_probs`, for decoder and search tests to build posteriors with."""
    from peaky_posteriors import peaky_log_probs

    return peaky_log_probs


@pytest.fixture(scope="module")
def cluster():
    """A dask.distributed LocalCluster of two one-thread worker processes, for `--cmd dask:ADDRESS` tests (skipped
    without the [cluster] extra)."""
    distributed = pytest.importorskip("distributed", reason="the [cluster] extra (pip install 'asr[cluster]')")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as local_cluster:
        yield local_cluster
