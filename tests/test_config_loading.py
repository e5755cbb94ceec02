"""Config loading: defaults < file (YAML or Kaldi conf) < overrides, with typed values and actionable errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal, Optional

import pytest

from asr.config import build_config, parse_kaldi_conf
from asr.errors import AsrError


@dataclasses.dataclass
class Options:
    num_ceps: int = 13
    frame_shift: float = 10.0
    snip_edges: bool = True
    window_type: Literal["povey", "hamming"] = "povey"
    device: Optional[Literal["cpu", "cuda"]] = None
    name: str = "x"
    factors: tuple[float, ...] = ()


def test_defaults_then_kaldi_conf_then_overrides(tmp_path: Path):
    conf = tmp_path / "mfcc.conf"
    conf.write_text("# Kaldi style\n--num-ceps=20\n\n--snip-edges=false  # trailing comment\n--window-type=hamming\n")
    options = build_config(Options, conf, {"num_ceps": "30", "frame_shift": None})
    assert options == Options(num_ceps=30, frame_shift=10.0, snip_edges=False, window_type="hamming")


def test_yaml_file_and_optional_literal(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("frame-shift: 5\ndevice: cuda\n")
    assert build_config(Options, path) == Options(frame_shift=5.0, device="cuda")
    assert build_config(Options, overrides={"device": "none"}).device is None


def test_an_empty_flag_clears_a_list_from_the_file(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("factors: [0.9, 1.0, 1.1]\n")
    assert build_config(Options, path).factors == (0.9, 1.0, 1.1)
    assert build_config(Options, path, {"factors": "0.9,1.1"}).factors == (0.9, 1.1)
    assert build_config(Options, path, {"factors": ""}).factors == ()


@pytest.mark.parametrize("text, message", [
    ("--num-ceps=13\nnum-ceps 13\n", "c.conf:2: expected a line like --name=value"),
    ("--num-ceps=thirteen\n", "num_ceps='thirteen' is not a valid int"),
    ("--snip-edges=maybe\n", "snip_edges='maybe' is not a valid bool"),
    ("--window-type=hann\n", "window_type='hann' is not one of povey, hamming"),
    ("--num-cepz=13\n", "unknown option 'num_cepz' for Options"),
])
def test_bad_conf_lines_name_the_file_and_the_fix(tmp_path: Path, text: str, message: str):
    path = tmp_path / "c.conf"
    path.write_text(text)
    with pytest.raises(AsrError, match=message.replace("(", r"\(")) as error:
        build_config(Options, path)
    assert str(path) in str(error.value)


def test_bad_yaml_names_the_line(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("num_ceps: 13\nwindow_type: [povey\n")
    with pytest.raises(AsrError, match=r"c\.yaml:\d+: invalid YAML"):
        build_config(Options, path)


def test_parse_kaldi_conf_keeps_values_verbatim(tmp_path: Path):
    path = tmp_path / "f.conf"
    path.write_text("--sample-frequency=8000\n--high-freq=-400\n")
    assert parse_kaldi_conf(path) == {"sample_frequency": "8000", "high_freq": "-400"}


@pytest.mark.parametrize("value", ["nan", "NaN", float("nan")])
def test_nan_is_refused_for_every_float_option(tmp_path: Path, value):
    """From a flag, a conf file or YAML: nan passes every range check later, so parsing refuses it."""
    from asr.decoding import DecodeOptions

    with pytest.raises(AsrError, match="lm_weight=.*not a valid float"):
        build_config(DecodeOptions, overrides={"lm_weight": value})
    (tmp_path / "c.conf").write_text(f"--frame-shift={value}\n")
    with pytest.raises(AsrError, match="frame_shift"):
        build_config(Options, tmp_path / "c.conf")
