"""Dataclass configs loaded from YAML or Kaldi-style conf files, with overrides.

Every stage keeps its tunables in one dataclass whose field defaults are the named defaults. Field names
are Kaldi option names with underscores (`--num-mel-bins` -> `num_mel_bins`). A config is built from, in
increasing precedence: the dataclass defaults, a file (`.yaml`/`.yml` mapping, or Kaldi `--name=value`
lines), and explicit overrides (CLI flags or keyword arguments; `asr.cli.options.dataclass_options` makes one
flag per field).

Two suffixes, two roles: `*Options` is the option group of one algorithm, as Kaldi's option structs are
(`FbankOptions` ~ FbankOptions, `DecodeOptions` for the CTC search, `PhoneOptions` for one unit type);
`*Config` is what one stage run reads from its YAML file and may combine several groups with run settings
(`TrainConfig` = `ModelConfig` + optimisation + augmentation; `InferenceConfig` = device, batching, jobs).
"""

from __future__ import annotations

import dataclasses
import math
import os
import typing
from pathlib import Path
from typing import Any, Mapping, TypeVar

import yaml

from asr.errors import AsrError

T = TypeVar("T")

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def coerce(value: Any, annotation: Any, name: str, origin: str) -> Any:
    """Convert `value` (often a string from a conf file or flag) to the field's annotated type."""
    args = typing.get_args(annotation)
    if type(None) in args:  # Optional[X]
        if value is None or (isinstance(value, str) and value.lower() in {"none", "null", ""}):
            return None
        annotation = next(a for a in args if a is not type(None))
        args = typing.get_args(annotation)
    base = typing.get_origin(annotation) or annotation
    try:
        if base is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(value)
        if base in (int, float, str):
            if base is int and isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            if base is int and isinstance(value, str):
                return int(float(value)) if float(value).is_integer() else int(value)
            converted = base(value)
            if base is float and math.isnan(converted):  # passes every range check, then poisons the run
                raise ValueError(value)
            return converted
        if base in (list, tuple):
            (item,) = typing.get_args(annotation)[:1] or (str,)
            if isinstance(value, str):  # "" is the empty list, so `--speed-perturb ""` clears a file's factors
                items = value.split(",") if value.strip() else []
            else:
                items = list(value)
            return base(coerce(v, item, name, origin) for v in items)
        if base is typing.Literal:
            if value not in args:
                raise ValueError(value)
            return value
    except (TypeError, ValueError):
        expected = f"one of {', '.join(map(str, args))}" if base is typing.Literal else \
            f"a valid {getattr(base, '__name__', base)}"
        raise AsrError(f"{origin}: option {name}={value!r} is not {expected}; fix the value") from None
    return value


def parse_kaldi_conf(path: str | os.PathLike) -> dict[str, str]:
    """Read a Kaldi conf file: one `--name=value` per line, `#` comments, blank lines ignored."""
    options: dict[str, str] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise AsrError(f"{path}: cannot read config ({e.__class__.__name__}: {e}); check the path") from None
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not line.startswith("--") or "=" not in line:
            raise AsrError(f"{path}:{number}: expected a line like --name=value, got {raw.strip()!r}")
        name, value = line[2:].split("=", 1)
        options[name.strip().replace("-", "_")] = value.strip()
    return options


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML mapping (`.yaml`/`.yml`) or a Kaldi conf file (anything else) into a flat dict."""
    if Path(path).suffix.lower() in {".yaml", ".yml"}:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            raise AsrError(f"{path}: cannot read config ({e}); check the path") from None
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            problem = " ".join(str(getattr(e, "problem", None) or e).split())  # one line, as every user error
            raise AsrError(f"{path}{line}: invalid YAML ({problem}); fix the syntax") from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise AsrError(f"{path}: expected a mapping of option: value at the top level")
        return {str(k).replace("-", "_"): v for k, v in data.items()}
    return parse_kaldi_conf(path)


def build_config(cls: type[T], path: str | os.PathLike | None = None,
                 overrides: Mapping[str, Any] | None = None, *, ignore_unknown: bool = False) -> T:
    """Build dataclass `cls` from its defaults, then file `path`, then `overrides` (None values are skipped)."""
    types = _field_types(cls)
    values: dict[str, Any] = {}
    sources: list[tuple[str, Mapping[str, Any]]] = []
    if path is not None:
        sources.append((os.fspath(path), read_config_file(path)))
    if overrides:
        sources.append(("options", {k: v for k, v in overrides.items() if v is not None}))
    for origin, mapping in sources:
        for name, value in mapping.items():
            key = name.replace("-", "_")
            if key not in types:
                if ignore_unknown:
                    continue
                raise AsrError(f"{origin}: unknown option {name!r} for {cls.__name__}; "
                               f"known: {', '.join(sorted(types))}")
            values[key] = coerce(value, types[key], key, origin)
    return cls(**values)


def config_to_dict(config: Any) -> dict[str, Any]:
    """A plain dict of a dataclass config, for YAML dumps into model and output directories."""
    return dataclasses.asdict(config)
