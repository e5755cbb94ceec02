"""Hostile data directories through the real CLI: `asr data validate` names every problem at file:line and exits 1;
`asr data fix` repairs what can be repaired (keeping the originals) and validate then passes; what fix cannot
repair stays reported. Library-level checks of each scan kind live in tests/test_datadir.py."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from reliability_cli import run_main, write_tone

SPEAKERS = {"spka": ["spka-u1", "spka-u2", "spka-u3"], "spkb": ["spkb-u1", "spkb-u2"]}
TEXT = {"spka-u1": "HELLO WORLD", "spka-u2": "ONE TWO", "spka-u3": "THREE", "spkb-u1": "FOUR FIVE",
        "spkb-u2": "SIX"}


def make_dir(root: Path) -> Path:
    """A valid data dir (wav.scp with real files, text, utt2spk, spk2utt, utt2dur), C-sorted, LF, UTF-8."""
    data = root / "data"
    utts = sorted(TEXT)
    wavs = {u: write_tone(root / "wav" / f"{u}.wav", seed=i) for i, u in enumerate(utts)}
    files = {
        "wav.scp": [f"{u} {wavs[u]}" for u in utts],
        "text": [f"{u} {TEXT[u]}" for u in utts],
        "utt2spk": [f"{u} {u.split('-')[0]}" for u in utts],
        "spk2utt": [f"{s} {' '.join(us)}" for s, us in sorted(SPEAKERS.items())],
        "utt2dur": [f"{u} 0.5" for u in utts],
    }
    data.mkdir()
    for name, lines in files.items():
        (data / name).write_text("".join(line + "\n" for line in lines))
    return data


def edit_lines(path: Path, edit: Callable[[list[bytes]], list[bytes]], end: bytes = b"\n") -> None:
    lines = path.read_bytes().split(b"\n")[:-1]
    path.write_bytes(b"".join(line + end for line in edit(lines)))


def replace_line(index: int, new: bytes) -> Callable[[list[bytes]], list[bytes]]:
    return lambda lines: lines[:index] + [new] + lines[index + 1:]


def insert_line(index: int, new: bytes) -> Callable[[list[bytes]], list[bytes]]:
    return lambda lines: lines[:index] + [new] + lines[index:]


# case id -> (mutation of the valid dir, file:line (or file) validate must name, words of the message,
#             utterances kept after fix, or None when fix cannot repair it and validate keeps reporting it)
CASES: dict[str, tuple[Callable[[Path], None], str, str, int | None]] = {
    "non-utf8-text": (lambda d: edit_lines(d / "text", replace_line(1, b"spka-u2 CAF\xc9")),
                      "text:2", "not valid UTF-8", 4),
    "non-utf8-utt2spk-id": (lambda d: edit_lines(d / "utt2spk", replace_line(4, b"spkb-u\xff2 spkb")),
                            "utt2spk:5", "not valid UTF-8", 4),
    "bom-utt2spk": (lambda d: (d / "utt2spk").write_bytes(b"\xef\xbb\xbf" + (d / "utt2spk").read_bytes()),
                    "utt2spk:1", "byte-order mark", 5),
    "crlf-wav.scp": (lambda d: edit_lines(d / "wav.scp", lambda lines: lines, end=b"\r\n"),
                     "wav.scp:1", "CRLF", 5),
    "crlf-text-last-line-only": (lambda d: edit_lines(d / "text", replace_line(4, b"spkb-u2 SIX\r")),
                                 "text:5", "CRLF", 5),
    "tab-in-text": (lambda d: edit_lines(d / "text", replace_line(0, b"spka-u1 HELLO\tWORLD")),
                    "text:1", "tab", 5),
    "tab-after-id": (lambda d: edit_lines(d / "text", replace_line(2, b"spka-u3\tTHREE")), "text:3", "tab", 5),
    "trailing-space-text": (lambda d: edit_lines(d / "text", replace_line(3, b"spkb-u1 FOUR FIVE  ")),
                            "text:4", "trailing whitespace", 5),
    "empty-line-utt2spk": (lambda d: edit_lines(d / "utt2spk", insert_line(2, b"")), "utt2spk:3", "empty line", 5),
    "whitespace-only-line-text": (lambda d: edit_lines(d / "text", insert_line(5, b"   ")), "text:6", "empty line",
                                  5),
    "duplicate-id-text": (lambda d: edit_lines(d / "text", insert_line(1, b"spka-u1 HELLO AGAIN")),
                          "text:2", "duplicate id 'spka-u1'", 5),
    "duplicate-id-utt2spk": (lambda d: edit_lines(d / "utt2spk", insert_line(5, b"spkb-u2 spkb")),
                             "utt2spk:6", "duplicate id 'spkb-u2'", 5),
    "unsorted-wav.scp": (lambda d: edit_lines(d / "wav.scp", lambda lines: lines[::-1]), "wav.scp:2", "not sorted",
                         5),
    "unsorted-utt2dur": (lambda d: edit_lines(d / "utt2dur", lambda lines: lines[1:] + lines[:1]), "utt2dur:5",
                         "not sorted", 5),
    "text-has-extra-utt": (lambda d: edit_lines(d / "text", insert_line(5, b"spkb-u9 GHOST")), "text:6",
                           "'spkb-u9' is not in utt2spk", 5),
    "text-misses-utt": (lambda d: edit_lines(d / "text", lambda lines: lines[1:]), "utt2spk:1",
                        "'spka-u1' has no entry in text", 4),
    "wav.scp-misses-utt": (lambda d: edit_lines(d / "wav.scp", lambda lines: lines[:-1]), "utt2spk:5",
                           "'spkb-u2' has no entry in wav.scp", 4),
    "spk2utt-disagrees": (lambda d: edit_lines(d / "spk2utt", replace_line(0, b"spka spka-u1 spka-u2")),
                          "spk2utt:1", "differ from utt2spk", 5),
    "spk2utt-missing": (lambda d: (d / "spk2utt").unlink(), "spk2utt", "missing", 5),
    "utt2dur-not-a-number": (lambda d: edit_lines(d / "utt2dur", replace_line(2, b"spka-u3 half")), "utt2dur:3",
                             "half", 4),
    "empty-transcript": (lambda d: edit_lines(d / "text", replace_line(3, b"spkb-u1")), "text:4",
                         "empty transcript", 4),
    "two-speakers-for-one-utt": (lambda d: edit_lines(d / "utt2spk", replace_line(0, b"spka-u1 spka spkb")),
                                 "utt2spk:1", "exactly one speaker", 4),
    "segments-name-unknown-recording": (
        lambda d: (d / "segments").write_text("".join(f"{u} {'nowhere' if u == 'spkb-u1' else u} 0.0 0.4\n"
                                                      for u in sorted(TEXT))),
        "segments:4", "recording 'nowhere' is not in wav.scp", 4),
    "spk2gender-bad-value": (lambda d: (d / "spk2gender").write_text("spka f\nspkb x\n"), "spk2gender:2",
                             "'m' or 'f'", 3),
    # not repairable by fix: a rename (asr data copy --utt-prefix) or the audio itself is needed
    "speaker-not-prefix": (lambda d: (edit_lines(d / "utt2spk", replace_line(0, b"spka-u1 bob")),
                                      edit_lines(d / "spk2utt", lambda lines: [b"bob spka-u1",
                                                                               b"spka spka-u2 spka-u3",
                                                                               lines[1]])),
                           "utt2spk:1", "not a prefix", None),
    "missing-audio-file": (lambda d: (d.parent / "wav" / "spka-u2.wav").unlink(), "wav.scp:2", "not found",
                           None),
}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return make_dir(tmp_path)


def validate(data: Path, capsys) -> tuple[int, list[str]]:
    code = run_main(["data", "validate", data])
    return code, capsys.readouterr().out.splitlines()


def test_the_base_directory_is_valid(data_dir: Path, capsys) -> None:
    assert validate(data_dir, capsys) == (0, [f"{data_dir}: valid, 5 utterances, 2 speakers"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_names_the_problem_and_fix_repairs_it(data_dir: Path, capsys, case: str) -> None:
    mutate, location, words, kept = CASES[case]
    mutate(data_dir)
    before = {p.name: p.read_bytes() for p in data_dir.iterdir() if p.is_file()}
    code, lines = validate(data_dir, capsys)
    assert code == 1
    file, _, line = location.partition(":")
    expected = f"{data_dir / file}:{line}: " if line else f"{data_dir / file}: "
    assert any(out.startswith(expected) and words in out for out in lines), (expected, words, lines)
    assert all(out.startswith(str(data_dir)) for out in lines)  # every problem is located in the dir

    assert run_main(["data", "fix", data_dir]) == 0
    report = capsys.readouterr().out
    backup = {p.name: p.read_bytes() for p in (data_dir / ".backup").iterdir()}
    assert backup == before  # originals kept byte for byte
    if kept is None:
        code, after = validate(data_dir, capsys)
        assert code == 1 and any(words in out for out in after), after
        return
    assert f"kept {kept} of" in report, report
    assert validate(data_dir, capsys) == (0, [f"{data_dir}: valid, {kept} utterances, "
                                              f"{len({u.split('-')[0] for u in data_dir.joinpath('utt2spk').read_text().split()[::2]})} speakers"])
    assert run_main(["data", "fix", data_dir]) == 0  # idempotent: a second fix keeps everything
    assert f"kept {kept} of {kept} utterances" in capsys.readouterr().out


def test_problems_in_every_file_at_once_are_named_and_fixed(data_dir: Path, capsys) -> None:
    """One problem in each file together (cases that touch different files or lines): validate reports each,
    fix leaves a valid dir."""
    together = ["bom-utt2spk", "crlf-wav.scp", "tab-in-text", "trailing-space-text", "unsorted-utt2dur",
                "spk2utt-disagrees"]
    for case in together:
        CASES[case][0](data_dir)
    code, lines = validate(data_dir, capsys)
    assert code == 1
    missing = [c for c in together if not any(CASES[c][2] in out for out in lines)]
    assert not missing, (missing, lines)
    assert run_main(["data", "fix", data_dir]) == 0
    assert "kept 5 of 5 utterances" in capsys.readouterr().out
    assert validate(data_dir, capsys)[0] == 0


@pytest.mark.parametrize("case", ["text-is-a-directory", "utt2spk-random-bytes", "wav.scp-nul-bytes",
                                  "all-files-empty", "not-a-directory"])
def test_garbage_files_are_reported_not_crashed_on(tmp_path: Path, data_dir: Path, capsys, case: str) -> None:
    if case == "text-is-a-directory":
        (data_dir / "text").unlink()
        (data_dir / "text").mkdir()
    elif case == "utt2spk-random-bytes":
        (data_dir / "utt2spk").write_bytes(bytes(range(256)) * 4)
    elif case == "wav.scp-nul-bytes":
        (data_dir / "wav.scp").write_bytes(b"\0" * 100 + b"\n")
    elif case == "all-files-empty":
        for p in data_dir.iterdir():
            p.write_bytes(b"")
    else:
        data_dir = tmp_path / "plain-file"
        data_dir.write_text("x\n")
    code = run_main(["data", "validate", data_dir])  # any exception other than AsrError fails here
    captured = capsys.readouterr()
    # 1: problems listed (or one error line); 2: click's usage error for a path that is not a directory
    assert code == (2 if case == "not-a-directory" else 1), captured
    assert str(data_dir) in captured.out + captured.err and "Traceback" not in captured.err, captured
    code = run_main(["data", "fix", data_dir])
    captured = capsys.readouterr()
    if code != 0:  # refused: one error line, the files as they were
        assert code in (1, 2) and "Traceback" not in captured.err, captured
        assert len([line for line in captured.err.splitlines() if "rror" in line]) == 1, captured.err
    else:
        assert validate(data_dir, capsys)[0] == 0
