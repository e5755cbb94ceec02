"""CMU AN4 (census database), NIST SPHERE version: `an4/wav/an4_clstk/<spk>/<id>.sph` (train) and
`an4/wav/an4test_clstk/<spk>/<id>.sph` (test), with `an4/etc/an4_{train,test}.transcription` lines
`<s> WORDS </s> (an251-fash-b)` and `an4/etc/an4_{train,test}.fileids` lines `an4_clstk/fash/an251-fash-b`.

File ids are `<prompt>-<speaker>-<mic>`; as in Kaldi's an4 recipe the utterance id moves the speaker first
(`fash-an251-b`). Audio paths come from the `.fileids` list where present, else from the standard layout.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from asr.datadir import DataDir
from asr.errors import AsrError, where
from asr.prepare.common import BadInput, PrepareOptions, Utterance, read_lines, write_prepared

Subset = Literal["train", "test"]
AUDIO_FOLDERS = {"train": "an4_clstk", "test": "an4test_clstk"}
_LINE = re.compile(r"^\s*(?:<s>\s+)?(?P<words>.*?)\s*(?:</s>)?\s*\((?P<file_id>[^()\s]+)\)\s*$")


def an4_root(source: Path) -> Path:
    """`source`, or `source/an4` (the folder the archive unpacks to)."""
    for root in (source, source / "an4"):
        if (root / "etc").is_dir():
            return root
    raise AsrError(f"{source}: no etc/ folder here; give the an4 folder holding etc/ and wav/")


def collect_an4(source: Path, bad: BadInput, *, subset: Subset = "train") -> list[Utterance]:
    """The utterances of AN4's train or test set."""
    root = an4_root(source)
    transcription = root / "etc" / f"an4_{subset}.transcription"
    fileids = root / "etc" / f"an4_{subset}.fileids"
    audio_of: dict[str, Path] = {}
    if fileids.is_file():
        for _, line in read_lines(fileids, bad):
            relative = line.strip()
            audio_of[Path(relative).name] = root / "wav" / f"{relative}.sph"
    utterances = []
    for number, line in read_lines(transcription, bad):
        origin = where(transcription, number)
        match = _LINE.match(line)
        if match is None:
            bad(f"{origin}: expected '<s> WORDS </s> (file-id)', got {line.strip()!r}")
            continue
        file_id = match["file_id"]
        parts = file_id.split("-")
        if len(parts) != 3:
            bad(f"{origin}: file id {file_id!r} is not <prompt>-<speaker>-<mic>")
            continue
        prompt, speaker, mic = parts
        if audio_of and file_id not in audio_of:
            bad(f"{origin}: file id {file_id!r} is not listed in {fileids}; add it there")
            continue
        audio = audio_of.get(file_id, root / "wav" / AUDIO_FOLDERS[subset] / speaker / f"{file_id}.sph")
        utterances.append(Utterance(f"{speaker}-{prompt}-{mic}", speaker, audio, match["words"], origin))
    return utterances


def prepare_an4(source: str | Path, data_dir: str | Path, options: PrepareOptions | None = None, *,
                subset: Subset = "train") -> DataDir:
    """Write a data directory for AN4's train or test set."""
    options = options or PrepareOptions()
    bad = BadInput(options.skip_bad)
    utterances = collect_an4(Path(source), bad, subset=subset)
    return write_prepared(data_dir, utterances, options, bad, source=f"AN4 {subset}")
