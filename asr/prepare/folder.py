"""A folder of audio files with sidecar transcripts: `a/b/utt.wav` + `a/b/utt.txt` (or `.lab`, as Montreal
Forced Aligner and many TTS corpora keep them: the words of the utterance, on one or more lines).

The speaker is the folder the file sits in, relative to SOURCE (`spk1/utt.wav` -> spk1; nested folders joined
with '-'), or a regular expression's first group on the file name (`--speaker-pattern`); a file directly in
SOURCE is its own speaker (Kaldi's convention when speakers are unknown). The utterance id is the file's path
below SOURCE without extension, folders joined with '-', prefixed by the speaker.
"""

from __future__ import annotations

import re
from pathlib import Path

from asr.datadir import DataDir
from asr.errors import AsrError
from asr.prepare.common import (BadInput, PrepareOptions, Utterance, find_audio, make_id, read_transcript,
                                with_speaker_prefix, write_prepared)

TRANSCRIPT_SUFFIXES = (".txt", ".lab")


def collect_folder(source: Path, bad: BadInput, *, speaker_pattern: str | None = None) -> list[Utterance]:
    """The utterances of a sidecar-transcript folder."""
    pattern = _compile(speaker_pattern) if speaker_pattern else None
    utterances = []
    for audio in find_audio(source):
        relative = audio.relative_to(source).with_suffix("")
        name = make_id("-".join(relative.parts))
        if pattern is not None:
            match = pattern.search(audio.stem)
            if match is None:
                raise AsrError(f"{audio}: --speaker-pattern {speaker_pattern!r} does not match the file name "
                               f"{audio.stem!r}; fix the pattern")
            speaker = make_id(match.group(1))
        else:
            speaker = make_id("-".join(relative.parts[:-1])) or name
        transcripts = [audio.with_suffix(s) for s in TRANSCRIPT_SUFFIXES if audio.with_suffix(s).is_file()]
        if not transcripts:
            bad(f"{audio}: no transcript beside it (expected {audio.stem}.txt or {audio.stem}.lab); add one")
            continue
        if len(transcripts) > 1:
            bad(f"{audio}: two transcripts ({transcripts[0].name}, {transcripts[1].name}); keep one")
            continue
        text = read_transcript(transcripts[0], bad)
        if text is not None:
            utterances.append(Utterance(with_speaker_prefix(speaker, name), speaker, audio, text,
                                        str(transcripts[0])))
    return utterances


def _compile(pattern: str) -> re.Pattern:
    try:
        compiled = re.compile(pattern)
    except re.error as e:
        raise AsrError(f"--speaker-pattern {pattern!r} is not a valid regular expression ({e})") from None
    if compiled.groups < 1:
        raise AsrError(f"--speaker-pattern {pattern!r} needs a group, e.g. '^([a-z]+)_' for 'anna_001.wav'")
    return compiled


def prepare_folder(source: str | Path, data_dir: str | Path, options: PrepareOptions | None = None, *,
                   speaker_pattern: str | None = None) -> DataDir:
    """Write a data directory for the audio files under `source` and their sidecar transcripts."""
    options = options or PrepareOptions()
    bad = BadInput(options.skip_bad)
    utterances = collect_folder(Path(source), bad, speaker_pattern=speaker_pattern)
    return write_prepared(data_dir, utterances, options, bad, source=f"folder {source}")
