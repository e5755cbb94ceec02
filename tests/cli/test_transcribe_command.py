"""`asr transcribe`: what it prints in each --format, --output-dir, and one-line errors with exit 1.

(Named test_transcribe_command.py: tests/test_transcribe.py holds the library tests.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from asr_cli import run_main as run
from tone_model import build_tone_model_dir, spell, synthesize, write_wav

TEXTS = {"one": "ab ba", "two": "cd"}
SRT_CUE = re.compile(r"(\d+)\n(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)\n(.+)\n")


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("transcribe_cli")
    model_dir = build_tone_model_dir(root / "exp")
    files = {k: write_wav(root / f"{k}.wav", synthesize(model_dir, spell(model_dir, t), seed=i))
             for i, (k, t) in enumerate(TEXTS.items())}
    return model_dir, files


def transcribe(setup, *args: str) -> list[str]:
    model_dir, _ = setup
    return ["-q", "transcribe", "--model", str(model_dir), "--device", "cpu", "--no-progress", *args]


def test_text_is_plain_for_one_file_and_tab_separated_for_several(setup, capsys):
    _, files = setup
    assert run(transcribe(setup, str(files["one"]))) == 0
    assert capsys.readouterr().out == "ab ba\n"
    assert run(transcribe(setup, "--beam-size", "1", str(files["one"]), str(files["two"]))) == 0
    assert capsys.readouterr().out == f"{files['one']}\tab ba\n{files['two']}\tcd\n"


def test_json_srt_and_ctm_carry_word_times(setup, capsys):
    _, files = setup
    assert run(transcribe(setup, "--format", "json", str(files["one"]), str(files["two"]))) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["file"], r["text"]) for r in records] == [(str(files[k]), t) for k, t in TEXTS.items()]
    words = records[0]["words"]
    assert [w["word"] for w in words] == ["ab", "ba"]
    assert 0 < words[0]["start"] < words[0]["end"] < words[1]["start"] < words[1]["end"] <= records[0]["duration"]
    assert all(0.9 < w["confidence"] <= 1.0 for w in words)  # clean tones: confidently heard

    assert run(transcribe(setup, "--format", "srt", str(files["one"]))) == 0
    cues = SRT_CUE.findall(capsys.readouterr().out)
    assert [c[-1] for c in cues] == ["ab ba"]  # the gap between the words is shorter than a cue break
    h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, cues[0][1:9])
    assert (h1, m1, s1 + ms1 / 1000) == (0, 0, pytest.approx(words[0]["start"], abs=1e-3))
    assert (h2, m2, s2 + ms2 / 1000) == (0, 0, pytest.approx(words[1]["end"], abs=1e-3))

    assert run(transcribe(setup, "--format", "ctm", str(files["one"]), str(files["two"]))) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [(r[0], r[1], r[4]) for r in rows] == [("one", "1", "ab"), ("one", "1", "ba"), ("two", "1", "cd")]
    assert float(rows[0][2]) == pytest.approx(words[0]["start"], abs=0.01)
    assert float(rows[0][3]) == pytest.approx(words[0]["end"] - words[0]["start"], abs=0.011)
    assert float(rows[0][5]) == pytest.approx(words[0]["confidence"], abs=0.005)  # ctm column 6


def test_output_dir_gets_one_file_per_input(setup, tmp_path, capsys):
    _, files = setup
    out = tmp_path / "subs"
    assert run(transcribe(setup, "--format", "srt", "--output-dir", str(out), *map(str, files.values()))) == 0
    assert sorted(p.name for p in out.iterdir()) == ["one.srt", "two.srt"]
    assert SRT_CUE.findall((out / "two.srt").read_text())[0][-1] == "cd"
    assert capsys.readouterr().out == ""


def test_bad_files_are_one_line_errors(setup, tmp_path, capsys):
    _, files = setup
    empty = write_wav(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32))
    garbage = tmp_path / "noise.wav"
    garbage.write_bytes(b"RIFF....WAVEfmt " + bytes(64))
    for path, message in ((empty, "contains no samples"), (garbage, "cannot read as audio"),
                          (tmp_path / "gone.wav", "audio file not found")):
        assert run(transcribe(setup, str(files["one"]), str(path))) == 1
        captured = capsys.readouterr()
        assert captured.out == f"{files['one']}\tab ba\n"  # files before the bad one are still transcribed
        err = captured.err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"asr: error: {path}: {message}")
