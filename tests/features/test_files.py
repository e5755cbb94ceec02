"""Feature files: every format written is read back equal, by us and by the tool that owns the format."""

from __future__ import annotations

import numpy as np
import pytest

from asr.errors import AsrError
from asr.features.files import ArkOrNpzWriter, read_features, write_matrix


@pytest.fixture
def matrices() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"a": rng.normal(size=(7, 13)).astype(np.float32), "b": rng.normal(size=(3, 13)).astype(np.float32)}


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".htk"])
def test_single_matrix_formats_round_trip(tmp_path, matrices, suffix):
    path = tmp_path / f"a{suffix}"
    write_matrix(path, matrices["a"])
    ((key, values),) = list(read_features(path))
    assert key == "a"
    np.testing.assert_allclose(values, matrices["a"], rtol=1e-6)
    if suffix == ".npy":
        np.testing.assert_array_equal(np.load(path), matrices["a"])


@pytest.mark.parametrize("suffix", [".ark", ".npz"])
def test_archives_round_trip(tmp_path, matrices, suffix):
    path = tmp_path / f"all{suffix}"
    with ArkOrNpzWriter(path) as writer:
        for key, values in matrices.items():
            writer.write(key, values)
    back = dict(read_features(path))
    assert sorted(back) == ["a", "b"]
    for key in matrices:
        np.testing.assert_array_equal(back[key], matrices[key])
    if suffix == ".ark":
        kaldiio = pytest.importorskip("kaldiio")
        for key, values in kaldiio.load_scp(str(tmp_path / "all.scp")).items():
            np.testing.assert_array_equal(values, matrices[key])


def test_failed_archive_leaves_nothing(tmp_path, matrices):
    path = tmp_path / "all.ark"
    with pytest.raises(RuntimeError):
        with ArkOrNpzWriter(path) as writer:
            writer.write("a", matrices["a"])
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_unknown_or_missing_files_are_user_errors(tmp_path):
    with pytest.raises(AsrError, match="unknown"):
        write_matrix(tmp_path / "x.txt", np.zeros((2, 2)))
    with pytest.raises(AsrError, match="not found"):
        list(read_features(tmp_path / "missing.npy"))
    with pytest.raises(AsrError, match="feats.scp"):
        list(read_features(tmp_path))
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(AsrError, match="bad.npy"):
        list(read_features(tmp_path / "bad.npy"))
