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

# command name -> "module:attribute" of its click command or group
COMMANDS: dict[str, str] = {
    "prepare": "asr.cli.prepare:prepare",
    "data": "asr.cli.data:data",
    "features": "asr.cli.features:features",
    "units": "asr.cli.units:units",
    "lm": "asr.cli.lm:lm",
    "train": "asr.cli.train:train",
    "average": "asr.cli.train:average",
    "decode": "asr.cli.decode:decode",
    "score": "asr.cli.score:score",
    "transcribe": "asr.cli.transcribe:transcribe",
    "plot": "asr.cli.plot:plot",
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attribute)


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
    except click.exceptions.Abort:
        click.echo("asr: aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
