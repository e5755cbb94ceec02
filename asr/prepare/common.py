"""What every importer shares: the utterance record, strict reading of source text files, bad-input policy,
utterance ids, and writing the Kaldi data directory (through `asr.datadir`).

An importer only turns a corpus layout into `Utterance`s. `write_prepared` then checks the audio (present and
readable: utt2dur comes from its header), normalizes transcripts if asked, writes wav.scp (absolute paths),
text, utt2spk, spk2utt, utt2dur (and spk2gender where the corpus gives it) in C-locale order, each file
atomically, and validates the result the way Kaldi's validate_data_dir.sh does.

Bad input (undecodable text, CRLF line ends, empty transcripts, missing or unreadable audio) is an `AsrError`
naming the file and line; with `skip_bad` the utterance is left out instead, and every skip is listed in
`DATA_DIR/log/skipped.txt`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from pathlib import Path
from typing import Iterable

from tqdm import tqdm

from asr.audio import audio_duration
from asr.datadir import DataDir, validate_data_dir, write_data_dir
from asr.errors import AsrError, where
from asr.fileio import write_text_atomic
from asr.kaldi_io import FATAL_MAP_PROBLEMS, scan_kaldi_map
from asr.units.normalize import NormalizeOptions, normalize_transcripts, write_normalization_report

logger = logging.getLogger(__name__)

SKIPPED_REPORT = Path("log") / "skipped.txt"
NORMALIZED_REPORT = Path("log") / "normalized.tsv"
AUDIO_EXTENSIONS = (".wav", ".flac", ".sph", ".nist", ".ogg", ".opus", ".mp3", ".aiff", ".aif", ".au")
_WHITESPACE = re.compile(r"\s+")


@dataclasses.dataclass
class PrepareOptions(NormalizeOptions):
    """Options every importer takes: transcript normalization (inherited, all off) and the bad-input policy."""

    skip_bad: bool = False  # leave out utterances with bad input (reported) instead of stopping at the first


@dataclasses.dataclass
class Utterance:
    """One utterance found in a corpus; `origin` (file:line) locates it for messages."""

    utt_id: str
    speaker: str
    audio: Path
    text: str
    origin: str


class BadInput:
    """The bad-input policy: stop at the first problem (AsrError), or record it and let the importer skip."""

    def __init__(self, skip: bool) -> None:
        self.skip = skip
        self.skipped: list[str] = []

    def __call__(self, message: str) -> None:
        """Report one problem (`file:line: what; fix`); returns only when skipping."""
        if not self.skip:
            raise AsrError(f"{message}; or pass --skip-bad to leave such utterances out")
        self.skipped.append(message)
        logger.warning("skipping: %s", message)


def make_id(text: str) -> str:
    """An id usable as a Kaldi key: whitespace (which would split the line) becomes '_'."""
    return _WHITESPACE.sub("_", text.strip())


def with_speaker_prefix(speaker: str, name: str) -> str:
    """`name` prefixed by `speaker-` unless it already starts so (Kaldi: the speaker id prefixes the utterance
    id, so that sorting utterances also groups speakers)."""
    return name if name == speaker or name.startswith(speaker + "-") else f"{speaker}-{name}"


def read_lines(path: Path, bad: BadInput) -> list[tuple[int, str]]:
    """(line number, line) of a UTF-8 text file, blank lines dropped; undecodable and CRLF lines are bad input."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise AsrError(f"{path}: cannot read ({e.strerror}); check the corpus folder") from None
    lines = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            bad(f"{where(path, number)}: not valid UTF-8 (byte {raw[e.start]:#04x} at column {e.start + 1}); "
                f"convert the file to UTF-8, e.g. iconv -f LATIN1 -t UTF-8")
            continue
        if number == 1:
            line = line.removeprefix("\ufeff")
        if line.endswith("\r"):
            bad(f"{where(path, number)}: CRLF line end; convert the file with dos2unix")
            continue
        if line.strip():
            lines.append((number, line))
    return lines


def read_transcript(path: Path, bad: BadInput) -> str | None:
    """The transcript in a sidecar file (all its lines joined); None when it is bad input being skipped."""
    skipped_before = len(bad.skipped)
    lines = read_lines(path, bad)
    if len(bad.skipped) > skipped_before:
        return None
    text = " ".join(line for _, line in lines).split()
    if not text:
        bad(f"{path}: empty transcript; write the words spoken, or delete the audio file")
        return None
    return " ".join(text)


def read_kaldi_list(path: Path, bad: BadInput, *, is_text: bool = False) -> dict[str, tuple[str, str]]:
    """A Kaldi `key value` list from a corpus: key -> (value, 'file:line'); bad lines go through `bad`."""
    if not path.is_file():
        raise AsrError(f"{path}: not found; is the source folder the right one?")
    scan = scan_kaldi_map(path, is_text=is_text)
    bad_lines = set()
    for problem in scan.problems:
        if problem.kind in FATAL_MAP_PROBLEMS:
            bad(str(problem))
            bad_lines.add(problem.line)
    return {key: (value, where(path, scan.lines[key])) for key, value in scan.entries.items()
            if scan.lines[key] not in bad_lines}


def write_prepared(data_dir: str | os.PathLike, utterances: Iterable[Utterance], options: PrepareOptions,
                   bad: BadInput, *, spk2gender: dict[str, str] | None = None, source: str = "") -> DataDir:
    """Check, normalize and write `utterances` as a Kaldi data directory; returns what was written."""
    data_dir = Path(data_dir)
    kept: dict[str, Utterance] = {}
    for utt in utterances:
        if utt.utt_id in kept:
            raise AsrError(f"{utt.origin}: utterance id '{utt.utt_id}' repeats (first from {kept[utt.utt_id].origin});"
                           f" give the files distinct names")
        if not utt.text.split():
            bad(f"{utt.origin}: empty transcript for '{utt.utt_id}'; give it one or remove the utterance")
            continue
        kept[utt.utt_id] = utt
    durations: dict[str, float] = {}
    for utt in tqdm(list(kept.values()), desc="audio headers", unit="utt", disable=None, leave=False):
        if not utt.audio.is_file():
            bad(f"{utt.origin}: audio file {utt.audio} not found; restore it or remove the utterance")
            continue
        try:
            durations[utt.utt_id] = audio_duration(utt.audio)
        except AsrError as e:
            bad(f"{utt.origin}: {e}")
            continue
        if durations[utt.utt_id] <= 0:
            del durations[utt.utt_id]
            bad(f"{utt.origin}: audio file {utt.audio} holds no samples; remove the utterance")
    kept = {u: utt for u, utt in kept.items() if u in durations}
    if not kept:
        raise AsrError(f"{source or data_dir}: no usable utterances found; check the source folder and --format")
    text, changed = normalize_transcripts({u: " ".join(utt.text.split()) for u, utt in kept.items()}, options)
    empty = [u for u, words in text.items() if not words]
    if empty:
        raise AsrError(f"{kept[empty[0]].origin}: transcript of '{empty[0]}' is empty after normalization "
                       f"({len(empty)} such); drop --remove-punctuation or fix the transcripts")
    speakers = {utt.speaker for utt in kept.values()}
    if spk2gender is not None:
        spk2gender = {spk: spk2gender[spk] for spk in speakers if spk in spk2gender}
        if len(spk2gender) < len(speakers):
            logger.warning("spk2gender not written: %d of %d speakers have no gender in the corpus",
                           len(speakers) - len(spk2gender), len(speakers))
            spk2gender = None
    data = DataDir(path=data_dir, wav_scp={u: str(utt.audio.resolve()) for u, utt in kept.items()}, text=text,
                   utt2spk={u: utt.speaker for u, utt in kept.items()}, utt2dur=durations,
                   spk2gender=spk2gender or {})
    write_data_dir(data_dir, data)
    _write_report(data_dir / NORMALIZED_REPORT, changed, write_normalization_report)
    _write_report(data_dir / SKIPPED_REPORT, bad.skipped,
                  lambda path, lines: write_text_atomic(path, "".join(f"{line}\n" for line in lines)))
    problems = validate_data_dir(data_dir, check_audio_paths=False)
    if problems:
        raise AsrError(f"the data directory written is not valid: {problems[0]} ({len(problems)} problems); "
                       f"please report this with the source corpus layout")
    hours = sum(durations.values()) / 3600
    logger.info("prepared %s%s: %d utterances, %d speakers, %.2f h -> %s (wav.scp text utt2spk spk2utt utt2dur%s)",
                source, "" if not bad.skipped else f" ({len(bad.skipped)} skipped, see {data_dir / SKIPPED_REPORT})",
                len(kept), len(speakers), hours, data_dir, " spk2gender" if spk2gender else "")
    return data


def _write_report(path: Path, entries: list, writer) -> None:
    """Write a report, or remove one left by an earlier run (it would describe other input)."""
    if entries:
        writer(path, entries)
    else:
        path.unlink(missing_ok=True)


def find_audio(folder: Path) -> list[Path]:
    """Audio files under `folder` (recursively, by extension, case-insensitive), in a stable order."""
    if not folder.is_dir():
        raise AsrError(f"{folder}: not a folder; give the corpus folder")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())
