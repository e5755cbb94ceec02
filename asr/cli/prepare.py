"""`asr prepare FORMAT SOURCE DATA_DIR`: import a corpus into a Kaldi data directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click


def _common_options(command: Callable) -> Callable:
    """Options every importer takes: transcript normalization and the bad-input policy."""
    options = [
        click.argument("source", type=click.Path(exists=True, path_type=Path)),
        click.argument("data_dir", type=click.Path(file_okay=False, path_type=Path)),
        click.option("--case", type=click.Choice(["keep", "upper", "lower"]), default=None,
                     help="Change the case of transcripts [keep]."),
        click.option("--remove-punctuation", is_flag=True, default=None,
                     help="Drop punctuation from transcripts (apostrophes inside words stay)."),
        click.option("--numbers-to-words", is_flag=True, default=None, help='Spell numbers: "16" -> SIXTEEN.'),
        click.option("--skip-bad", is_flag=True, default=None,
                     help="Leave out utterances with bad input (undecodable or empty transcript, CRLF line, "
                          "missing or unreadable audio) and list them in DATA_DIR/log/skipped.txt, instead "
                          "of stopping at the first."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _run(importer: str, source: Path, data_dir: Path, **kwargs: Any) -> None:
    """Split off the shared options into PrepareOptions and call `asr.prepare.<importer>`."""
    import asr.prepare
    from asr.config import build_config

    shared = {name: kwargs.pop(name) for name in ("case", "remove_punctuation", "numbers_to_words", "skip_bad")}
    options = build_config(asr.prepare.PrepareOptions, overrides=shared)
    getattr(asr.prepare, importer)(source, data_dir, options, **kwargs)


@click.group()
def prepare() -> None:
    """Import a corpus into a Kaldi data directory (wav.scp, text, utt2spk, spk2utt, utt2dur).

    Utterance ids start with the speaker id, wav.scp holds absolute paths, durations come from the audio
    headers, and every file is sorted in C locale and written atomically.
    """


@prepare.command("folder")
@_common_options
@click.option("--speaker-pattern", default=None,
              help="Regular expression whose first group, searched in the file name, is the speaker "
                   "(default: the folder the file is in).")
def folder(**kwargs: Any) -> None:
    """Audio files under SOURCE with a transcript beside each (same name, .txt or .lab)."""
    _run("prepare_folder", **kwargs)


@prepare.command("manifest")
@_common_options
def manifest(**kwargs: Any) -> None:
    """A CSV/TSV manifest SOURCE with a header naming columns path, text and optionally speaker, id."""
    _run("prepare_manifest", **kwargs)


@prepare.command("fsdd")
@_common_options
@click.option("--subset", type=click.Choice(["train", "test", "all"]), default="all", show_default=True)
@click.option("--split", type=click.Choice(["index", "speaker"]), default="index", show_default=True,
              help="index: the dataset's own split (indices 0-4 test, 5-49 train); speaker: hold out "
                   "--test-speakers.")
@click.option("--test-speakers", default="", help="Comma-separated speakers held out with --split speaker.")
def fsdd(test_speakers: str, **kwargs: Any) -> None:
    """Free Spoken Digit Dataset: SOURCE holds {digit}_{speaker}_{index}.wav (or a recordings/ folder)."""
    _run("prepare_fsdd", test_speakers=[s for s in test_speakers.split(",") if s], **kwargs)


@prepare.command("speechocean762")
@_common_options
@click.option("--subset", type=click.Choice(["train", "test"]), default=None,
              help="The half to import when SOURCE is the corpus root (holding train/ and test/).")
def speechocean762(**kwargs: Any) -> None:
    """speechocean762: SOURCE is the folder with wav.scp/text/utt2spk, or the corpus root with --subset."""
    _run("prepare_speechocean", **kwargs)


@prepare.command("librispeech")
@_common_options
def librispeech(**kwargs: Any) -> None:
    """LibriSpeech: SOURCE is a subset folder (e.g. LibriSpeech/dev-clean) of <reader>/<chapter>/ folders."""
    _run("prepare_librispeech", **kwargs)


@prepare.command("an4")
@_common_options
@click.option("--subset", type=click.Choice(["train", "test"]), default="train", show_default=True)
def an4(**kwargs: Any) -> None:
    """CMU AN4 (NIST SPHERE): SOURCE is the an4 folder holding etc/ and wav/."""
    _run("prepare_an4", **kwargs)
