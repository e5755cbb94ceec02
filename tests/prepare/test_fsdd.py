from __future__ import annotations

import re

import kaldiio
import numpy as np
import pytest
import soundfile as sf

from asr.errors import AsrError
from asr.prepare import prepare_fsdd
from asr.prepare.fsdd import DIGIT_WORDS

SPEAKERS = ["jackson", "lucas", "nicolas", "theo", "yweweler"]
NAME = re.compile(r"^(?P<speaker>[a-z]+)-(?P<digit>\d)_(?P=speaker)_(?P<index>\d+)$")


def test_official_split(fsdd_dir, tmp_path):
    train = prepare_fsdd(fsdd_dir, tmp_path / "train", subset="train")
    test = prepare_fsdd(fsdd_dir, tmp_path / "test", subset="test")
    assert (len(train.utt2spk), len(test.utt2spk)) == (2250, 250)
    assert sorted(set(train.utt2spk.values())) == sorted(set(test.utt2spk.values())) == SPEAKERS
    for data, indices in ((train, range(5, 50)), (test, range(0, 5))):
        for utt, words in data.text.items():
            match = NAME.match(utt)
            assert match and int(match["index"]) in indices
            assert words == DIGIT_WORDS[int(match["digit"])]
            assert data.utt2spk[utt] == match["speaker"]


def test_held_out_speakers(fsdd_dir, tmp_path):
    train = prepare_fsdd(fsdd_dir, tmp_path / "train", subset="train", split="speaker", test_speakers=["theo"])
    test = prepare_fsdd(fsdd_dir, tmp_path / "test", subset="test", split="speaker", test_speakers=["theo"])
    assert set(test.utt2spk.values()) == {"theo"} and len(test.utt2spk) == 500
    assert "theo" not in set(train.utt2spk.values()) and len(train.utt2spk) == 2000


def test_files_read_back_by_kaldiio(fsdd_dir, tmp_path):
    from asr.datadir import validate_data_dir

    prepare_fsdd(fsdd_dir.parent, tmp_path / "test", subset="test")  # the dataset folder holding recordings/
    assert validate_data_dir(tmp_path / "test") == []
    utt2dur = dict(line.split() for line in (tmp_path / "test" / "utt2dur").read_text().splitlines())
    for count, (utt, (rate, samples)) in enumerate(kaldiio.load_scp(str(tmp_path / "test" / "wav.scp")).items()):
        reference, reference_rate = sf.read(fsdd_dir / f"{utt.split('-', 1)[1]}.wav", dtype="int16")
        assert rate == reference_rate == 8000 and np.array_equal(samples, reference)
        assert float(utt2dur[utt]) == pytest.approx(len(samples) / rate, abs=1e-6)
        if count == 20:
            break


@pytest.mark.parametrize("kwargs, message", [
    ({"split": "speaker"}, "needs --test-speakers from jackson, lucas"),
    ({"split": "speaker", "test_speakers": ["bob"]}, r"unknown: bob"),
    ({"test_speakers": ["theo"]}, "only applies with --split speaker"),
])
def test_split_option_errors(fsdd_dir, tmp_path, kwargs, message):
    with pytest.raises(AsrError, match=message):
        prepare_fsdd(fsdd_dir, tmp_path / "x", **kwargs)


def test_folder_without_fsdd_names(tmp_path):
    (tmp_path / "src").mkdir()
    with pytest.raises(AsrError, match=r"no files named \{digit\}_\{speaker\}_\{index\}.wav"):
        prepare_fsdd(tmp_path / "src", tmp_path / "x")
