"""HTK parameter files (HCopy/HList's format): a 12-byte big-endian header, then float32 frames."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import NamedTuple

import numpy as np

from asr.errors import AsrError
from asr.fileio import atomic_write

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
