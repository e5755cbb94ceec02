"""Command-line flags generated from a config dataclass: one `--field-name` per field, so every tunable has one
name and one default, the dataclass's (asr/config.py)."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Callable, Collection, Mapping

import click


def _default(field: dataclasses.Field) -> Any:
    return field.default_factory() if field.default is dataclasses.MISSING else field.default


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    return str(value)


def dataclass_options(cls: type, *, only: Collection[str] | None = None, skip: Collection[str] = (),
                      helps: Mapping[str, str] | None = None,
                      bool_flags: bool = True) -> Callable[[Callable], Callable]:
    """A decorator adding one option per field of dataclass `cls` (`only` those, none of `skip`), in field order.

    An option not given stays None, so that a conf file and then the dataclass default apply; the value is
    converted and checked where the config is built (`asr.config.build_config`), so a flag and a conf-file line
    take the same spellings. Booleans are `--x/--no-x` flags, or with `bool_flags=False` take a value as Kaldi's
    do (`--snip-edges false`). Help: `helps[name]` (else `Cls.name`), a Literal field's choices, the default."""
    hints = typing.get_type_hints(cls)
    helps = helps or {}
    fields = [f for f in dataclasses.fields(cls) if f.name not in skip and (only is None or f.name in only)]

    def decorate(command: Callable) -> Callable:
        for field in reversed(fields):
            hint, default, name = hints[field.name], _default(field), field.name
            flag = "--" + name.replace("_", "-")
            literal = typing.get_args(hint) if typing.get_origin(hint) is typing.Literal else ()
            text = helps.get(name, f"{cls.__name__}.{name}.") + (f" One of {'|'.join(literal)}." if literal else "")
            text += f" [default: {_shown(default)}]"
            if isinstance(default, bool) and bool_flags:
                option = click.option(f"{flag}/--no-{flag[2:]}", name, default=None, help=text)
            else:
                option = click.option(flag, name, default=None, metavar="BOOL" if hint is bool else "VALUE",
                                      help=text)
            command = option(command)
        return command

    return decorate
