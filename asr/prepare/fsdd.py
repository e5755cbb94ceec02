"""The Free Spoken Digit Dataset: `recordings/{digit}_{speaker}_{index}.wav`, one spoken digit per file.

Two splits: `index` is the dataset's own (indices 0-4 of every speaker and digit are the test set, 5-49 the
training set; the same speakers in both), `speaker` holds out whole speakers (`test_speakers`) for a
speaker-independent test. Transcripts are the digit words ZERO ... NINE. Utterance ids are the file names
prefixed by the speaker: `jackson-0_jackson_12`.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Iterable, Literal

from asr.datadir import DataDir
from asr.errors import AsrError
from asr.prepare.common import BadInput, PrepareOptions, Utterance, with_speaker_prefix, write_prepared

logger = logging.getLogger(__name__)

DIGIT_WORDS = ("ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE")
TEST_INDICES = range(0, 5)  # the dataset's official test set: indices 0-4 of every speaker and digit
FILE_NAME = re.compile(r"^(?P<digit>\d)_(?P<speaker>[A-Za-z0-9]+)_(?P<index>\d+)\.wav$")
Split = Literal["index", "speaker"]
Subset = Literal["train", "test", "all"]


def recordings_folder(source: Path) -> Path:
    """`source` itself, or its `recordings/` folder (the layout of the dataset's repository)."""
    if (source / "recordings").is_dir():
        return source / "recordings"
    if not source.is_dir():
        raise AsrError(f"{source}: not a folder; give FSDD's recordings folder")
    return source


def collect_fsdd(source: Path, *, subset: Subset = "all", split: Split = "index",
                 test_speakers: Iterable[str] = ()) -> list[Utterance]:
    """The FSDD utterances of `subset` under `split`."""
    folder = recordings_folder(source)
    files = []
    ignored = 0
    for path in sorted(folder.iterdir()):
        match = FILE_NAME.match(path.name)
        if match:
            files.append((path, match["speaker"], int(match["digit"]), int(match["index"])))
        elif path.suffix.lower() == ".wav":
            ignored += 1
    if not files:
        raise AsrError(f"{folder}: no files named {{digit}}_{{speaker}}_{{index}}.wav; give FSDD's recordings "
                       f"folder")
    if ignored:
        logger.warning("%s: ignored %d .wav files not named {digit}_{speaker}_{index}.wav", folder, ignored)
    speakers = sorted({speaker for _, speaker, _, _ in files})
    test_speakers = set(test_speakers)
    if split == "speaker":
        unknown = sorted(test_speakers - set(speakers))
        if not test_speakers or unknown:
            raise AsrError(f"--split speaker needs --test-speakers from {', '.join(speakers)}"
                           + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
    elif test_speakers:
        raise AsrError("--test-speakers only applies with --split speaker")
    utterances = []
    for path, speaker, digit, index in files:
        is_test = index in TEST_INDICES if split == "index" else speaker in test_speakers
        if subset == "all" or (subset == "test") == is_test:
            utterances.append(Utterance(with_speaker_prefix(speaker, path.stem), speaker, path, DIGIT_WORDS[digit],
                                        str(path)))
    return utterances


def prepare_fsdd(source: str | Path, data_dir: str | Path, options: PrepareOptions | None = None, *,
                 subset: Subset = "all", split: Split = "index", test_speakers: Iterable[str] = ()) -> DataDir:
    """Write a data directory for `subset` (train, test or all) of FSDD under `split`."""
    options = options or PrepareOptions()
    utterances = collect_fsdd(Path(source), subset=subset, split=split, test_speakers=test_speakers)
    return write_prepared(data_dir, utterances, options, BadInput(options.skip_bad),
                          source=f"FSDD {subset} ({split} split)")
