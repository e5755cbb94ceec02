"""The `asr` command line: a click group whose subcommands live in one thin module each.

Subcommands are imported only when run, so `asr features` never imports torch. A user error (`AsrError`)
becomes one line on stderr and exit code 1.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from asr import __version__
from asr.errors import AsrError

# command name -> ("module:attribute" of its click command or group, one-line help shown by `asr --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "prepare": ("asr.cli.prepare:prepare", "Import a corpus into a Kaldi data directory."),
    "data": ("asr.cli.data:data", "Validate, fix, split, subset, combine and copy data directories."),
    "features": ("asr.cli.features:features", "Compute MFCC, fbank or spectrogram features; CMVN, deltas."),
    "units": ("asr.cli.units:units", "Train character, phone or subword units into a lang directory."),
    "lm": ("asr.cli.lm:lm", "Train N-gram language models (ARPA) and measure perplexity."),
    "train": ("asr.cli.train:train", "Train a CTC acoustic model into a model directory."),
    "average": ("asr.cli.train:average", "Average the last or best checkpoints of a model."),
    "decode": ("asr.cli.decode:decode", "Decode a data directory with a model (and an LM), and score it."),
    "score": ("asr.cli.score:score", "Score hypotheses against references: WER/CER and alignments."),
    "transcribe": ("asr.cli.transcribe:transcribe", "Transcribe audio files with a model directory."),
    "export": ("asr.cli.export:export", "Export a model directory as ONNX (int8 too) or TorchScript."),
    "plot": ("asr.cli.plot:plot", "Plot features of an utterance or a model's training curves."),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name][0].split(":")
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List subcommands from their static help, so `asr --help` imports none of them (nor torch)."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="asr")
@click.option("-v", "--verbose", count=True, help="More log output (-v info is the default, -vv debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
def cli(verbose: int, quiet: bool) -> None:
    """asr: speech recognition from raw audio to words, in Kaldi-style stages.

    prepare -> features -> units -> lm -> train -> decode -> transcribe
    """
    level = logging.WARNING if quiet else (logging.DEBUG if verbose >= 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S",
                        force=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `asr` console script and `python -m asr`."""
    try:
        cli.main(args=argv, prog_name="asr", standalone_mode=False)
    except AsrError as e:
        click.echo(f"asr: error: {e}", err=True)
        sys.exit(1)
    except ModuleNotFoundError as e:
        if e.name != "torch":
            raise
        click.echo("asr: error: this needs torch, which is not installed: pip install 'asr[train]' (an exported "
                   "ONNX model, asr export, transcribes and decodes without it)", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("asr: aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
