from __future__ import annotations

import pytest

from asr.errors import AsrError
from asr.prepare import PrepareOptions, prepare_manifest
from layout_helpers import check_data_dir, write_audio


@pytest.fixture
def clips(tmp_path):
    write_audio(tmp_path / "clips" / "one.wav", 0.2)
    write_audio(tmp_path / "clips" / "two.flac", 0.3)
    return tmp_path


def test_csv_with_quotes_and_crlf(clips, tmp_path):
    manifest = clips / "train.csv"
    manifest.write_bytes(b'Path,Text,Speaker\r\nclips/one.wav,"well, hello",ann\r\n'
                         + str(clips / "clips" / "two.flac").encode() + b",bye,bob\r\n")
    data = prepare_manifest(manifest, tmp_path / "data")
    check_data_dir(tmp_path / "data")
    assert data.utt2spk == {"ann-clips-one": "ann", "bob-" + "-".join((clips / "clips" / "two").parts[1:]): "bob"}
    assert data.text["ann-clips-one"] == "well, hello"


def test_tsv_with_ids_and_no_speaker(clips, tmp_path):
    manifest = clips / "m.tsv"
    manifest.write_text("id\tpath\ttext\nu1\tclips/one.wav\tyes\nu 2\tclips/two.flac\tno\n", encoding="utf-8")
    data = prepare_manifest(manifest, tmp_path / "data")
    check_data_dir(tmp_path / "data")
    assert data.utt2spk == {"u1": "u1", "u_2": "u_2"}


def test_missing_column(clips):
    (clips / "m.csv").write_text("file,text\nclips/one.wav,yes\n")
    with pytest.raises(AsrError, match=r"m\.csv:1: the header row lacks column\(s\) path"):
        prepare_manifest(clips / "m.csv", clips / "data")


@pytest.mark.parametrize("row, message", [
    ("clips/three.wav,yes", r"m\.csv:3: audio file .*three\.wav not found"),
    ("clips/two.flac,", r"m\.csv:3: empty transcript for 'clips-two'"),
    ("clips/two.flac,a,b", r"m\.csv:3: 3 fields where the header has 2; quote fields that contain a comma"),
])
def test_bad_rows_name_the_line(clips, row, message):
    (clips / "m.csv").write_text(f"path,text\nclips/one.wav,yes\n{row}\n")
    with pytest.raises(AsrError, match=message):
        prepare_manifest(clips / "m.csv", clips / "data")
    data = prepare_manifest(clips / "m.csv", clips / "data", PrepareOptions(skip_bad=True))
    assert list(data.text) == ["clips-one"]


def test_non_utf8_manifest_names_the_line(clips):
    (clips / "m.csv").write_bytes(b"path,text\nclips/one.wav,caf\xe9\n")
    with pytest.raises(AsrError, match=r"m\.csv:2: not valid UTF-8 \(byte 0xe9\)"):
        prepare_manifest(clips / "m.csv", clips / "data")
