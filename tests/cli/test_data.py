"""`asr data ...`: what a user sees (verdict lines, exit codes) and the directories each command writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from asr_cli import run_main as run
from asr.datadir import read_data_dir, validate_data_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_datadir import SPEAKERS, make_data_dir  # noqa: E402


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return make_data_dir(tmp_path)


def test_validate_valid(data_dir: Path, capsys) -> None:
    assert run(["data", "validate", str(data_dir)]) == 0
    assert capsys.readouterr().out.strip() == f"{data_dir}: valid, 9 utterances, 3 speakers"


def test_validate_invalid_one_line_per_problem(data_dir: Path, capsys) -> None:
    lines = (data_dir / "text").read_text().splitlines()
    (data_dir / "text").write_bytes(("\r\n".join([lines[1], lines[0]] + lines[2:]) + "\r\n").encode())
    assert run(["data", "validate", str(data_dir)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(lines) + 1  # one CRLF per line, one unsorted
    assert all(line.startswith(f"{data_dir / 'text'}:") for line in out)
    assert sum("not sorted" in line for line in out) == 1


def test_fix_then_valid(data_dir: Path, capsys) -> None:
    (data_dir / "spk2utt").unlink()
    text = (data_dir / "text").read_text().splitlines()
    (data_dir / "text").write_text("\n".join(text[1:]) + "\n")
    assert run(["data", "fix", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "kept 8 of 9 utterances" in out and "not in text" in out and ".backup" in out
    assert validate_data_dir(data_dir) == []


def test_split(data_dir: Path, capsys) -> None:
    assert run(["data", "split", str(data_dir), "3", "--per-spk"]) == 0
    parts = [read_data_dir(data_dir / "split3" / str(i)) for i in (1, 2, 3)]
    assert sorted(len(p.speakers) for p in parts) == [1, 1, 1]
    assert run(["data", "split", str(data_dir), "4", "--per-spk"]) == 1
    assert "cannot split 3 speaker(s) into 4 parts" in capsys.readouterr().err


def test_subset_modes(tmp_path: Path, data_dir: Path, capsys) -> None:
    assert run(["data", "subset", str(data_dir), str(tmp_path / "f"), "--first", "2"]) == 0
    assert len(read_data_dir(tmp_path / "f").utterances) == 2
    assert run(["data", "subset", str(data_dir), str(tmp_path / "r"), "--random", "5", "--seed", "3"]) == 0
    assert len(read_data_dir(tmp_path / "r").utterances) == 5
    (tmp_path / "spk").write_text("spkB\n")
    assert run(["data", "subset", str(data_dir), str(tmp_path / "s"), "--spk-list", str(tmp_path / "spk")]) == 0
    assert read_data_dir(tmp_path / "s").speakers == ["spkB"]
    (tmp_path / "utts").write_text("spkA-u1\nspkC-u0\n")
    assert run(["data", "subset", str(data_dir), str(tmp_path / "u"), "--utt-list", str(tmp_path / "utts")]) == 0
    assert read_data_dir(tmp_path / "u").utterances == ["spkA-u1", "spkC-u0"]
    assert run(["data", "subset", str(data_dir), str(tmp_path / "x")]) == 1
    assert "exactly one" in capsys.readouterr().err


def test_copy_combine(tmp_path: Path, data_dir: Path, capsys) -> None:
    assert run(["data", "copy", str(data_dir), str(tmp_path / "c"), "--utt-prefix", "b-", "--spk-prefix", "b-"]) == 0
    assert run(["data", "combine", str(tmp_path / "all"), str(data_dir), str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'all'}: {2 * sum(SPEAKERS.values())} utterances, 6 speakers" in out
    assert run(["data", "validate", str(tmp_path / "all")]) == 0


def test_utt2dur(data_dir: Path) -> None:
    assert run(["data", "utt2dur", str(data_dir)]) == 0
    durations = {line.split()[0]: float(line.split()[1]) for line in (data_dir / "utt2dur").read_text().splitlines()}
    assert durations["spkA-u0"] == pytest.approx(800 / 8000) and durations["spkC-u3"] == pytest.approx(1280 / 8000)


def test_utt2dur_pipe_refused_without_flag(tmp_path: Path, data_dir: Path, capsys) -> None:
    marker = tmp_path / "ran"
    wav = (data_dir / "wav.scp").read_text().splitlines()
    key, path = wav[0].split()
    wav[0] = f"{key} touch {marker}; cat {path} |"
    (data_dir / "wav.scp").write_text("\n".join(wav) + "\n")
    assert run(["data", "utt2dur", str(data_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("asr: error: ") and "--allow-pipes" in err and len(err.strip().splitlines()) == 1
    assert not marker.exists()
    assert run(["data", "utt2dur", str(data_dir), "--allow-pipes"]) == 0 and marker.exists()


def test_console_script_exit_code(data_dir: Path) -> None:
    (data_dir / "utt2spk").write_bytes(b"\xffbad spk\n")
    result = subprocess.run([sys.executable, "-m", "asr", "data", "validate", str(data_dir)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert f"{data_dir / 'utt2spk'}:1: not valid UTF-8" in result.stdout
