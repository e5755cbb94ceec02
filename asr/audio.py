"""Audio input: any soundfile-readable file (WAV, FLAC, NIST SPHERE, OGG, ...) as one float32 channel.

Samples come back in the int16 range (-32768..32767), Kaldi's convention, because every Kaldi-exact computation
downstream (dither amplitude, energy floor, log-energy) assumes that scale; `normalized=True` gives [-1, 1].

`wav.scp` values take Kaldi's three forms: a path, a shell pipe `cmd |` whose stdout is a WAV file (run only
with `allow_pipes=True`, because a data directory from elsewhere must not run commands on our machine), and
`file.ark:offset` (a Kaldi wave archive: the RIFF bytes start at the offset).

Resampling (only with `allow_resample=True`) uses `scipy.signal.resample_poly` (polyphase, Kaiser window), which
is exact for the integer ratios speech rates have (8k <-> 16k <-> 44.1k <-> 48k).
"""

from __future__ import annotations

import io
import math
import os
import re
import struct
import subprocess
from typing import BinaryIO

import numpy as np
import soundfile as sf

from asr.errors import AsrError

INT16_SCALE = 32768.0  # float [-1, 1] -> int16 range, as Kaldi reads 16-bit PCM
_ARK_OFFSET = re.compile(r"^(?P<path>.+):(?P<offset>\d+)$")
_BLOCK_FRAMES = 1 << 20  # multichannel files are read in blocks so only the chosen channel is kept in memory


def load_audio(path: str | os.PathLike, *, sample_frequency: int | None = None, channel: int | None = None,
               allow_resample: bool = False, normalized: bool = False) -> tuple[np.ndarray, int]:
    """Read one audio file as a 1-D float32 array (int16 range unless `normalized`) and its sample rate.

    `sample_frequency`: the rate the caller expects; a file at another rate is an error unless
    `allow_resample`, which resamples it. `channel` (0-based) picks one channel of a multichannel file.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise AsrError(f"{path}: audio file not found; check the path (relative paths are taken from the "
                       f"current directory)")
    if os.path.isdir(path):
        raise AsrError(f"{path}: is a directory, not an audio file; give the path of an audio file")
    return _decode(path, path, sample_frequency=sample_frequency, channel=channel,
                   allow_resample=allow_resample, normalized=normalized)


def read_wav_scp_entry(value: str, *, sample_frequency: int | None = None, channel: int | None = None,
                       allow_resample: bool = False, allow_pipes: bool = False, source: str = "wav.scp",
                       normalized: bool = False) -> tuple[np.ndarray, int]:
    """Load the audio a `wav.scp` value names: a path, `cmd |`, or `file.ark:offset`.

    `source` (e.g. `data/train/wav.scp:12`) prefixes error messages so the user finds the line to fix.
    """
    options = dict(sample_frequency=sample_frequency, channel=channel, allow_resample=allow_resample,
                   normalized=normalized)
    try:
        name, data = _open_entry(value, allow_pipes=allow_pipes)
        if data is None:
            return load_audio(name, **options)
        return _decode(data, name, **options)
    except AsrError as e:
        raise AsrError(f"{source}: {e}") from None


def audio_duration(path_or_entry: str | os.PathLike, *, allow_pipes: bool = False,
                   source: str | None = None) -> float:
    """Duration in seconds from the file header (soundfile.info), without decoding the samples.

    Accepts a plain path or any `wav.scp` value; a pipe has to be run (only with `allow_pipes`).
    """
    value = os.fspath(path_or_entry)
    try:
        name, data = _open_entry(value, allow_pipes=allow_pipes)
        if data is None and not os.path.isfile(name):
            raise AsrError(f"{name}: audio file not found; check the path")
        try:
            info = sf.info(name if data is None else data)
        except (sf.SoundFileError, RuntimeError, ValueError, TypeError, struct.error) as e:
            raise AsrError(f"{name}: cannot read the audio header ({_one_line(e)}); the file is corrupt or not "
                           f"audio, replace it or convert it to WAV/FLAC (sox, ffmpeg)") from None
        if info.samplerate <= 0:
            raise AsrError(f"{name}: header gives sample rate {info.samplerate}; the file is corrupt")
        return info.frames / info.samplerate
    except AsrError as e:
        if source is None:
            raise
        raise AsrError(f"{source}: {e}") from None


def _open_entry(value: str, *, allow_pipes: bool) -> tuple[str, BinaryIO | None]:
    """Resolve a wav.scp value to (name for messages, in-memory bytes or None when it is a plain path)."""
    value = value.strip()
    if not value:
        raise AsrError("empty wav.scp value; give a path, `cmd |` or `file.ark:offset`")
    if value.endswith("|"):
        command = value[:-1].strip()
        if not allow_pipes:
            raise AsrError(f"'{command} |' is a command; it is run only with --allow-pipes (allow_pipes=True), "
                           f"pass it if you trust this data directory")
        return f"'{command} |'", io.BytesIO(_run_pipe(command))
    match = _ARK_OFFSET.match(value)
    if match and not os.path.exists(value):
        ark, offset = match["path"], int(match["offset"])
        _refuse_special_file(ark)
        return f"{ark}:{offset}", io.BytesIO(_read_ark_wav(ark, offset))
    _refuse_special_file(value)
    return value, None


def _refuse_special_file(path: str) -> None:
    """A FIFO or device named in a data file would block forever or never end: wav.scp may name regular files
    only (a stream goes through `cmd |` with --allow-pipes)."""
    if os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path):
        raise AsrError(f"{path}: not a regular file (a FIFO, socket or device); wav.scp must name audio files, "
                       f"or `cmd |` with --allow-pipes")


def _run_pipe(command: str) -> bytes:
    """Run a wav.scp pipe command and return its stdout (a WAV file)."""
    try:
        result = subprocess.run(command, shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    except OSError as e:
        raise AsrError(f"'{command} |': cannot run the command ({e}); check the command") from None
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = f": {stderr[-1]}" if stderr else ""
        raise AsrError(f"'{command} |': command failed with exit code {result.returncode}{detail}; "
                       f"fix the command or the data it reads")
    if not result.stdout:
        raise AsrError(f"'{command} |': command wrote nothing to stdout; it must write a WAV file to stdout")
    return result.stdout


def _read_ark_wav(ark: str, offset: int) -> bytes:
    """Read the RIFF WAV object that starts at `offset` in a Kaldi wave archive (`wav-copy` output)."""
    name = f"{ark}:{offset}"
    try:
        with open(ark, "rb") as f:
            f.seek(offset)
            header = f.read(8)
            if len(header) < 8 or header[:4] != b"RIFF":
                raise AsrError(f"{name}: no RIFF WAV header at this offset; the offset is wrong or the archive is "
                               f"truncated, regenerate the wav.scp/ark pair")
            (riff_size,) = struct.unpack("<I", header[4:])
            available = os.fstat(f.fileno()).st_size - f.tell()
            if riff_size == 0xFFFFFFFF:  # streaming header (unknown size): the object runs to the end
                riff_size = available
            body = f.read(min(riff_size, available))
    except FileNotFoundError:
        raise AsrError(f"{name}: archive not found; check the path") from None
    except IsADirectoryError:
        raise AsrError(f"{name}: is a directory, not a wave archive") from None
    if len(body) < riff_size:
        raise AsrError(f"{name}: WAV object truncated ({len(body)} of {riff_size} bytes); the archive is "
                       f"truncated, regenerate it")
    return header + body


def _decode(data: str | BinaryIO, name: str, *, sample_frequency: int | None, channel: int | None,
            allow_resample: bool, normalized: bool) -> tuple[np.ndarray, int]:
    """Decode a path or file-like into one float32 channel, applying every check the contract promises."""
    try:
        with sf.SoundFile(data) as snd:
            rate, channels, frames = snd.samplerate, snd.channels, snd.frames
            if channels < 1:
                raise AsrError(f"{name}: has no channels; the file is corrupt, replace it")
            if channel is not None and not 0 <= channel < channels:
                raise AsrError(f"{name}: channel {channel} requested but the file has {channels} channel(s); "
                               f"pass --channel between 0 and {channels - 1}")
            if channels > 1 and channel is None:
                raise AsrError(f"{name}: has {channels} channels; pass --channel N (0-based) to pick one")
            if channels == 1:
                wave = snd.read(dtype="float32")
            else:
                wave = np.concatenate([block[:, channel] for block in
                                       snd.blocks(_BLOCK_FRAMES, dtype="float32", always_2d=True)]
                                      or [np.zeros(0, np.float32)])
    except AsrError:
        raise
    except (sf.SoundFileError, RuntimeError, ValueError, TypeError, struct.error, MemoryError) as e:
        raise AsrError(f"{name}: cannot read as audio ({_one_line(e)}); the file is corrupt, truncated or in an "
                       f"unsupported format, replace it or convert it to WAV/FLAC (sox, ffmpeg)") from None
    if rate <= 0:
        raise AsrError(f"{name}: header gives sample rate {rate}; the file is corrupt")
    if wave.size == 0:
        raise AsrError(f"{name}: contains no samples (header says {frames} frames); remove it from the data or "
                       f"replace it")
    if not np.all(np.isfinite(wave)):
        bad = int(np.count_nonzero(~np.isfinite(wave)))
        raise AsrError(f"{name}: {bad} sample(s) are NaN or infinite; the float audio is broken, regenerate it")
    if sample_frequency is not None and rate != sample_frequency:
        if not allow_resample:
            raise AsrError(f"{name}: sample rate {rate} Hz but {sample_frequency} Hz expected; pass "
                           f"--allow-resample to resample, or --sample-frequency {rate}")
        wave, rate = resample(wave, rate, sample_frequency), int(sample_frequency)
    wave = np.ascontiguousarray(wave, dtype=np.float32)
    if not normalized:
        wave *= np.float32(INT16_SCALE)
    return wave, int(rate)


def resample(wave: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """Polyphase resampling (scipy.signal.resample_poly) from `rate` to `target_rate`, float32 out."""
    from scipy.signal import resample_poly

    if target_rate <= 0:
        raise AsrError(f"target sample rate {target_rate} Hz is invalid; give a positive --sample-frequency")
    common = math.gcd(int(rate), int(target_rate))
    up, down = int(target_rate) // common, int(rate) // common
    if up == down:
        return wave
    return resample_poly(wave.astype(np.float64), up, down).astype(np.float32)


def _one_line(error: BaseException) -> str:
    """An exception's message flattened to one line (libsndfile messages may hold newlines)."""
    return " ".join(str(error).split()) or type(error).__name__


def is_pipe(value: str) -> bool:
    """Whether a wav.scp value is Kaldi's `cmd |` pipe form."""
    return value.rstrip().endswith("|")


__all__ = ["INT16_SCALE", "audio_duration", "is_pipe", "load_audio", "read_wav_scp_entry", "resample"]
