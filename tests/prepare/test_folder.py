from __future__ import annotations

import pytest

from asr.errors import AsrError
from asr.prepare import PrepareOptions, prepare_folder
from layout_helpers import check_data_dir, write_audio


@pytest.fixture
def corpus(tmp_path):
    """spk1/a.wav + a.txt, spk2/sub/b.flac + b.lab (two lines), solo.wav + solo.txt at the top."""
    root = tmp_path / "corpus"
    write_audio(root / "spk1" / "a.wav", 0.5)
    (root / "spk1" / "a.txt").write_text("hello  world\n", encoding="utf-8")
    write_audio(root / "spk2" / "sub" / "b.flac", 0.25, rate=8000)
    (root / "spk2" / "sub" / "b.lab").write_text("café\nau lait", encoding="utf-8")
    write_audio(root / "solo.wav", 0.1)
    (root / "solo.txt").write_text("I am 16\n", encoding="utf-8")
    return root


def test_layout_to_data_dir(corpus, tmp_path):
    data = prepare_folder(corpus, tmp_path / "data")
    check_data_dir(tmp_path / "data")
    assert data.utt2spk == {"spk1-a": "spk1", "spk2-sub-b": "spk2-sub", "solo": "solo"}
    assert data.text == {"spk1-a": "hello world", "spk2-sub-b": "café au lait", "solo": "I am 16"}
    assert (tmp_path / "data" / "spk2utt").read_text() == "solo solo\nspk1 spk1-a\nspk2-sub spk2-sub-b\n"


def test_normalization_and_its_report(corpus, tmp_path):
    options = PrepareOptions(case="upper", numbers_to_words=True)
    data = prepare_folder(corpus, tmp_path / "data", options)
    assert data.text["solo"] == "I AM SIXTEEN"
    report = (tmp_path / "data" / "log" / "normalized.tsv").read_text(encoding="utf-8").splitlines()
    assert "solo\tI am 16\tI AM SIXTEEN" in report and len(report) == 3
    prepare_folder(corpus, tmp_path / "data")  # a rerun without normalization leaves no stale report
    assert not (tmp_path / "data" / "log" / "normalized.tsv").exists()


def test_speaker_pattern(tmp_path):
    for name in ("anna_001", "anna_002", "bob_001"):
        write_audio(tmp_path / "c" / f"{name}.wav", 0.1)
        (tmp_path / "c" / f"{name}.txt").write_text("yes\n")
    data = prepare_folder(tmp_path / "c", tmp_path / "data", speaker_pattern=r"^([a-z]+)_")
    assert data.utt2spk == {"anna-anna_001": "anna", "anna-anna_002": "anna", "bob-bob_001": "bob"}
    with pytest.raises(AsrError, match="needs a group"):
        prepare_folder(tmp_path / "c", tmp_path / "data", speaker_pattern="^[a-z]+_")


@pytest.mark.parametrize("content, message", [
    (b"caf\xe9\n", r"a\.txt:1: not valid UTF-8 \(byte 0xe9 at column 4\)"),
    (b"hello\r\n", r"a\.txt:1: CRLF line end"),
    (b" \n", r"a\.txt: empty transcript"),
])
def test_bad_sidecar_names_file_and_line(corpus, tmp_path, content, message):
    (corpus / "spk1" / "a.txt").write_bytes(content)
    with pytest.raises(AsrError, match=message + ".*--skip-bad"):
        prepare_folder(corpus, tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_missing_and_ambiguous_transcripts(corpus, tmp_path):
    (corpus / "spk1" / "a.lab").write_text("other\n")
    with pytest.raises(AsrError, match=r"a\.wav: two transcripts \(a\.txt, a\.lab\)"):
        prepare_folder(corpus, tmp_path / "data")
    (corpus / "spk1" / "a.lab").unlink()
    (corpus / "solo.txt").unlink()
    with pytest.raises(AsrError, match=r"solo\.wav: no transcript beside it"):
        prepare_folder(corpus, tmp_path / "data")


def test_skip_bad_reports_and_keeps_the_rest(corpus, tmp_path):
    (corpus / "solo.txt").unlink()
    (corpus / "spk1" / "a.wav").write_bytes(b"RIFF....not audio")
    data = prepare_folder(corpus, tmp_path / "data", PrepareOptions(skip_bad=True))
    check_data_dir(tmp_path / "data")
    assert list(data.utt2spk) == ["spk2-sub-b"]
    skipped = (tmp_path / "data" / "log" / "skipped.txt").read_text().splitlines()
    assert len(skipped) == 2
    assert any("solo.wav: no transcript" in line for line in skipped)
    assert any("a.txt: " in line and "cannot read the audio header" in line for line in skipped)


def test_nothing_usable(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(AsrError, match="no usable utterances"):
        prepare_folder(tmp_path / "empty", tmp_path / "data")
