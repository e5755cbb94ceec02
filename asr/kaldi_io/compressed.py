"""Kaldi's CompressedMatrix (`copy-feats --compress=true`), byte for byte: the CM (per-column 8-bit), CM2 (16-bit)
and CM3 (8-bit) formats, both ways."""

from __future__ import annotations

import struct
from typing import Callable

import numpy as np

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


def decompress_matrix(token: bytes, global_header: bytes, read: Callable[[int, str], bytes]) -> np.ndarray:
    """Kaldi's CompressedMatrix::CopyToMat for the three formats (float32 out, as Kaldi gives); `read(count, what)`
    returns the next `count` bytes of the entry (`what` names them in errors)."""
    min_value, value_range, rows, cols = struct.unpack("<ffii", global_header)
    if token == b"CM2":
        increment16 = np.float32(value_range) / np.float32(65535.0)  # C order: range * 1.0f / 65535.0f * value
        data = np.frombuffer(read(rows * cols * 2, "compressed data"), "<u2")
        return (np.float32(min_value) + increment16 * data.astype(np.float32)).reshape(rows, cols)
    if token == b"CM3":
        data = np.frombuffer(read(rows * cols, "compressed data"), np.uint8)
        increment8 = np.float32(value_range) / np.float32(255.0)
        return (np.float32(min_value) + increment8 * data.astype(np.float32)).reshape(rows, cols)
    # CM: per-column percentile headers (4 x uint16), then uint8 data column by column
    percentiles = np.frombuffer(read(cols * 8, "column headers"), "<u2").reshape(cols, 4)
    p = _uint16_to_float(min_value, value_range, percentiles)  # (cols, 4): p0, p25, p75, p100
    data = np.frombuffer(read(rows * cols, "compressed data"), np.uint8)
    data = data.reshape(cols, rows).T.astype(np.float32)
    p0, p25, p75, p100 = (p[:, i][None, :] for i in range(4))
    low = p0 + (p25 - p0) * data * np.float32(1 / 64.0)
    mid = p25 + (p75 - p25) * (data - 64) * np.float32(1 / 128.0)
    high = p75 + (p100 - p75) * (data - 192) * np.float32(1 / 63.0)
    return np.where(data <= 64, low, np.where(data <= 192, mid, high)).astype(np.float32)
