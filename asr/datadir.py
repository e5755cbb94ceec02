"""Kaldi data directories: read, write, validate, fix, subset, split, combine, copy.

A data directory is a folder of text maps keyed by utterance (`wav.scp` or `segments`, `text`, `utt2spk`,
`utt2dur`, `utt2num_frames`, `feats.scp`), by speaker (`spk2utt`, `cmvn.scp`, `spk2gender`) or by recording
(`wav.scp` when `segments` exists). Files are sorted in C locale (byte order) and the speaker id is a prefix of
the utterance id, so that sorting by utterance also groups speakers: Kaldi tools that merge two tables rely on
both. `validate_data_dir` reports what Kaldi's `utils/validate_data_dir.sh` objects to, each at file:line;
`fix_data_dir` repairs what can be repaired the way `utils/fix_data_dir.sh` does (backup in `.backup/`, keep
the utterances present in every map, sort, regenerate `spk2utt`).
"""

from __future__ import annotations

import functools
import logging
import math
import os
import random
import shutil
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

import numpy as np

from asr.audio import audio_duration, is_pipe, read_wav_scp_entry
from asr.errors import AsrError, skipped_into, where
from asr.fileio import own_folder, write_text_atomic
from asr.kaldi_io import (MapProblem, c_sorted, matrix_shape, read_kaldi_map, scan_kaldi_map,
                          write_kaldi_map)

logger = logging.getLogger(__name__)

# file name -> DataDir field; the order is the order files are written and checked
DATA_FILES: dict[str, str] = {
    "wav.scp": "wav_scp", "segments": "segments", "text": "text", "utt2spk": "utt2spk", "spk2utt": "spk2utt",
    "utt2dur": "utt2dur", "utt2num_frames": "utt2num_frames", "feats.scp": "feats_scp", "cmvn.scp": "cmvn_scp",
    "spk2gender": "spk2gender",
}
UTTERANCE_FILES = ("text", "utt2dur", "utt2num_frames", "feats.scp")  # keyed by utterance besides utt2spk
SPEAKER_FILES = ("cmvn.scp", "spk2gender")
# Files that describe the whole directory rather than an utterance: the options `asr features` wrote beside
# feats.scp (training and decoding read them) and Kaldi's frame_shift. Subset, split and copy keep them.
FEATS_CONF = "feats.conf"
DIRECTORY_FILES = (FEATS_CONF, "frame_shift")
SEGMENT_MAX_OVERSHOOT_S = 0.5  # Kaldi extract-segments --max-overshoot: a segment may end this far past the audio
BACKUP_DIR = ".backup"

__all__ = ["DATA_FILES", "DIRECTORY_FILES", "FEATS_CONF", "DataDir", "FixReport", "Segment", "combine_data_dirs", "compute_utt2dur",
           "copy_data_dir", "fix_data_dir", "load_utterance_audio", "read_data_dir", "read_kaldi_map",
           "restrict_data_dir", "split_data_dir", "subset_data_dir", "validate_data_dir", "write_data_dir", "write_kaldi_map"]


class Segment(NamedTuple):
    """One `segments` line: the utterance is [start, end) seconds of `recording` (end -1: to its end)."""

    recording: str
    start: float
    end: float


@dataclass
class DataDir:
    """The maps of a Kaldi data directory; a file that is absent is an empty map."""

    path: Path | None = None
    wav_scp: dict[str, str] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)
    utt2spk: dict[str, str] = field(default_factory=dict)
    spk2utt: dict[str, list[str]] = field(default_factory=dict)
    segments: dict[str, Segment] = field(default_factory=dict)
    utt2dur: dict[str, float] = field(default_factory=dict)
    feats_scp: dict[str, str] = field(default_factory=dict)
    cmvn_scp: dict[str, str] = field(default_factory=dict)
    utt2num_frames: dict[str, int] = field(default_factory=dict)
    spk2gender: dict[str, str] = field(default_factory=dict)

    @property
    def utterances(self) -> list[str]:
        """Utterance ids in C order, from utt2spk (else segments, wav.scp, feats.scp, text)."""
        for source in (self.utt2spk, self.segments, self.wav_scp, self.feats_scp, self.text):
            if source:
                return c_sorted(source)
        return []

    @property
    def speakers(self) -> list[str]:
        return c_sorted(set(self.utt2spk.values()) or self.spk2utt)

    def recording(self, utt: str) -> str:
        """The wav.scp key holding the utterance's audio."""
        return self.segments[utt].recording if self.segments else utt


# --------------------------------------------------------------------------------------------- read / write
def read_data_dir(path: str | os.PathLike) -> DataDir:
    """Read every data file present (format problems are AsrErrors at file:line); spk2utt derived if absent."""
    path = Path(path)
    if not path.is_dir():
        raise AsrError(f"{path}: not a data directory; give a folder holding wav.scp/utt2spk/text")
    data = DataDir(path=path)
    for name, attribute in DATA_FILES.items():
        if (path / name).is_file():
            setattr(data, attribute, _parse_values(name, path / name, read_kaldi_map(path / name,
                                                                                      is_text=name == "text")))
    if not data.spk2utt and data.utt2spk:
        data.spk2utt = spk2utt_from_utt2spk(data.utt2spk)
    if not any((data.wav_scp, data.feats_scp, data.text, data.utt2spk)):
        raise AsrError(f"{path}: holds none of wav.scp, feats.scp, text, utt2spk; is this a data directory?")
    return data


def write_data_dir(path: str | os.PathLike, data: DataDir) -> None:
    """Write the whole state of `data` into `path`: each non-empty map sorted and atomic, spk2utt regenerated
    from utt2spk; known files whose map is empty are removed so nothing stale remains."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if data.utt2spk:
        data.spk2utt = spk2utt_from_utt2spk(data.utt2spk)
    for name, attribute in DATA_FILES.items():
        mapping = getattr(data, attribute)
        if mapping:
            write_kaldi_map(path / name, _format_values(name, mapping))
        elif (path / name).exists():
            (path / name).unlink()
    logger.debug("wrote %s (%d utterances, %d speakers)", path, len(data.utterances), len(data.speakers))


def spk2utt_from_utt2spk(utt2spk: dict[str, str]) -> dict[str, list[str]]:
    """Invert utt2spk; each speaker's utterances in C order (as utils/utt2spk_to_spk2utt.pl on sorted input)."""
    spk2utt: dict[str, list[str]] = {}
    for utt in c_sorted(utt2spk):
        spk2utt.setdefault(utt2spk[utt], []).append(utt)
    return spk2utt


def _parse_values(name: str, path: Path, raw: dict[str, str]) -> dict:
    """Typed values (float durations, int frame counts, Segments, utterance lists); errors at file:line."""
    if name not in ("utt2dur", "utt2num_frames", "segments", "spk2utt"):
        return raw
    parsed, line_of = {}, None
    for key, value in raw.items():
        try:
            parsed[key] = _parse_value(name, value)
        except ValueError as e:
            line_of = line_of or scan_kaldi_map(path).lines
            raise AsrError(f"{where(path, line_of.get(key))}: {e}; fix or remove the line") from None
    return parsed


def _parse_value(name: str, value: str):
    if name == "utt2dur":
        duration = _float(value, "duration")
        if not duration > 0:
            raise ValueError(f"duration {value!r} is not a positive number of seconds")
        return duration
    if name == "utt2num_frames":
        try:
            frames = int(value)
        except ValueError:
            raise ValueError(f"frame count {value!r} is not an integer") from None
        if frames < 0:
            raise ValueError(f"frame count {frames} is negative")
        return frames
    if name == "segments":
        parts = value.split()
        if len(parts) != 3:
            raise ValueError(f"expected 'utt recording start end', got {len(parts) + 1} fields")
        start, end = _float(parts[1], "start"), _float(parts[2], "end")
        if start < 0 or (end != -1 and end <= start):
            raise ValueError(f"segment [{parts[1]}, {parts[2]}] is empty or negative (end -1 means 'to the end')")
        return Segment(parts[0], start, end)
    if name == "spk2utt":
        utts = value.split()
        if not utts:
            raise ValueError("speaker has no utterances")
        return utts
    return value


def _float(text: str, what: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} {text!r} is not finite")
    return number


def _format_values(name: str, mapping: dict) -> dict[str, str]:
    if name == "segments":
        return {k: f"{s.recording} {_seconds(s.start)} {_seconds(s.end)}" for k, s in mapping.items()}
    if name == "utt2dur":
        return {k: _seconds(v) for k, v in mapping.items()}
    if name == "spk2utt":
        return {k: " ".join(v) for k, v in mapping.items()}
    return {k: str(v) for k, v in mapping.items()}


def _seconds(value: float) -> str:
    """Seconds as written by Kaldi tools: shortest exact form, no trailing '.0' on integers."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


# --------------------------------------------------------------------------------------------- audio
def load_utterance_audio(datadir: DataDir | str | os.PathLike, utt: str, *, sample_frequency: int | None = None,
                         allow_resample: bool = False, allow_pipes: bool = False,
                         channel: int | None = None) -> tuple[np.ndarray, int]:
    """One utterance's audio (float32, int16 range): its wav.scp entry, cut to its `segments` range if any.

    Samples [round(start*rate), round(end*rate)) as Kaldi's extract-segments; an end up to 0.5 s past the
    recording is clamped (its --max-overshoot), further is an error.
    """
    data = datadir if isinstance(datadir, DataDir) else read_data_dir(datadir)
    base = data.path or Path(".")
    if data.segments and utt not in data.segments:
        raise AsrError(f"{base / 'segments'}: no utterance '{utt}'; check the id or run asr data fix")
    recording = data.recording(utt)
    if recording not in data.wav_scp:
        raise AsrError(f"{base / 'wav.scp'}: no entry for '{recording}'; add it or run asr data fix")
    source = f"{base / 'wav.scp'}[{recording}]"
    options = dict(sample_frequency=sample_frequency, allow_resample=allow_resample, allow_pipes=allow_pipes,
                   channel=channel, source=source)
    if not data.segments:
        return read_wav_scp_entry(data.wav_scp[recording], **options)
    wave, rate = _load_recording(data.wav_scp[recording], **options)
    segment = data.segments[utt]
    start = int(round(segment.start * rate))
    end = len(wave) if segment.end == -1 else int(round(segment.end * rate))
    if end > len(wave):
        if end - len(wave) > SEGMENT_MAX_OVERSHOOT_S * rate:
            raise AsrError(f"{base / 'segments'}[{utt}]: segment ends at {segment.end} s but recording "
                           f"'{recording}' lasts {len(wave) / rate:.3f} s; fix the segment times")
        end = len(wave)
    if start >= end:
        raise AsrError(f"{base / 'segments'}[{utt}]: segment starts at {segment.start} s, at or past the end of "
                       f"recording '{recording}' ({len(wave) / rate:.3f} s); fix the segment times")
    return wave[start:end].copy(), rate


@functools.lru_cache(maxsize=1)
def _load_recording(value: str, **options) -> tuple[np.ndarray, int]:
    """The last recording read, kept because consecutive segments usually share it (sorted segments)."""
    wave, rate = read_wav_scp_entry(value, **options)
    wave.flags.writeable = False
    return wave, rate


def compute_utt2dur(datadir: DataDir | str | os.PathLike, *, allow_pipes: bool = False,
                    failed: dict[str, str] | None = None) -> dict[str, float]:
    """Utterance durations from audio headers (segments: end - start), as utils/data/get_utt2dur.sh.
    With `failed`, an utterance whose audio cannot be read is recorded there (utt -> error) and left out."""
    from tqdm import tqdm

    data = datadir if isinstance(datadir, DataDir) else read_data_dir(datadir)
    base = data.path or Path(".")
    recording_durations: dict[str, float] = {}

    def duration_of(recording: str) -> float:
        if recording not in recording_durations:
            if recording not in data.wav_scp:
                raise AsrError(f"{base / 'wav.scp'}: no entry for '{recording}'; add it or run asr data fix")
            recording_durations[recording] = audio_duration(data.wav_scp[recording], allow_pipes=allow_pipes,
                                                            source=f"{base / 'wav.scp'}[{recording}]")
        return recording_durations[recording]

    def utterance_duration(utt: str) -> float:
        if data.segments:
            segment = data.segments[utt]
            end = duration_of(segment.recording) if segment.end == -1 else segment.end
            return round(end - segment.start, 6)
        return duration_of(utt)

    utt2dur = {}
    for utt in tqdm(data.utterances, desc="utt2dur", unit="utt", disable=None, leave=False):
        with skipped_into(failed, utt):
            utt2dur[utt] = utterance_duration(utt)
    return utt2dur


def write_utt2dur(path: str | os.PathLike, *, allow_pipes: bool = False) -> dict[str, float]:
    """Compute and write `DIR/utt2dur`."""
    utt2dur = compute_utt2dur(path, allow_pipes=allow_pipes)
    write_kaldi_map(Path(path) / "utt2dur", _format_values("utt2dur", utt2dur))
    logger.info("wrote %s (%d utterances, %.2f h)", Path(path) / "utt2dur", len(utt2dur),
                sum(utt2dur.values()) / 3600)
    return utt2dur


# --------------------------------------------------------------------------------------------- validate
def validate_data_dir(path: str | os.PathLike, *, check_audio_paths: bool = True) -> list[MapProblem]:
    """Every problem Kaldi's validate_data_dir.sh would stop at (and a few it would trip over later), each
    with file:line; an empty list means valid. `check_audio_paths`: plain wav.scp paths must exist."""
    path = Path(path)
    if not path.is_dir():
        return [MapProblem(str(path), None, "missing", "not a directory; give a Kaldi data directory")]
    problems: list[MapProblem] = []
    scans, values = {}, {}
    for name in DATA_FILES:
        file = path / name
        if not file.is_file():
            if file.exists():
                problems.append(MapProblem(str(file), None, "not-a-file", "is not a regular file; replace it by "
                                                                          "the Kaldi text file or remove it"))
            continue
        scan = scan_kaldi_map(file, is_text=name == "text")
        problems += scan.problems
        scans[name] = scan
        values[name] = {}
        for key, value in scan.entries.items():
            try:
                values[name][key] = _parse_value(name, value)
            except ValueError as e:
                values[name][key] = None  # keep the id so it is not reported missing as well
                problems.append(MapProblem(str(file), scan.lines[key], "value", f"{e}; fix or remove the line"))
    if "utt2spk" not in scans:
        problems.append(MapProblem(str(path / "utt2spk"), None, "missing",
                                   "missing (required); each utterance needs a speaker, e.g. 'utt utt'"))
        return problems
    if "wav.scp" not in scans and "feats.scp" not in scans:
        problems.append(MapProblem(str(path / "wav.scp"), None, "missing",
                                   "missing, and no feats.scp either; one of them is required"))

    def report(name: str, key: str, kind: str, message: str) -> None:
        problems.append(MapProblem(str(path / name), scans[name].lines.get(key), kind, message))

    utt2spk = values["utt2spk"]
    utts = set(utt2spk)
    for utt, spk in utt2spk.items():
        if not spk or len(spk.split()) != 1:
            report("utt2spk", utt, "value", f"'{utt}' needs exactly one speaker id")
        elif not utt.startswith(spk):
            report("utt2spk", utt, "speaker-prefix", f"speaker id '{spk}' is not a prefix of utterance id '{utt}'"
                                                     f"; prefix the utterance ids with the speaker id")

    def compare_keys(name: str, expected: set[str], owner: str, what: str) -> None:
        """Keys of `name` must equal `expected` (the keys of `owner`)."""
        for key in c_sorted(set(values[name]) - expected):
            report(name, key, "extra-id", f"'{key}' is not in {owner}; remove it (asr data fix does)")
        for key in c_sorted(expected - set(values[name])):
            report(owner, key, "missing-id", f"{what} '{key}' has no entry in {name}; add it or run asr data fix")

    segments = values.get("segments", {})
    if "segments" in scans:
        compare_keys("segments", utts, "utt2spk", "utterance")
        if "wav.scp" in scans:
            for utt, segment in segments.items():
                if isinstance(segment, Segment) and segment.recording not in values["wav.scp"]:
                    report("segments", utt, "missing-id",
                           f"recording '{segment.recording}' is not in wav.scp; add it or run asr data fix")
    elif "wav.scp" in scans:
        compare_keys("wav.scp", utts, "utt2spk", "utterance")
    for name in UTTERANCE_FILES:
        if name in scans:
            compare_keys(name, utts, "utt2spk", "utterance")
    for utt, transcript in values.get("text", {}).items():
        if not transcript.strip():
            report("text", utt, "empty-text", f"empty transcript for '{utt}'; give it one or remove the utterance")
    if "wav.scp" in scans:
        for key, value in values["wav.scp"].items():
            if not value:
                report("wav.scp", key, "value", f"'{key}' has no audio; give a path, 'cmd |' or 'file.ark:offset'")
            elif check_audio_paths and not is_pipe(value) and not _audio_exists(value):
                report("wav.scp", key, "missing-audio", f"audio '{value}' not found; fix the path")

    expected_spk2utt = spk2utt_from_utt2spk({u: s for u, s in utt2spk.items() if s})
    speakers = set(expected_spk2utt)
    if "spk2utt" not in scans:
        problems.append(MapProblem(str(path / "spk2utt"), None, "missing",
                                   "missing; generate it from utt2spk (asr data fix does)"))
    else:
        for spk, listed in values["spk2utt"].items():
            if listed is None:
                continue
            if spk not in expected_spk2utt:
                report("spk2utt", spk, "spk2utt", f"speaker '{spk}' has no utterance in utt2spk; run asr data fix")
            elif set(listed) != set(expected_spk2utt[spk]) or len(listed) != len(set(listed)):
                report("spk2utt", spk, "spk2utt", f"utterances of '{spk}' differ from utt2spk; run asr data fix")
        for spk in c_sorted(speakers - set(values["spk2utt"])):
            problems.append(MapProblem(str(path / "spk2utt"), None, "spk2utt",
                                       f"speaker '{spk}' of utt2spk is missing; run asr data fix"))
    for name in SPEAKER_FILES:
        if name in scans:
            compare_keys(name, speakers, "spk2utt", "speaker")
    for spk, gender in values.get("spk2gender", {}).items():
        if gender is not None and gender not in ("m", "f"):
            report("spk2gender", spk, "value", f"gender '{gender}' must be 'm' or 'f'")

    if "feats.scp" in scans:
        frames = values.get("utt2num_frames", {})
        for utt, spec in values["feats.scp"].items():
            try:
                shape = matrix_shape(spec)
            except AsrError as e:
                report("feats.scp", utt, "feats", f"{e}")
                continue
            if utt in frames and isinstance(frames[utt], int) and shape[0] != frames[utt]:
                report("utt2num_frames", utt, "num-frames",
                       f"'{utt}' has {frames[utt]} frames here but {shape[0]} in feats.scp; run asr data fix")
    return problems


def _audio_exists(value: str) -> bool:
    """A plain path or the archive of `file.ark:offset` exists."""
    if os.path.exists(value):
        return True
    head, _, offset = value.rpartition(":")
    return bool(head) and offset.isdigit() and os.path.isfile(head)


# --------------------------------------------------------------------------------------------- fix
@dataclass
class FixReport:
    """What fix_data_dir changed: counts before/after, repairs by kind, drops by reason."""

    path: Path
    utterances_before: int
    utterances_after: int
    speakers_before: int
    speakers_after: int
    repaired: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    backup: Path | None = None

    def __str__(self) -> str:
        lines = [f"{self.path}: kept {self.utterances_after} of {self.utterances_before} utterances, "
                 f"{self.speakers_after} of {self.speakers_before} speakers"
                 + (f"; originals in {self.backup}" if self.backup else "")]
        lines += [f"  repaired {count} x {kind}" for kind, count in sorted(self.repaired.items())]
        lines += [f"  dropped {count} utterance(s): {reason}" for reason, count in sorted(self.dropped.items())]
        return "\n".join(lines)


def fix_data_dir(path: str | os.PathLike) -> FixReport:
    """Repair a data directory in place, as utils/fix_data_dir.sh, after copying its files to `.backup/`.

    Repairs BOM, CRLF, blank lines, whitespace, order, duplicate ids (first kept), spk2utt and frame counts
    (utt2num_frames taken from the feats headers); drops utterances that are not in every utterance map, whose
    maps hold unparsable values or empty transcripts, and speakers missing from cmvn.scp/spk2gender.
    """
    path = Path(path)
    if not path.is_dir():
        raise AsrError(f"{path}: not a directory; give a Kaldi data directory")
    present = [name for name in DATA_FILES if (path / name).is_file()]
    for name in DATA_FILES:
        if name not in present and (path / name).exists():
            raise AsrError(f"{path / name}: is not a regular file; replace it by the Kaldi text file or remove it")
    if "utt2spk" not in present:
        raise AsrError(f"{path / 'utt2spk'}: missing; fix cannot invent speakers, create utt2spk first")
    backup = own_folder(path, BACKUP_DIR)
    backup.mkdir(exist_ok=True)
    for name in present:
        shutil.copy2(path / name, backup / name)

    repaired: dict[str, int] = {}
    dropped: dict[str, int] = {}
    maps: dict[str, dict] = {}
    bad_utts: dict[str, set[str]] = {}
    for name in present:
        scan = scan_kaldi_map(path / name, is_text=name == "text")
        for problem in scan.problems:
            if problem.kind != "unsorted":
                repaired[problem.kind] = repaired.get(problem.kind, 0) + 1
        if any(p.kind == "unsorted" for p in scan.problems):
            repaired["unsorted file"] = repaired.get("unsorted file", 0) + 1
        maps[name] = {}
        for key, value in scan.entries.items():
            value = " ".join(value.split()) if name == "text" else value
            try:
                maps[name][key] = _parse_value(name, value)
            except ValueError:
                bad_utts.setdefault(f"bad value in {name}", set()).add(key)

    utt2spk = {u: s for u, s in maps["utt2spk"].items() if len(s.split()) == 1}
    before = set(maps["utt2spk"])
    speakers_before = len(set(maps["utt2spk"].values()))
    keep = set(utt2spk)

    def restrict(reason: str, allowed: Iterable[str]) -> None:
        nonlocal keep
        allowed = set(allowed)
        if lost := keep - allowed:
            dropped[reason] = dropped.get(reason, 0) + len(lost)
        keep &= allowed

    if len(utt2spk) < len(before):
        dropped["not exactly one speaker in utt2spk"] = len(before) - len(utt2spk)
    for reason, utts in bad_utts.items():
        restrict(reason, set(maps["utt2spk"]) - utts)
    for name in ("segments", "text", "feats.scp", "utt2dur", "utt2num_frames"):
        if name in maps:
            restrict(f"not in {name}", maps[name])
    if "segments" in maps:
        wav = maps.get("wav.scp", {})
        restrict("recording not in wav.scp", [u for u in keep if maps["segments"][u].recording in wav])
    elif "wav.scp" in maps:
        restrict("not in wav.scp", [u for u, v in maps["wav.scp"].items() if v])
    if "text" in maps:
        restrict("empty transcript", [u for u in keep if maps["text"][u]])
    for name in SPEAKER_FILES:
        if name in maps:
            valid = {s for s, v in maps[name].items() if name != "spk2gender" or v in ("m", "f")}
            restrict(f"speaker not in {name}", [u for u in keep if utt2spk[u] in valid])
    speakers = {utt2spk[u] for u in keep}
    if not keep:
        reasons = "; ".join(f"{count} {reason}" for reason, count in sorted(dropped.items()))
        raise AsrError(f"{path}: fixing would drop every utterance ({reasons}); nothing changed, repair the files "
                       f"by hand (run asr data validate {path})")

    data = DataDir(path=path)
    data.utt2spk = {u: utt2spk[u] for u in keep}
    for name in ("text", "utt2dur", "utt2num_frames", "feats.scp", "segments"):
        if name in maps:
            setattr(data, DATA_FILES[name], {u: maps[name][u] for u in keep})
    if "wav.scp" in maps:
        recordings = {data.recording(u) for u in keep}
        data.wav_scp = {r: v for r, v in maps["wav.scp"].items() if r in recordings}
    for name in SPEAKER_FILES:
        if name in maps:
            setattr(data, DATA_FILES[name], {s: v for s, v in maps[name].items() if s in speakers})
    if data.feats_scp and data.utt2num_frames:
        corrected = 0
        for utt, spec in data.feats_scp.items():
            frames = matrix_shape(spec)[0]
            if data.utt2num_frames[utt] != frames:
                data.utt2num_frames[utt], corrected = frames, corrected + 1
        if corrected:
            repaired["utt2num_frames corrected from feats"] = corrected
    write_data_dir(path, data)
    report = FixReport(path, len(before), len(keep), speakers_before, len(speakers), repaired, dropped, backup)
    logger.info("%s", report)
    return report


# --------------------------------------------------------------------------------------------- subset / split
def restrict_data_dir(data: DataDir, utts: Iterable[str], path: Path | None = None) -> DataDir:
    """The part of `data` holding only `utts` (their speakers, recordings and per-speaker entries)."""
    keep = set(utts)
    out = DataDir(path=path)
    for attribute in ("wav_scp", "text", "utt2spk", "segments", "utt2dur", "feats_scp", "utt2num_frames"):
        setattr(out, attribute, {k: v for k, v in getattr(data, attribute).items() if k in keep})
    if data.segments:
        recordings = {s.recording for s in out.segments.values()}
        out.wav_scp = {r: v for r, v in data.wav_scp.items() if r in recordings}
    speakers = set(out.utt2spk.values())
    out.spk2utt = spk2utt_from_utt2spk(out.utt2spk)
    out.cmvn_scp = {s: v for s, v in data.cmvn_scp.items() if s in speakers}
    out.spk2gender = {s: v for s, v in data.spk2gender.items() if s in speakers}
    return out


def _read_id_list(path: str | os.PathLike) -> list[str]:
    """First field of each line of an id list (a Kaldi map works too)."""
    return list(read_kaldi_map(path))


def subset_data_dir(src: str | os.PathLike, dst: str | os.PathLike, *, utt_list: str | os.PathLike | None = None,
                    first: int | None = None, random_n: int | None = None, seed: int = 0,
                    spk_list: str | os.PathLike | None = None) -> DataDir:
    """Write the subset of `src` chosen by exactly one of: an utterance list, the first N utterances (C order),
    N utterances at random (seeded), a speaker list. As utils/subset_data_dir.sh."""
    chosen_modes = [m for m in (utt_list, first, random_n, spk_list) if m is not None]
    if len(chosen_modes) != 1:
        raise AsrError("subset: give exactly one of --utt-list, --first, --random, --spk-list")
    data = read_data_dir(src)
    utts = data.utterances
    if utt_list is not None:
        wanted = _read_id_list(utt_list)
        unknown = [u for u in wanted if u not in set(utts)]
        if unknown:
            logger.warning("%s: %d id(s) not in %s ignored (first: %s)", utt_list, len(unknown), src, unknown[0])
        chosen = set(wanted) & set(utts)
    elif spk_list is not None:
        wanted_speakers = set(_read_id_list(spk_list))
        unknown = wanted_speakers - set(data.spk2utt)
        if unknown:
            logger.warning("%s: %d speaker(s) not in %s ignored", spk_list, len(unknown), src)
        chosen = {u for u in utts if data.utt2spk.get(u) in wanted_speakers}
    else:
        count = first if first is not None else random_n
        if count < 0 or count > len(utts):
            raise AsrError(f"{src}: cannot take {count} of {len(utts)} utterances; give a number up to {len(utts)}")
        chosen = set(utts[:count] if first is not None else random.Random(seed).sample(utts, count))
    if not chosen:
        raise AsrError(f"{src}: the subset is empty; check the list or number")
    subset = restrict_data_dir(data, chosen, Path(dst))
    write_data_dir(dst, subset)
    copy_directory_files([Path(src)], Path(dst))
    return subset


def split_data_dir(path: str | os.PathLike, num_parts: int, *, per_spk: bool = False) -> list[Path]:
    """Split into `path/split{N}/{1..N}` (as utils/split_data.sh), contiguous in C order with balanced
    utterance counts; `per_spk` keeps each speaker in one part (needed for per-speaker CMVN)."""
    path = Path(path)
    data = read_data_dir(path)
    utts = data.utterances
    if num_parts < 1:
        raise AsrError(f"split: number of parts must be >= 1, got {num_parts}")
    if per_spk:
        if not data.utt2spk:
            raise AsrError(f"{path / 'utt2spk'}: missing; --per-spk needs speakers")
        speakers = c_sorted(data.spk2utt)
        if num_parts > len(speakers):
            raise AsrError(f"{path}: cannot split {len(speakers)} speaker(s) into {num_parts} parts; use fewer "
                           f"jobs or split by utterance")
        groups = _balanced_groups([len(data.spk2utt[s]) for s in speakers], num_parts)
        parts = [[u for s in speakers[a:b] for u in data.spk2utt[s]] for a, b in groups]
    else:
        if num_parts > len(utts):
            raise AsrError(f"{path}: cannot split {len(utts)} utterance(s) into {num_parts} parts; use fewer jobs")
        parts = [list(chunk) for chunk in np.array_split(np.array(utts, dtype=object), num_parts)]
    split_root = own_folder(path, f"split{num_parts}")
    outputs = []
    for index, part in enumerate(parts, start=1):
        out = own_folder(split_root, str(index))
        write_data_dir(out, restrict_data_dir(data, part, out))
        copy_directory_files([path], out)
        outputs.append(out)
    write_text_atomic(split_root / "split_mode", ("per_spk" if per_spk else "per_utt") + "\n")
    logger.info("split %s into %d parts under %s", path, num_parts, split_root)
    return outputs


def _balanced_groups(counts: list[int], num_parts: int) -> list[tuple[int, int]]:
    """Cut `counts` into `num_parts` non-empty contiguous runs with sums as even as possible (greedy)."""
    groups, start = [], 0
    for part in range(num_parts):
        remaining_parts = num_parts - part
        if remaining_parts == 1:
            groups.append((start, len(counts)))
            break
        target = sum(counts[start:]) / remaining_parts
        end, size = start + 1, counts[start]
        while len(counts) - end > remaining_parts - 1 and abs(size + counts[end] - target) <= abs(size - target):
            size += counts[end]
            end += 1
        groups.append((start, end))
        start = end
    return groups


# --------------------------------------------------------------------------------------------- combine / copy
def combine_data_dirs(out: str | os.PathLike, sources: list[str | os.PathLike]) -> DataDir:
    """Union of data directories (utils/combine_data.sh). Utterance ids must not repeat; a file is written
    only if every source has it (a warning names the files dropped)."""
    if not sources:
        raise AsrError("combine: give at least one source data directory")
    parts = [read_data_dir(s) for s in sources]
    with_segments = [p for p in parts if p.segments]
    if with_segments and len(with_segments) != len(parts):
        raise AsrError("combine: some sources have segments and some do not; give the others a segments file "
                       "(one whole-recording segment per utterance) first")
    combined = DataDir(path=Path(out))
    owner: dict[str, str] = {}
    for part in parts:
        for utt in part.utterances:
            if utt in owner:
                raise AsrError(f"combine: utterance '{utt}' is in both {owner[utt]} and {part.path}; ids must be "
                               f"unique (copy one with a prefix: asr data copy --utt-prefix)")
            owner[utt] = str(part.path)
    for f in fields(DataDir):
        if f.name in ("path", "spk2utt"):
            continue
        maps = [getattr(p, f.name) for p in parts]
        if not all(maps):
            if any(maps):
                logger.warning("combine: %s is missing from some sources; not written", _file_of(f.name))
            continue
        merged: dict = {}
        for part, mapping in zip(parts, maps):
            for key, value in mapping.items():
                if key in merged and merged[key] != value:
                    raise AsrError(f"combine: {_file_of(f.name)} entry '{key}' differs between sources "
                                   f"({part.path}); make the ids unique")
                merged[key] = value
        setattr(combined, f.name, merged)
    write_data_dir(out, combined)
    copy_directory_files([Path(s) for s in sources], Path(out))
    return combined


def _file_of(attribute: str) -> str:
    return next(name for name, attr in DATA_FILES.items() if attr == attribute)


def copy_data_dir(src: str | os.PathLike, dst: str | os.PathLike, *, utt_prefix: str = "", utt_suffix: str = "",
                  spk_prefix: str = "", spk_suffix: str = "") -> DataDir:
    """Copy a data directory, optionally renaming utterances and speakers (utils/copy_data_dir.sh options).

    Recording ids (wav.scp keys under segments) are kept; without segments wav.scp follows the utterances.
    """
    data = read_data_dir(src)
    rename_utt: Callable[[str], str] = lambda u: f"{utt_prefix}{u}{utt_suffix}"  # noqa: E731
    rename_spk: Callable[[str], str] = lambda s: f"{spk_prefix}{s}{spk_suffix}"  # noqa: E731
    copy = DataDir(path=Path(dst))
    for attribute in ("text", "segments", "utt2dur", "feats_scp", "utt2num_frames"):
        setattr(copy, attribute, {rename_utt(k): v for k, v in getattr(data, attribute).items()})
    copy.utt2spk = {rename_utt(u): rename_spk(s) for u, s in data.utt2spk.items()}
    copy.wav_scp = dict(data.wav_scp) if data.segments else {rename_utt(k): v for k, v in data.wav_scp.items()}
    copy.cmvn_scp = {rename_spk(s): v for s, v in data.cmvn_scp.items()}
    copy.spk2gender = {rename_spk(s): v for s, v in data.spk2gender.items()}
    if not copy.utt2spk:
        copy.spk2utt = dict(data.spk2utt)
    write_data_dir(dst, copy)
    copy_directory_files([Path(src)], Path(dst))
    return copy


def copy_directory_files(sources: list[Path], dst: Path) -> None:
    """Give `dst` the DIRECTORY_FILES that all `sources` hold with the same content; remove stale ones.

    Features computed with different options must not be mixed, so a feats.conf that differs between sources
    is dropped with a warning (training then asks for --feature-config)."""
    for name in DIRECTORY_FILES:
        contents = {(s / name).read_bytes() if (s / name).is_file() else None for s in sources}
        if len(contents) == 1 and None not in contents:
            if (dst / name).resolve() != (sources[0] / name).resolve():
                write_text_atomic(dst / name, contents.pop().decode("utf-8"))
            continue
        if any(contents):
            logger.warning("%s: %s differs between (or is missing from some of) %s; not written", dst, name,
                           ", ".join(map(str, sources)))
        (dst / name).unlink(missing_ok=True)
