"""`asr prepare FORMAT SOURCE DATA_DIR` as a user runs it."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from asr.cli import main
from asr.datadir import read_data_dir, validate_data_dir


def run(argv: list[str], capsys) -> tuple[int, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as e:
        code = e.code or 0
    return code, capsys.readouterr().err


def test_fsdd_held_out_speaker(fsdd_dir, tmp_path, capsys):
    out = tmp_path / "test"
    code, err = run(["prepare", "fsdd", str(fsdd_dir), str(out), "--subset", "test", "--split", "speaker",
                   "--test-speakers", "theo,lucas"], capsys)
    assert code == 0 and validate_data_dir(out) == []
    assert set(read_data_dir(out).utt2spk.values()) == {"lucas", "theo"}
    log = [line for line in err.splitlines() if "prepared FSDD test" in line]  # says what was written where
    assert len(log) == 1 and "1000 utterances, 2 speakers" in log[0] and f"-> {out} (wav.scp text" in log[0]


def _folder(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name, text in (("a", b"I have 2 cats\n"), ("b", b"bad line\r\n")):
        sf.write(source / f"{name}.wav", np.zeros(800, dtype=np.int16), 8000)
        (source / f"{name}.txt").write_bytes(text)
    return source


def test_folder_bad_input_is_one_line_error(tmp_path, capsys):
    code, err = run(["prepare", "folder", str(_folder(tmp_path)), str(tmp_path / "data")], capsys)
    assert code == 1
    assert err.startswith("asr: error: ") and f"{tmp_path / 'src' / 'b.txt'}:1: CRLF line end" in err
    assert not (tmp_path / "data").exists()


def test_folder_skip_bad_and_normalize(tmp_path, capsys):
    code, _ = run(["prepare", "folder", str(_folder(tmp_path)), str(tmp_path / "data"), "--skip-bad",
                   "--numbers-to-words", "--case", "upper"], capsys)
    assert code == 0
    assert (tmp_path / "data" / "text").read_text() == "a I HAVE TWO CATS\n"
    assert "b.txt:1: CRLF line end" in (tmp_path / "data" / "log" / "skipped.txt").read_text()


def test_unknown_choice_is_a_usage_error(tmp_path, capsys):
    code, err = run(["prepare", "an4", str(tmp_path), str(tmp_path / "d"), "--subset", "dev"], capsys)
    assert code == 2 and "'dev' is not one of 'train', 'test'" in err
