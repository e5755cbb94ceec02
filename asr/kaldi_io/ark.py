"""Kaldi binary (and text) archives: `ArkWriter` writes an ark and its scp atomically; `read_ark`, `read_matrix`
(an `ark:offset[ranges]` spec), `read_scp_matrices` and `matrix_shape` read any ark Kaldi, kaldiio or we wrote."""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import struct
from typing import BinaryIO, Iterator

import numpy as np

from asr.errors import AsrError
from asr.fileio import atomic_write
from asr.kaldi_io.compressed import compress_matrix, decompress_matrix
from asr.kaldi_io.maps import read_scp

BINARY_MARKER = b"\0B"
_INT32 = struct.Struct("<bi")  # size byte (4) + little-endian int32, Kaldi's WriteBasicType for int32
_DENSE_TOKENS = {b"FM ": (np.float32, 2), b"DM ": (np.float64, 2), b"FV ": (np.float32, 1),
                 b"DV ": (np.float64, 1)}
_COMPRESSED_TOKENS = (b"CM ", b"CM2", b"CM3")
_SIZE_CHECK_BYTES = 1 << 20  # reads larger than this first check the file holds that much
_SPEC = re.compile(r"^(?P<path>.+?):(?P<offset>\d+)(?:\[(?P<ranges>[0-9:,\s]*)\])?$")


class ArkWriter:
    """Write Kaldi binary matrices to an ark (and scp), atomically on close.

    >>> with ArkWriter("feats.ark", "feats.scp") as w:
    ...     w.write("utt1", np.zeros((10, 13), np.float32))

    scp lines read `key <ark_path as given>:OFFSET`; pass an absolute ark path for an scp usable from elsewhere.
    Entries are as `ark_entry` makes them (float32 or float64, `compress`ed or not).
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
        try:
            entry = ark_entry(key, matrix, compress=self.compress)
        except ValueError as e:
            raise AsrError(f"{self.ark_path}: {e}") from None
        self._ark.write(entry)
        spec = f"{self.ark_path}:{self._offset + len(key.encode('utf-8')) + 1}"
        self._offset += len(entry)
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


def ark_entry(key: str, matrix: np.ndarray, *, compress: bool = False) -> bytes:
    """One ark entry, `key ` and the Kaldi binary object (a one-entry ark on its own): what ArkWriter appends.

    float64 arrays are written as `DM`/`DV`, everything else as float32 `FM`/`FV`; with `compress`, non-empty
    matrices as Kaldi compressed matrices (`compress_matrix`; vectors stay as they are, as in Kaldi).
    """
    if not key or any(c.isspace() for c in key):
        raise ValueError(f"id {key!r} is empty or holds whitespace; Kaldi ids are single tokens")
    array = np.asarray(matrix)
    if array.ndim not in (1, 2):
        raise ValueError(f"expected a 1-D or 2-D array for '{key}', got shape {array.shape}")
    dtype = np.float64 if array.dtype == np.float64 else np.float32
    kind = b"D" if dtype == np.float64 else b"F"
    data = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
    if compress and array.ndim == 2 and array.size:
        try:
            return key.encode("utf-8") + b" " + BINARY_MARKER + compress_matrix(array)
        except ValueError as e:
            raise ValueError(f"'{key}': {e}; write it uncompressed") from None
    if array.ndim == 2:
        header = BINARY_MARKER + kind + b"M " + _INT32.pack(4, data.shape[0]) + _INT32.pack(4, data.shape[1])
    else:
        header = BINARY_MARKER + kind + b"V " + _INT32.pack(4, data.shape[0])
    return key.encode("utf-8") + b" " + header + data.tobytes()


def archive_of(spec: str) -> tuple[str, int]:
    """The file and byte offset an `ark:offset[ranges]` spec reads from (offset 0 for a single-object file)."""
    match = _SPEC.match(spec.strip())
    if match and not os.path.isfile(spec.strip()):
        return match["path"], int(match["offset"])
    return spec.strip(), 0


def read_matrix(spec: str) -> np.ndarray:
    """Read the matrix or vector at `file.ark:offset` (optionally `[r0:r1]`/`[r0:r1,c0:c1]`, inclusive, as Kaldi).

    A spec without `:offset` reads a single-object file from its start (e.g. Kaldi's `copy-matrix` output).
    """
    with contextlib.ExitStack() as files:
        return _read_spec(spec, files, {})


def _read_spec(spec: str, files: contextlib.ExitStack, handles: dict[str, BinaryIO]) -> np.ndarray:
    """read_matrix with the archives kept open in `handles` (closed by `files`) across calls."""
    path, offset = archive_of(spec)
    match = _SPEC.match(spec.strip())
    ranges = match["ranges"] if match and path != spec.strip() else None
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
            try:
                matrix = _read_object(f, path)
            except AsrError as e:  # also name the entry, so the user knows what to fix
                shown = key if key.isprintable() else repr(key)  # a corrupt key must not break the one-line message
                raise AsrError(f"{e} (entry {shown})") from None
            yield key, matrix


def read_scp_matrices(path: str | os.PathLike) -> Iterator[tuple[str, np.ndarray]]:
    """Iterate over (key, matrix) for the entries of an scp, in scp order."""
    handles: dict[str, BinaryIO] = {}  # each archive opened once, as scp entries mostly share a few arks
    with contextlib.ExitStack() as files:
        for key, spec in read_scp(path).items():
            try:
                matrix = _read_spec(spec, files, handles)
            except AsrError as e:
                raise AsrError(f"{e} (entry {key} of {os.fspath(path)})") from None
            yield key, matrix


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
    return decompress_matrix(token, global_header, lambda count, what: _read_exact(f, count, path, offset, what))


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
