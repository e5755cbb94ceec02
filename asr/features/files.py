"""Feature matrices on disk: Kaldi ark/scp, npy, npz, HTK, CSV; and reading any of them back.

Every writer goes through an atomic temporary name (asr.fileio / asr.kaldi_io), so an interrupted run leaves
either the previous file or the complete new one.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np

from asr.errors import AsrError
from asr.fileio import atomic_write
from asr.kaldi_io import ArkWriter, read_scp_matrices, read_ark, read_htk, write_htk

SINGLE_FORMATS = (".npy", ".csv", ".htk")  # one matrix per file
ARCHIVE_FORMATS = (".ark", ".npz")  # many keyed matrices per file
FEATURE_FORMATS = SINGLE_FORMATS + ARCHIVE_FORMATS + (".scp",)


def write_matrix(path: str | os.PathLike, feats: np.ndarray, *, frame_shift_s: float = 0.01,
                 htk_kind: str = "USER") -> None:
    """Write one (frames, dim) matrix as .npy (float32), .csv (one frame per line) or .htk."""
    path = Path(path)
    suffix = path.suffix.lower()
    feats = np.asarray(feats, dtype=np.float32)
    if suffix == ".npy":
        with atomic_write(path, "wb") as f:
            np.save(f, feats)
    elif suffix == ".csv":
        text = io.StringIO()
        np.savetxt(text, feats, delimiter=",", fmt="%.9g")
        with atomic_write(path) as f:
            f.write(text.getvalue())
    elif suffix == ".htk":
        write_htk(path, feats, frame_shift_s, htk_kind)
    else:
        raise AsrError(f"{path}: unknown output format {suffix!r}; use one of {', '.join(SINGLE_FORMATS)}")


class ArkOrNpzWriter:
    """Many keyed matrices into one .ark (with a .scp beside it) or one .npz, made visible on close."""

    def __init__(self, path: str | os.PathLike, *, compress: bool = False) -> None:
        self.path = Path(path)
        self.suffix = self.path.suffix.lower()
        if self.suffix not in ARCHIVE_FORMATS:
            raise AsrError(f"{path}: unknown archive format {self.suffix!r}; use .ark or .npz")
        self._ark = (ArkWriter(self.path.absolute(), self.path.with_suffix(".scp"), compress=compress)
                     if self.suffix == ".ark" else None)
        self._arrays: dict[str, np.ndarray] = {}

    def write(self, key: str, feats: np.ndarray) -> None:
        feats = np.asarray(feats, dtype=np.float32)
        if self._ark is not None:
            self._ark.write(key, feats)
        else:
            self._arrays[key] = feats

    def close(self) -> None:
        if self._ark is not None:
            self._ark.close()
        else:
            with atomic_write(self.path, "wb") as f:
                np.savez(f, **self._arrays)

    def __enter__(self) -> ArkOrNpzWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        elif self._ark is not None:
            self._ark.__exit__(exc_type, exc, tb)


def read_features(path: str | os.PathLike) -> Iterator[tuple[str, np.ndarray]]:
    """(key, matrix) pairs from a data directory (its feats.scp), .scp, .ark, .npz, .npy, .htk or .csv."""
    for key, array in _read_feature_arrays(path):
        # a .npy/.npz may hold anything numpy can save (a scalar, strings, 3-D): refuse it here, by name
        if array.ndim not in (1, 2) or not (np.issubdtype(array.dtype, np.integer)
                                            or np.issubdtype(array.dtype, np.floating)):
            raise AsrError(f"{path}: {key!r} is a {array.ndim}-D {array.dtype} array; feature files hold "
                           f"(frames, dims) numeric matrices")
        yield key, array


def _read_feature_arrays(path: str | os.PathLike) -> Iterator[tuple[str, np.ndarray]]:
    path = Path(path)
    if path.is_dir():
        if not (path / "feats.scp").is_file():
            raise AsrError(f"{path}: no feats.scp; run `asr features mfcc|fbank {path}` first")
        path = path / "feats.scp"
    if not path.exists():
        raise AsrError(f"{path}: not found; give a feature file (.scp .ark .npz .npy .htk .csv) or a data directory")
    suffix = path.suffix.lower()
    if suffix == ".scp":
        yield from read_scp_matrices(path)
    elif suffix == ".ark":
        yield from read_ark(path)
    elif suffix == ".npz":
        try:
            with np.load(path) as archive:
                for key in archive.files:
                    yield key, archive[key]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise AsrError(f"{path}: cannot read as .npz ({e}); the file is corrupt") from None
    elif suffix == ".npy":
        try:
            yield path.stem, np.load(path)
        except (OSError, ValueError) as e:
            raise AsrError(f"{path}: cannot read as .npy ({e}); the file is corrupt") from None
    elif suffix == ".htk":
        yield path.stem, read_htk(path).feats
    elif suffix == ".csv":
        try:
            yield path.stem, np.loadtxt(path, delimiter=",", ndmin=2)
        except ValueError as e:
            raise AsrError(f"{path}: not a numeric CSV ({e}); one frame per line, comma-separated") from None
    else:
        raise AsrError(f"{path}: unknown feature format {suffix!r}; use one of {', '.join(FEATURE_FORMATS)}")
