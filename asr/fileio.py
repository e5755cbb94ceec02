"""Atomic output: write to a temporary name in the same folder, rename when complete.

An interrupted run therefore never leaves a truncated file under the final name, and an existing output
stays intact until its replacement is whole.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from asr.errors import AsrError


def _process_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates its file 0600; outputs get the mode a plain open() would give them (0666 minus the umask), so
# data dirs and models stay readable to the group as with Kaldi's own tools
_FILE_MODE = 0o666 & ~_process_umask()


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file beside `path`; on success fsync and rename it onto `path`, on error remove it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path` for writers that want a filename; rename it onto `path` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write a whole text file atomically."""
    with atomic_write(path) as f:
        f.write(text)


def own_folder(parent: str | os.PathLike, name: str) -> Path:
    """A folder asr writes into inside a directory it was given (a data dir, a model dir). A symlink there (a
    directory from elsewhere may ship one, e.g. `.backup -> ~/somewhere`) would send our writes outside, so it
    is refused."""
    folder = Path(parent) / name
    if folder.is_symlink():
        raise AsrError(f"{folder}: is a symbolic link; asr writes its own {name}/ here, remove the link")
    return folder
