from __future__ import annotations

import pytest
import soundfile as sf

from asr.errors import AsrError
from asr.prepare import prepare_an4
from layout_helpers import check_data_dir, write_audio

TRAIN = [("an251-fash-b", "YES"), ("an253-fash-b", "GO"), ("cen1-mgah-b", "H I N I N E")]
TEST = [("an406-fcaw-b", "RUBOUT T W O")]


@pytest.fixture
def an4(tmp_path):
    """an4/wav/{an4_clstk,an4test_clstk}/<spk>/<id>.sph (NIST SPHERE) with etc/*.transcription and *.fileids."""
    root = tmp_path / "an4"
    (root / "etc").mkdir(parents=True)
    for subset, folder, utterances in (("train", "an4_clstk", TRAIN), ("test", "an4test_clstk", TEST)):
        for file_id, _ in utterances:
            speaker = file_id.split("-")[1]
            write_audio(root / "wav" / folder / speaker / f"{file_id}.sph", 0.4, format="NIST", subtype="PCM_16")
        (root / "etc" / f"an4_{subset}.transcription").write_text(
            "".join(f"<s> {words} </s> ({file_id})\n" for file_id, words in utterances))
        (root / "etc" / f"an4_{subset}.fileids").write_text(
            "".join(f"{folder}/{file_id.split('-')[1]}/{file_id}\n" for file_id, _ in utterances))
    return root


def test_train_set(an4, tmp_path):
    assert sf.info(an4 / "wav/an4_clstk/fash/an251-fash-b.sph").format == "NIST"
    data = prepare_an4(an4.parent, tmp_path / "train")  # the folder the archive unpacked into
    check_data_dir(tmp_path / "train")
    assert data.utt2spk == {"fash-an251-b": "fash", "fash-an253-b": "fash", "mgah-cen1-b": "mgah"}
    assert data.text["mgah-cen1-b"] == "H I N I N E"


def test_test_set_without_fileids(an4, tmp_path):
    (an4 / "etc" / "an4_test.fileids").unlink()
    data = prepare_an4(an4, tmp_path / "test", subset="test")
    check_data_dir(tmp_path / "test")
    assert data.text == {"fcaw-an406-b": "RUBOUT T W O"}
    assert data.wav_scp["fcaw-an406-b"] == str(an4 / "wav/an4test_clstk/fcaw/an406-fcaw-b.sph")


@pytest.mark.parametrize("line, message", [
    ("YES (an999-fash-b)", r"an4_train\.transcription:4: file id 'an999-fash-b' is not listed in .*fileids"),
    ("<s> YES </s>", r"an4_train\.transcription:4: expected '<s> WORDS </s> \(file-id\)'"),
    ("<s> YES </s> (an999-b)", r"an4_train\.transcription:4: file id 'an999-b' is not <prompt>-<speaker>-<mic>"),
])
def test_bad_transcription_lines(an4, tmp_path, line, message):
    with open(an4 / "etc" / "an4_train.transcription", "a") as f:
        f.write(line + "\n")
    with pytest.raises(AsrError, match=message):
        prepare_an4(an4, tmp_path / "train")


def test_not_an4(tmp_path):
    with pytest.raises(AsrError, match="no etc/ folder"):
        prepare_an4(tmp_path, tmp_path / "x")
