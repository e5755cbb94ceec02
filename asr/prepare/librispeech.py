"""LibriSpeech: `SUBSET/<reader>/<chapter>/<reader>-<chapter>-<n>.flac` with one `<reader>-<chapter>.trans.txt`
per chapter (`<reader>-<chapter>-<n> WORDS` per line).

As in Kaldi's recipe the speaker is `<reader>-<chapter>` (per-chapter CMVN; the utterance ids already start
with it). Genders come from `SPEAKERS.TXT` (`ID | SEX | SUBSET | MINUTES | NAME`) in SUBSET or its parent.
"""

from __future__ import annotations

from pathlib import Path

from asr.datadir import DataDir
from asr.errors import AsrError
from asr.prepare.common import (BadInput, PrepareOptions, Utterance, read_kaldi_list, read_lines,
                                with_speaker_prefix, write_prepared)

TRANSCRIPT_SUFFIX = ".trans.txt"
AUDIO_SUFFIX = ".flac"


def collect_librispeech(source: Path, bad: BadInput) -> list[Utterance]:
    """The utterances of one LibriSpeech subset folder (e.g. LibriSpeech/dev-clean)."""
    transcripts = sorted(source.glob(f"*/*/*{TRANSCRIPT_SUFFIX}"))
    if not transcripts:
        raise AsrError(f"{source}: no <reader>/<chapter>/*{TRANSCRIPT_SUFFIX} here; give a LibriSpeech subset "
                       f"folder such as LibriSpeech/dev-clean")
    utterances = []
    for transcript in transcripts:
        speaker = transcript.name[:-len(TRANSCRIPT_SUFFIX)]
        for utt, (words, origin) in read_kaldi_list(transcript, bad, is_text=True).items():
            audio = transcript.parent / f"{utt}{AUDIO_SUFFIX}"
            utterances.append(Utterance(with_speaker_prefix(speaker, utt), speaker, audio, words, origin))
    return utterances


def read_speaker_genders(source: Path, bad: BadInput) -> dict[str, str] | None:
    """reader -> 'm'/'f' from SPEAKERS.TXT beside or above the subset folder; None if there is none."""
    path = next((p for p in (source / "SPEAKERS.TXT", source.parent / "SPEAKERS.TXT") if p.is_file()), None)
    if path is None:
        return None
    genders = {}
    for _, line in read_lines(path, bad):
        fields = [f.strip() for f in line.split("|")]
        if line.startswith(";") or len(fields) < 2:
            continue
        if fields[1].lower() in ("m", "f"):
            genders[fields[0]] = fields[1].lower()
    return genders


def prepare_librispeech(source: str | Path, data_dir: str | Path, options: PrepareOptions | None = None) -> DataDir:
    """Write a data directory for one LibriSpeech subset folder."""
    options = options or PrepareOptions()
    bad = BadInput(options.skip_bad)
    source = Path(source)
    utterances = collect_librispeech(source, bad)
    genders = read_speaker_genders(source, bad)
    spk2gender = None
    if genders is not None:
        spk2gender = {u.speaker: genders[u.speaker.split("-")[0]] for u in utterances
                      if u.speaker.split("-")[0] in genders}
    return write_prepared(data_dir, utterances, options, bad, spk2gender=spk2gender,
                          source=f"LibriSpeech {source.name}")
