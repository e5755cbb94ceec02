from __future__ import annotations

import pytest

from asr.errors import AsrError
from asr.prepare import PrepareOptions, prepare_librispeech
from layout_helpers import check_data_dir, write_audio

SPEAKERS_TXT = """\
; Some comments
;ID  |SEX| SUBSET           |MINUTES| NAME
103  | F | train-clean-100  | 25.19 | Dangerous Sweetheart
1034 | M | dev-clean        | 25.03 | Kevin O'Coin
"""


@pytest.fixture
def subset(tmp_path):
    """LibriSpeech/dev-clean with readers 103 (chapter 1240, two utterances) and 1034 (chapter 121119)."""
    root = tmp_path / "LibriSpeech"
    (root / "dev-clean").mkdir(parents=True)
    (root / "SPEAKERS.TXT").write_text(SPEAKERS_TXT)
    chapters = {("103", "1240"): ["CHAPTER ONE MISSUS RACHEL LYNDE IS SURPRISED", "THAT HAD ITS SOURCE AWAY BACK"],
                ("1034", "121119"): ["THE GIRL WHO CAME INTO THE WORLD"]}
    for (reader, chapter), lines in chapters.items():
        folder = root / "dev-clean" / reader / chapter
        for n in range(len(lines)):
            write_audio(folder / f"{reader}-{chapter}-{n:04d}.flac", 0.2 + 0.1 * n)
        (folder / f"{reader}-{chapter}.trans.txt").write_text(
            "".join(f"{reader}-{chapter}-{n:04d} {line}\n" for n, line in enumerate(lines)))
    return root / "dev-clean"


def test_layout_to_data_dir(subset, tmp_path):
    data = prepare_librispeech(subset, tmp_path / "data")
    check_data_dir(tmp_path / "data")
    assert data.utt2spk == {"103-1240-0000": "103-1240", "103-1240-0001": "103-1240",
                            "1034-121119-0000": "1034-121119"}
    assert data.text["103-1240-0001"] == "THAT HAD ITS SOURCE AWAY BACK"
    assert data.spk2gender == {"103-1240": "f", "1034-121119": "m"}
    assert (tmp_path / "data" / "spk2gender").read_text() == "103-1240 f\n1034-121119 m\n"


def test_missing_flac_names_the_transcript_line(subset, tmp_path):
    (subset / "103" / "1240" / "103-1240-0001.flac").unlink()
    with pytest.raises(AsrError, match=r"103-1240\.trans\.txt:2: audio file .*103-1240-0001\.flac not found"):
        prepare_librispeech(subset, tmp_path / "data")
    data = prepare_librispeech(subset, tmp_path / "data", PrepareOptions(skip_bad=True))
    assert len(data.text) == 2


def test_speaker_without_gender_drops_spk2gender(subset, tmp_path):
    (subset.parent / "SPEAKERS.TXT").write_text(SPEAKERS_TXT.replace("1034 | M", "1034 | ?"))
    data = prepare_librispeech(subset, tmp_path / "data")
    assert data.spk2gender == {} and not (tmp_path / "data" / "spk2gender").exists()
    check_data_dir(tmp_path / "data")


def test_not_a_subset_folder(subset):
    with pytest.raises(AsrError, match=r"give a LibriSpeech subset folder such as LibriSpeech/dev-clean"):
        prepare_librispeech(subset.parent.parent, subset / "data")
