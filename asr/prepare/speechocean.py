"""speechocean762: Kaldi-style lists (`wav.scp`, `text`, `utt2spk`, `spk2gender`) per half.

Two layouts: the public corpus (`ROOT/train/wav.scp` etc., audio paths relative to ROOT:
`WAVE/SPEAKER0001/000010011.WAV`; pick the half with `subset`), and a folder holding the lists with audio paths
relative to it (as in `../shared/data/speechocean762-train`: `audio/0001/000010011.flac`). The corpus's
utterance ids do not start with the speaker id, so they get it as a prefix: `0001-000010011`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from asr.datadir import DataDir
from asr.errors import AsrError
from asr.prepare.common import (BadInput, PrepareOptions, Utterance, read_kaldi_list, with_speaker_prefix,
                                write_prepared)

Subset = Literal["train", "test"]


def lists_folder(source: Path, subset: Subset | None) -> Path:
    """The folder holding wav.scp: `source` itself, or `source/<subset>` in the public corpus layout."""
    if subset is not None:
        if not (source / subset / "wav.scp").is_file():
            raise AsrError(f"{source / subset / 'wav.scp'}: not found; give the corpus root holding "
                           f"{subset}/wav.scp, or the folder with wav.scp and no --subset")
        return source / subset
    if (source / "wav.scp").is_file():
        return source
    halves = [h for h in ("train", "test") if (source / h / "wav.scp").is_file()]
    raise AsrError(f"{source}: no wav.scp here" + (f"; choose a half with --subset {'|'.join(halves)}"
                                                   if halves else "; give the speechocean762 folder"))


def collect_speechocean(source: Path, bad: BadInput, *, subset: Subset | None = None
                        ) -> tuple[list[Utterance], dict[str, str]]:
    """The utterances of one half, and spk2gender where the corpus lists it."""
    folder = lists_folder(source, subset)
    wav_scp = read_kaldi_list(folder / "wav.scp", bad)
    text = read_kaldi_list(folder / "text", bad, is_text=True)
    utt2spk = read_kaldi_list(folder / "utt2spk", bad)
    utterances = []
    for utt, (value, origin) in wav_scp.items():
        if utt not in text:
            bad(f"{origin}: utterance '{utt}' has no line in {folder / 'text'}; add its transcript")
            continue
        if utt not in utt2spk:
            bad(f"{origin}: utterance '{utt}' has no line in {folder / 'utt2spk'}; add its speaker")
            continue
        relative = Path(value)
        candidates = [relative] if relative.is_absolute() else [folder / relative, folder.parent / relative]
        audio = next((c for c in candidates if c.is_file()), candidates[0])
        speaker = utt2spk[utt][0]
        utterances.append(Utterance(with_speaker_prefix(speaker, utt), speaker, audio, text[utt][0], origin))
    spk2gender = {}
    if (folder / "spk2gender").is_file():
        spk2gender = {spk: value.lower() for spk, (value, _) in read_kaldi_list(folder / "spk2gender", bad).items()}
    return utterances, spk2gender


def prepare_speechocean(source: str | Path, data_dir: str | Path, options: PrepareOptions | None = None, *,
                        subset: Subset | None = None) -> DataDir:
    """Write a data directory for one half of speechocean762."""
    options = options or PrepareOptions()
    bad = BadInput(options.skip_bad)
    utterances, spk2gender = collect_speechocean(Path(source), bad, subset=subset)
    return write_prepared(data_dir, utterances, options, bad, spk2gender=spk2gender,
                          source=f"speechocean762 {subset or source}")
