"""The one exception type for user errors.

Anything a user can fix (a bad file, a bad option, a malformed line) raises `AsrError` with a message that
names the file, the line where known, and the fix. The CLI prints it as one line and exits with code 1;
programming errors keep their traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
from types import ModuleType
from typing import Iterator


class AsrError(Exception):
    """A user error: bad input file, bad option, inconsistent data."""


def where(path: str | os.PathLike, line: int | None = None) -> str:
    """Format a location as `file:line` (1-based line) for error messages."""
    return f"{os.fspath(path)}:{line}" if line is not None else os.fspath(path)


@contextlib.contextmanager
def skipped_into(failed: dict[str, str] | None, key: str) -> Iterator[None]:
    """`--skip-errors` for one item: an AsrError inside is logged and recorded as `failed[key]` instead of raised;
    with `failed` None (no skipping) it propagates."""
    try:
        yield
    except AsrError as e:
        if failed is None:
            raise
        logging.getLogger("asr").warning("skipping %s: %s", key, e)
        failed[key] = str(e)


def import_extra(module: str, extra: str, purpose: str) -> ModuleType:
    """Import an optional dependency, or say in one line which extra of `asr` brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise AsrError(f"{purpose} needs {module.split('.')[0]}, which is not installed: "
                       f"pip install 'asr[{extra}]'") from None
