"""Kaldi's interchange formats, our own code: text maps (scp and friends), binary ark matrices, HTK files.

A binary ark entry is `key ` followed by the binary marker `\\0B`, a type token (`FM ` float32 matrix, `DM `
float64 matrix, `FV `/`DV ` vectors, `CM `/`CM2`/`CM3` Kaldi's compressed matrices) and `\\x04`-prefixed int32
sizes, all little-endian. An scp line `key file.ark:OFFSET` points at the `\\0B` right after `key `, so Kaldi,
kaldiio and lhotse read our files and we read theirs (compressed feats from `compute-mfcc-feats --compress`
included). Matrix specs may carry Kaldi's row/column ranges: `file.ark:123[0:99]` or `[0:99,0:12]`.

An `ArkWriter` writes the ark and its scp to temporary names and renames them only when closed without error,
so an interrupted run never leaves an scp pointing into a truncated ark. With `compress=True` it writes matrices
as `copy-feats --compress=true` does (`compress_matrix`): a quarter of the bytes, for features that are
fine at 8 bits a value.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator, NamedTuple

import numpy as np

from asr.errors import AsrError, where
from asr.fileio import atomic_write

BINARY_MARKER = b"\0B"
_INT32 = struct.Struct("<bi")  # size byte (4) + little-endian int32, Kaldi's WriteBasicType for int32
_DENSE_TOKENS = {b"FM ": (np.float32, 2), b"DM ": (np.float64, 2), b"FV ": (np.float32, 1),
                 b"DV ": (np.float64, 1)}
_COMPRESSED_TOKENS = (b"CM ", b"CM2", b"CM3")
_SIZE_CHECK_BYTES = 1 << 20  # reads larger than this first check the file holds that much
_SPEC = re.compile(r"^(?P<path>.+?):(?P<offset>\d+)(?:\[(?P<ranges>[0-9:,\s]*)\])?$")
_BOM = "\ufeff"


# --------------------------------------------------------------------------------------------- text maps
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


# --------------------------------------------------------------------------------------------- ark writing
class ArkWriter:
    """Write Kaldi binary matrices to an ark (and scp), atomically on close.

    >>> with ArkWriter("feats.ark", "feats.scp") as w:
    ...     w.write("utt1", np.zeros((10, 13), np.float32))

    scp lines read `key <ark_path as given>:OFFSET`; pass an absolute ark path for an scp usable from elsewhere.
    float64 arrays are written as `DM`/`DV`, everything else as float32 `FM`/`FV`; with `compress`, non-empty
    matrices as Kaldi compressed matrices (`compress_matrix`; vectors stay as they are, as in Kaldi).
    """

    def __init__(self, ark_path: str | os.PathLike, scp_path: str | os.PathLike | None = None, *,
                 compress: bool = False) -> None:
        self.ark_path = os.fspath(ark_path)
        self.compress = compress
        self.scp_path = None if scp_path is None else os.fspath(scp_path)
        self._stack = contextlib.ExitStack()
        self._ark: BinaryIO = self._stack.enter_context(atomic_write(self.ark_path, "wb"))
        self._scp = None if self.scp_path is None else self._stack.enter_context(atomic_write(self.scp_path))
        self._offset = 0
        self.keys: list[str] = []

    def write(self, key: str, matrix: np.ndarray) -> str:
        """Append one matrix (2-D) or vector (1-D); return its `ark:offset` spec."""
        if not key or any(c.isspace() for c in key):
            raise AsrError(f"{self.ark_path}: id {key!r} is empty or holds whitespace; Kaldi ids are single tokens")
        array = np.asarray(matrix)
        if array.ndim not in (1, 2):
            raise ValueError(f"ArkWriter.write: expected a 1-D or 2-D array for '{key}', got shape {array.shape}")
        dtype = np.float64 if array.dtype == np.float64 else np.float32
        kind = b"D" if dtype == np.float64 else b"F"
        data = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
        prefix = key.encode("utf-8") + b" "
        if self.compress and array.ndim == 2 and array.size:
            try:
                header, data = BINARY_MARKER + compress_matrix(array), np.empty(0, np.uint8)
            except ValueError as e:
                raise AsrError(f"{self.ark_path}: '{key}': {e}; write it uncompressed") from None
        elif array.ndim == 2:
            header = BINARY_MARKER + kind + b"M " + _INT32.pack(4, data.shape[0]) + _INT32.pack(4, data.shape[1])
        else:
            header = BINARY_MARKER + kind + b"V " + _INT32.pack(4, data.shape[0])
        self._ark.write(prefix + header)
        self._ark.write(data.tobytes())
        spec = f"{self.ark_path}:{self._offset + len(prefix)}"
        self._offset += len(prefix) + len(header) + data.nbytes
        if self._scp is not None:
            self._scp.write(f"{key} {spec}\n")
        self.keys.append(key)
        return spec

    def close(self) -> None:
        """Make both files visible: drop a stale scp first, then rename ark, then scp."""
        if self.scp_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.scp_path)  # an old scp must not point into the new ark meanwhile
        self._stack.close()

    def __enter__(self) -> ArkWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._stack.__exit__(exc_type, exc, tb)


# --------------------------------------------------------------------------------------------- compression
_UINT16_STEP = np.float32(1.52590218966964e-05)  # Kaldi's Uint16ToFloat constant, 1/65535 as a float


def _uint16_to_float(min_value: np.float32, value_range: np.float32, values: np.ndarray) -> np.ndarray:
    """Kaldi's CompressedMatrix::Uint16ToFloat (the CM column percentiles), in float32 and C's order."""
    return np.float32(min_value) + np.float32(value_range) * _UINT16_STEP * values.astype(np.float32)
SPEECH_FEATURE_MIN_ROWS = 9  # kAutomaticMethod: per-column 8-bit (CM) above 8 rows, else 16-bit (CM2)


def compress_matrix(matrix: np.ndarray) -> bytes:
    """Kaldi's CompressedMatrix with kAutomaticMethod, byte for byte: the token, global header and data that
    `copy-feats --compress=true` writes after `\\0B`.

    More than 8 rows: `CM ` (kSpeechFeature), per column the 0/25/75/100th percentiles as 16-bit values in the
    global [min, max] range, then one byte a value, piecewise linear between them (64 + 128 + 63 steps). Else
    `CM2`: 16 bits a value in [min, max]. Float32 arithmetic as in compressed-matrix.cc."""
    m = np.asarray(matrix, dtype=np.float32)
    if m.ndim != 2 or 0 in m.shape:
        raise ValueError(f"compress_matrix: needs a non-empty 2-D matrix, got shape {m.shape}")
    if not np.isfinite(m).all():
        raise ValueError("compress_matrix: the matrix holds nan or inf, which Kaldi cannot compress")
    rows, cols = m.shape
    min_value, max_value = m.min(), m.max()
    if max_value == min_value:  # a constant matrix still needs a positive range
        max_value = np.float32(float(min_value) + (1.0 + abs(float(min_value))))
    value_range = np.float32(max_value - min_value)
    header = struct.pack("<ffii", min_value, value_range, rows, cols)

    def to_uint16(values: np.ndarray) -> np.ndarray:
        f = np.clip((values - min_value) / value_range, np.float32(0), np.float32(1))
        return np.floor((f * np.float32(65535)).astype(np.float64) + 0.499).astype(np.int64)

    if rows < SPEECH_FEATURE_MIN_ROWS:
        return b"CM2 " + header + to_uint16(m).astype("<u2").tobytes()
    ordered = np.sort(m, axis=0)
    quarter = rows // 4
    p0 = np.minimum(to_uint16(ordered[0]), 65532)
    p25 = np.minimum(np.maximum(to_uint16(ordered[quarter]), p0 + 1), 65533)
    p75 = np.minimum(np.maximum(to_uint16(ordered[3 * quarter]), p25 + 1), 65534)
    p100 = np.maximum(to_uint16(ordered[rows - 1]), p75 + 1)
    percentiles = np.stack([p0, p25, p75, p100], axis=1)  # (cols, 4)
    q0, q25, q75, q100 = (_uint16_to_float(min_value, value_range, p) for p in (p0, p25, p75, p100))

    def steps(low: np.ndarray, high: np.ndarray, count: int, first: int) -> np.ndarray:
        f = (m - low) / (high - low)
        return np.clip(first + np.trunc((f * np.float32(count)).astype(np.float64) + 0.5), first, first + count)

    data = np.where(m < q25, steps(q0, q25, 64, 0),
                    np.where(m < q75, steps(q25, q75, 128, 64), np.minimum(steps(q75, q100, 63, 192), 255)))
    return (b"CM " + header + percentiles.astype("<u2").tobytes()
            + np.ascontiguousarray(data.T).astype(np.uint8).tobytes())


# --------------------------------------------------------------------------------------------- ark reading
def read_matrix(spec: str) -> np.ndarray:
    """Read the matrix or vector at `file.ark:offset` (optionally `[r0:r1]`/`[r0:r1,c0:c1]`, inclusive, as Kaldi).

    A spec without `:offset` reads a single-object file from its start (e.g. Kaldi's `copy-matrix` output).
    """
    with contextlib.ExitStack() as files:
        return _read_spec(spec, files, {})


def _read_spec(spec: str, files: contextlib.ExitStack, handles: dict[str, BinaryIO]) -> np.ndarray:
    """read_matrix with the archives kept open in `handles` (closed by `files`) across calls."""
    match = _SPEC.match(spec.strip())
    if match and not os.path.isfile(spec.strip()):
        path, offset, ranges = match["path"], int(match["offset"]), match["ranges"]
    else:
        path, offset, ranges = spec.strip(), 0, None
    if path not in handles:
        try:
            handles[path] = files.enter_context(open(path, "rb"))
        except FileNotFoundError:
            raise AsrError(f"{path}: archive not found (from '{spec}'); check the scp paths") from None
        except IsADirectoryError:
            raise AsrError(f"{path}: is a directory, not an archive (from '{spec}')") from None
    f = handles[path]
    f.seek(offset)
    matrix = _read_object(f, path)
    return matrix if ranges is None else _apply_ranges(matrix, ranges, spec)


def read_ark(path: str | os.PathLike) -> Iterator[tuple[str, np.ndarray]]:
    """Iterate over (key, matrix) in a binary or text ark, in file order."""
    path = os.fspath(path)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise AsrError(f"{path}: archive not found; check the path") from None
    with f:
        while True:
            offset = f.tell()
            key = _read_key(f, path, offset)
            if key is None:
                return
            yield key, _read_object(f, path)


def load_scp(path: str | os.PathLike) -> Iterator[tuple[str, np.ndarray]]:
    """Iterate over (key, matrix) for the entries of an scp, in scp order."""
    handles: dict[str, BinaryIO] = {}  # each archive opened once, as scp entries mostly share a few arks
    with contextlib.ExitStack() as files:
        for key, spec in read_scp(path).items():
            yield key, _read_spec(spec, files, handles)


def matrix_shape(spec: str) -> tuple[int, ...]:
    """The shape of the matrix at an ark spec, read from its header only (for frame-count checks)."""
    match = _SPEC.match(spec.strip())
    if not match or match["ranges"] is not None:
        return read_matrix(spec).shape
    path, offset = match["path"], int(match["offset"])
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return _read_header(f, path)[1]
    except FileNotFoundError:
        raise AsrError(f"{path}: archive not found (from '{spec}'); check the scp paths") from None


def _read_key(f: BinaryIO, path: str, offset: int) -> str | None:
    """Read `key ` at the current position; None at a clean end of file."""
    raw = bytearray()
    while True:
        byte = f.read(1)
        if not byte:
            if raw.strip():
                raise AsrError(f"{path}:{offset}: archive ends inside a key; the ark is truncated, regenerate it")
            return None
        if byte == b" ":
            break
        if byte in b"\n\t\r" and not raw:
            continue  # Kaldi tolerates whitespace between text-mode entries
        raw += byte
        if len(raw) > 4096 or byte == b"\0":
            raise AsrError(f"{path}:{offset}: not a Kaldi archive here (no 'key ' found); the file is corrupt "
                           f"or not an ark")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AsrError(f"{path}:{offset}: key is not UTF-8; the archive is corrupt") from None


def _read_exact(f: BinaryIO, count: int, path: str, offset: int, what: str) -> bytearray:
    """Read exactly `count` bytes; a header claiming more than the file holds is truncation, found before
    allocating (a corrupt size must not make us allocate gigabytes)."""
    readable = count
    if count > _SIZE_CHECK_BYTES:
        readable = min(count, max(os.fstat(f.fileno()).st_size - f.tell(), 0))
    data = bytearray(readable)  # writable, so numpy uses it without another copy
    got = f.readinto(data)
    if got < count:
        raise AsrError(f"{path}:{offset}: archive ends inside the {what} ({got} of {count} bytes); the ark "
                       f"is truncated, regenerate it")
    return data


def _read_int32(f: BinaryIO, path: str, offset: int) -> int:
    size, value = _INT32.unpack(_read_exact(f, 5, path, offset, "matrix header"))
    if size != 4:
        raise AsrError(f"{path}:{offset}: expected a 4-byte integer size marker, found {size}; the archive is "
                       f"corrupt or not Kaldi binary")
    return value


def _read_header(f: BinaryIO, path: str) -> tuple[bytes, tuple[int, ...], bytes]:
    """Read marker + token + sizes; return (token, shape, compressed-global-header bytes or b"")."""
    offset = f.tell()
    marker = f.read(2)
    if marker != BINARY_MARKER:
        raise AsrError(f"{path}:{offset}: no Kaldi binary marker '\\0B' at this offset (found {marker!r}); the "
                       f"offset is wrong or the archive is corrupt")
    token = bytes(_read_exact(f, 3, path, offset, "type token"))
    if token[2:] != b" ":  # Kaldi writes a token and a space: "FM ", but "CM2 "
        if _read_exact(f, 1, path, offset, "type token") != b" ":
            raise AsrError(f"{path}:{offset}: unknown object type starting {token!r}; the archive is corrupt "
                           f"or not Kaldi binary")
    if token in _DENSE_TOKENS:
        ndim = _DENSE_TOKENS[token][1]
        shape = tuple(_read_int32(f, path, offset) for _ in range(ndim))
        if any(n < 0 for n in shape):
            raise AsrError(f"{path}:{offset}: negative size {shape} in the matrix header; the archive is corrupt")
        return token, shape, b""
    if token in _COMPRESSED_TOKENS:
        header = bytes(_read_exact(f, 16, path, offset, "compressed-matrix header"))
        _, _, rows, cols = struct.unpack("<ffii", header)
        if rows < 0 or cols < 0:
            raise AsrError(f"{path}:{offset}: negative size in the compressed-matrix header; the archive is corrupt")
        return token, (rows, cols), header
    raise AsrError(f"{path}:{offset}: unsupported object type {token!r} (expected FM, DM, FV, DV, CM, CM2 or "
                   f"CM3); convert it with Kaldi's copy-matrix")


def _read_object(f: BinaryIO, path: str) -> np.ndarray:
    """Read one binary (or text-mode) matrix/vector at the current position."""
    offset = f.tell()
    head = f.read(15)  # marker, token, two size-prefixed int32: a whole dense-matrix header
    if len(head) < 2 or head[:2] == b"\0":
        raise AsrError(f"{path}:{offset}: archive ends right after the key; the ark is truncated, regenerate it")
    if head[:2] != BINARY_MARKER:
        f.seek(offset)
        return _read_text_matrix(f, path, offset)
    if head[2:5] == b"FM " and len(head) == 15 and head[5] == head[10] == 4:  # the common case, one read
        rows, cols = struct.unpack_from("<i", head, 6)[0], struct.unpack_from("<i", head, 11)[0]
        token, shape = b"FM ", (rows, cols)
        if rows < 0 or cols < 0:
            raise AsrError(f"{path}:{offset}: negative size {shape} in the matrix header; the archive is corrupt")
        global_header = b""
    else:
        f.seek(offset)
        token, shape, global_header = _read_header(f, path)
    if token in _DENSE_TOKENS:
        dtype = np.dtype(_DENSE_TOKENS[token][0]).newbyteorder("<")
        data = _read_exact(f, math.prod(shape) * dtype.itemsize, path, offset, "matrix data")
        matrix = np.frombuffer(data, dtype=dtype).reshape(shape)
        return matrix if dtype.isnative else matrix.astype(dtype.newbyteorder("="))
    return _decompress(f, token, global_header, path, offset)


def _decompress(f: BinaryIO, token: bytes, global_header: bytes, path: str, offset: int) -> np.ndarray:
    """Kaldi's CompressedMatrix::CopyToMat for the three formats (float32 out, as Kaldi gives)."""
    min_value, value_range, rows, cols = struct.unpack("<ffii", global_header)
    if token == b"CM2":
        increment16 = np.float32(value_range) / np.float32(65535.0)  # C order: range * 1.0f / 65535.0f * value
        data = np.frombuffer(_read_exact(f, rows * cols * 2, path, offset, "compressed data"), "<u2")
        return (np.float32(min_value) + increment16 * data.astype(np.float32)).reshape(rows, cols)
    if token == b"CM3":
        data = np.frombuffer(_read_exact(f, rows * cols, path, offset, "compressed data"), np.uint8)
        increment8 = np.float32(value_range) / np.float32(255.0)
        return (np.float32(min_value) + increment8 * data.astype(np.float32)).reshape(rows, cols)
    # CM: per-column percentile headers (4 x uint16), then uint8 data column by column
    percentiles = np.frombuffer(_read_exact(f, cols * 8, path, offset, "column headers"), "<u2").reshape(cols, 4)
    p = _uint16_to_float(min_value, value_range, percentiles)  # (cols, 4): p0, p25, p75, p100
    data = np.frombuffer(_read_exact(f, rows * cols, path, offset, "compressed data"), np.uint8)
    data = data.reshape(cols, rows).T.astype(np.float32)
    p0, p25, p75, p100 = (p[:, i][None, :] for i in range(4))
    low = p0 + (p25 - p0) * data * np.float32(1 / 64.0)
    mid = p25 + (p75 - p25) * (data - 64) * np.float32(1 / 128.0)
    high = p75 + (p100 - p75) * (data - 192) * np.float32(1 / 63.0)
    return np.where(data <= 64, low, np.where(data <= 192, mid, high)).astype(np.float32)


def _read_text_matrix(f: BinaryIO, path: str, offset: int) -> np.ndarray:
    """Kaldi text-mode matrix `[ 1 2\\n 3 4 ]` or vector `[ 1 2 ]`."""
    first = f.read(1)
    while first in (b" ", b"\t"):
        first = f.read(1)
    if first != b"[":
        raise AsrError(f"{path}:{offset}: neither a binary ('\\0B') nor a text ('[') matrix here; the offset is "
                       f"wrong or the archive is corrupt")
    body = bytearray()
    while True:
        chunk = f.read(1)
        if not chunk:
            raise AsrError(f"{path}:{offset}: text matrix has no closing ']'; the archive is truncated")
        if chunk == b"]":
            break
        body += chunk
    try:
        rows = [[float(x) for x in line.split()] for line in body.decode("ascii").splitlines() if line.strip()]
    except (UnicodeDecodeError, ValueError):
        raise AsrError(f"{path}:{offset}: text matrix holds a non-number; the archive is corrupt") from None
    if len({len(r) for r in rows}) > 1:
        raise AsrError(f"{path}:{offset}: text matrix rows differ in length; the archive is corrupt")
    trailing = f.read(1)  # the newline after ']'
    if trailing not in (b"\n", b""):
        f.seek(-1, io.SEEK_CUR)
    if b"\n" not in body:  # Kaldi writes vectors on one line, matrices as '[' newline rows ']'
        return np.array(rows[0] if rows else [], dtype=np.float32)
    return np.array(rows, dtype=np.float32).reshape(len(rows), -1)


def _apply_ranges(matrix: np.ndarray, ranges: str, spec: str) -> np.ndarray:
    """Kaldi's `[r0:r1]` / `[r0:r1,c0:c1]` (inclusive ends; an empty part means all)."""
    parts = [p.strip() for p in ranges.split(",")]
    slices = []
    for axis, part in enumerate(parts):
        if not part:
            slices.append(slice(None))
            continue
        try:
            first, last = (int(x) for x in part.split(":"))
        except ValueError:
            raise AsrError(f"'{spec}': range '{part}' is not 'first:last'; fix the scp line") from None
        if axis >= matrix.ndim or not 0 <= first <= last < matrix.shape[axis]:
            raise AsrError(f"'{spec}': range {first}:{last} outside the matrix of shape {matrix.shape}")
        slices.append(slice(first, last + 1))
    return matrix[tuple(slices)]


# --------------------------------------------------------------------------------------------- HTK
HTK_BASE_KINDS = {"WAVEFORM": 0, "LPC": 1, "LPREFC": 2, "LPCEPSTRA": 3, "LPDELCEP": 4, "IREFC": 5, "MFCC": 6,
                  "FBANK": 7, "MELSPEC": 8, "USER": 9, "DISCRETE": 10, "PLP": 11}
HTK_QUALIFIERS = {"E": 0o100, "N": 0o200, "D": 0o400, "A": 0o1000, "C": 0o2000, "Z": 0o4000, "K": 0o10000,
                  "0": 0o20000, "V": 0o40000, "T": 0o100000}
_HTK_HEADER = struct.Struct(">iihh")


class HtkFile(NamedTuple):
    """An HTK feature file: frames (T, dim) float32, frame shift in seconds, parmKind code."""

    feats: np.ndarray
    frame_shift_s: float
    parm_kind: int


def htk_parm_kind(kind: str | int) -> int:
    """HTK parmKind code from a name like 'MFCC_E_D' or 'FBANK' (or the code itself)."""
    if isinstance(kind, int):
        return kind
    base, *qualifiers = kind.upper().split("_")
    if base not in HTK_BASE_KINDS or any(q not in HTK_QUALIFIERS for q in qualifiers):
        raise AsrError(f"unknown HTK parameter kind '{kind}'; use one of {', '.join(HTK_BASE_KINDS)} with "
                       f"qualifiers _E _D _A _0 ...")
    code = HTK_BASE_KINDS[base]
    for q in qualifiers:
        code |= HTK_QUALIFIERS[q]
    return code


def write_htk(path: str | os.PathLike, feats: np.ndarray, frame_shift_s: float = 0.01,
              parm_kind: str | int = "USER") -> None:
    """Write (T, dim) features as an HTK file: big-endian header (nSamples, sampPeriod in 100 ns, sampSize,
    parmKind) then big-endian float32 frames; atomically."""
    feats = np.asarray(feats)
    if feats.ndim != 2:
        raise ValueError(f"write_htk: expected (frames, dim), got shape {feats.shape}")
    period = int(round(frame_shift_s * 1e7))
    samp_size = feats.shape[1] * 4
    if samp_size > 32767 or period <= 0:
        raise AsrError(f"{path}: HTK cannot hold dim {feats.shape[1]} / frame shift {frame_shift_s} s")
    with atomic_write(path, "wb") as f:
        f.write(_HTK_HEADER.pack(feats.shape[0], period, samp_size, htk_parm_kind(parm_kind)))
        f.write(np.ascontiguousarray(feats, dtype=">f4").tobytes())


def read_htk(path: str | os.PathLike) -> HtkFile:
    """Read an uncompressed float HTK feature file."""
    path = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise AsrError(f"{path}: HTK file not found") from None
    if len(raw) < _HTK_HEADER.size:
        raise AsrError(f"{path}: shorter than an HTK header (12 bytes); the file is truncated")
    frames, period, samp_size, kind = _HTK_HEADER.unpack_from(raw)
    if kind & HTK_QUALIFIERS["C"]:
        raise AsrError(f"{path}: compressed HTK (_C) is not supported; write it uncompressed (HCopy -C with "
                       f"no _C)")
    if frames < 0 or period <= 0 or samp_size <= 0 or samp_size % 4:
        raise AsrError(f"{path}: invalid HTK header (nSamples={frames}, sampPeriod={period}, "
                       f"sampSize={samp_size}); the file is corrupt or not HTK")
    expected = _HTK_HEADER.size + frames * samp_size
    if len(raw) < expected:
        raise AsrError(f"{path}: HTK data truncated ({len(raw)} of {expected} bytes); regenerate it")
    data = np.frombuffer(raw, ">f4", count=frames * samp_size // 4, offset=_HTK_HEADER.size)
    return HtkFile(data.astype(np.float32).reshape(frames, samp_size // 4), period * 1e-7, kind)
