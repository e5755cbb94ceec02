"""Kaldi text maps (wav.scp, text, utt2spk, feats.scp, ...): `key value` lines, linted the way Kaldi's
validate_data_dir.sh does (encoding, BOM, CRLF, empty lines, duplicates, sort order), read and written."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from asr.errors import AsrError, where
from asr.fileio import atomic_write

_BOM = "\ufeff"


@dataclass
class MapProblem:
    """One problem found in a Kaldi text map, located to file:line (the formats `validate` reports)."""

    path: str
    line: int | None
    kind: str  # encoding, bom, crlf, empty-line, leading-space, whitespace, trailing-space, no-newline,
    #            duplicate, unsorted, ... (datadir adds its own kinds)
    message: str

    def __str__(self) -> str:
        return f"{where(self.path, self.line)}: {self.message}"


@dataclass
class MapScan:
    """A text map read leniently: entries in file order (first occurrence of a key wins) and the problems."""

    path: str
    entries: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # key -> 1-based line number
    problems: list[MapProblem] = field(default_factory=list)


def scan_kaldi_map(path: str | os.PathLike, *, is_text: bool = False) -> MapScan:
    """Read `key value...` lines, tolerating (and recording) BOM, CRLF, blank lines, duplicates, bad whitespace.

    `is_text`: the file is a transcript, where Kaldi's validate_text.pl also rejects tabs and other non-space
    whitespace, and we flag trailing spaces (they become empty tokens in naive splitters).
    Non-UTF-8 lines are recorded and skipped. The caller decides which problems are fatal.
    """
    path = os.fspath(path)
    scan = MapScan(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise AsrError(f"{path}: file not found; check the data directory") from None
    except IsADirectoryError:
        raise AsrError(f"{path}: is a directory, expected a Kaldi text file") from None
    if not raw:
        return scan
    chunks = raw.split(b"\n")
    if chunks[-1] == b"":
        chunks.pop()
    else:
        scan.problems.append(MapProblem(path, len(chunks), "no-newline", "last line has no newline at its end"))
    previous_key: str | None = None
    for number, chunk in enumerate(chunks, start=1):
        def problem(kind: str, message: str) -> None:
            scan.problems.append(MapProblem(path, number, kind, message))

        try:
            line = chunk.decode("utf-8")
        except UnicodeDecodeError as e:
            problem("encoding", f"not valid UTF-8 (byte {chunk[e.start]:#04x} at column {e.start + 1}); convert "
                                f"the file to UTF-8, e.g. iconv -f LATIN1 -t UTF-8")
            continue
        if number == 1 and line.startswith(_BOM):
            problem("bom", "starts with a byte-order mark (BOM); remove it (asr data fix does)")
            line = line[1:]
        if line.endswith("\r"):
            problem("crlf", "CRLF line end; Kaldi reads the '\\r' as part of the value, convert with dos2unix "
                            "or asr data fix")
            line = line.rstrip("\r")
        if not line.strip():
            problem("empty-line", "empty line; remove it")
            continue
        if line[0].isspace():
            problem("leading-space", "line starts with whitespace; the id must be the first field")
        if is_text and re.search(r"[^\S ]", line):
            problem("whitespace", "contains a tab or other whitespace than ' ' (Kaldi's validate_text.pl rejects it); "
                    "replace it with a space")
        elif is_text and line != line.rstrip():
            problem("trailing-space", "trailing whitespace; remove it")
        parts = line.strip().split(maxsplit=1)
        key, value = parts[0], (parts[1].strip() if len(parts) > 1 else "")
        if key in scan.entries:
            problem("duplicate", f"duplicate id '{key}' (first on line {scan.lines[key]}); keep one of them")
            continue
        if previous_key is not None and _c_key(key) < _c_key(previous_key):
            problem("unsorted", f"not sorted: '{key}' after '{previous_key}'; sort in C locale (LC_ALL=C sort) or run "
                    f"asr data fix")
        previous_key = key
        scan.entries[key] = value
        scan.lines[key] = number
    return scan


def read_kaldi_map(path: str | os.PathLike, *, is_text: bool = False) -> dict[str, str]:
    """Read a Kaldi text map `key -> rest of line` strictly: any format problem is an AsrError naming file:line.

    Unsorted order is not an error here (reading does not depend on it; `validate` reports it).
    """
    scan = scan_kaldi_map(path, is_text=is_text)
    _raise_fatal(scan)
    return scan.entries


# problems that make a map ambiguous or wrongly read by Kaldi; reading refuses them, `asr data fix` repairs them
FATAL_MAP_PROBLEMS = frozenset({"encoding", "bom", "crlf", "empty-line", "duplicate"})


def _raise_fatal(scan: MapScan) -> None:
    for problem in scan.problems:
        if problem.kind in FATAL_MAP_PROBLEMS:
            raise AsrError(f"{problem}; or run `asr data fix` on the data directory")


def c_sorted(keys) -> list[str]:
    """Sort ids as `LC_ALL=C sort` does: by UTF-8 bytes, which is what Kaldi tools assume."""
    return sorted(keys, key=_c_key)


def _c_key(key: str) -> bytes:
    return key.encode("utf-8", "surrogateescape")


def write_kaldi_map(path: str | os.PathLike, mapping: dict[str, str]) -> None:
    """Write `key value` lines in C-locale order, atomically (a map with no values writes bare keys)."""
    with atomic_write(path) as f:
        for key in c_sorted(mapping):
            value = mapping[key]
            f.write(f"{key} {value}\n" if value != "" else f"{key}\n")


def read_scp(path: str | os.PathLike) -> dict[str, str]:
    """Read an scp file (`key rxspecifier`); every line needs a value."""
    scan = scan_kaldi_map(path)
    _raise_fatal(scan)
    for key, value in scan.entries.items():
        if not value:
            raise AsrError(f"{where(path, scan.lines[key])}: '{key}' has no value; each line must be "
                           f"'key file.ark:offset' (or a path)")
    return scan.entries
