"""asr.cli.options.dataclass_options: one flag per config field, unset flags left to the config file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import click
from click.testing import CliRunner

from asr.cli.options import dataclass_options
from asr.config import build_config


@dataclass
class _Search:
    beam_size: int = 8
    mode: Literal["fast", "exact"] = "fast"
    lexicon: bool = True
    factors: tuple[float, ...] = (0.9, 1.0)


def _command(**style):
    @click.command()
    @dataclass_options(_Search, helps={"beam_size": "Prefixes kept."}, **style)
    def run(**given):
        config = build_config(_Search, None, {k: v for k, v in given.items() if v is not None})
        click.echo(repr(config))
    return run


def test_unset_flags_keep_the_dataclass_defaults_and_set_ones_are_converted() -> None:
    runner = CliRunner()
    assert runner.invoke(_command()).output.strip() == repr(_Search())
    out = runner.invoke(_command(), ["--beam-size", "4", "--no-lexicon", "--factors", "1.1,1.2"]).output.strip()
    assert out == repr(_Search(beam_size=4, lexicon=False, factors=(1.1, 1.2)))


def test_kaldi_style_booleans_take_a_value() -> None:
    result = CliRunner().invoke(_command(bool_flags=False), ["--lexicon", "false", "--mode", "exact"])
    assert result.output.strip() == repr(_Search(mode="exact", lexicon=False))


def test_help_names_the_default_the_choices_and_the_given_help() -> None:
    text = " ".join(CliRunner().invoke(_command(), ["--help"]).output.split())
    assert "--beam-size VALUE Prefixes kept. [default: 8]" in text
    assert "--mode VALUE _Search.mode. One of fast|exact. [default: fast]" in text
    assert "--lexicon / --no-lexicon" in text and "[default: true]" in text
    assert "[default: 0.9,1.0]" in text


def test_a_bad_value_is_refused_where_the_config_is_built() -> None:
    result = CliRunner().invoke(_command(), ["--mode", "slow"])
    assert result.exit_code != 0 and "slow" in str(result.exception)
