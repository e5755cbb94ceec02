from __future__ import annotations

import pytest

from asr.errors import AsrError
from asr.prepare import PrepareOptions, prepare_speechocean
from layout_helpers import check_data_dir, write_audio


def _source_map(path):
    return dict(line.split(maxsplit=1) for line in path.read_text(encoding="utf-8").splitlines())


def test_shared_half(speechocean_dir, tmp_path):
    data = prepare_speechocean(speechocean_dir, tmp_path / "train")
    source_text = _source_map(speechocean_dir / "text")
    source_spk = _source_map(speechocean_dir / "utt2spk")
    source_dur = _source_map(speechocean_dir / "utt2dur")
    assert len(data.utt2spk) == 2500 and len(set(data.utt2spk.values())) == 125
    for utt, text in source_text.items():
        ours = f"{source_spk[utt]}-{utt}"  # e.g. 0001-000010011
        assert data.text[ours] == text
        assert data.utt2spk[ours] == source_spk[utt]
        assert data.utt2dur[ours] == pytest.approx(float(source_dur[utt]), abs=5e-4)
        assert data.wav_scp[ours] == str((speechocean_dir / f"audio/{source_spk[utt]}/{utt}.flac").resolve())
    assert data.spk2gender == _source_map(speechocean_dir / "spk2gender")
    assert (tmp_path / "train" / "utt2spk").read_text().startswith("0001-000010011 0001\n")


@pytest.fixture
def public_layout(tmp_path):
    """The public corpus: ROOT/train and ROOT/test lists, audio under ROOT/WAVE (tab-separated wav.scp)."""
    root = tmp_path / "speechocean762"
    for half, speaker, utts in (("train", "0001", ["000010011", "000010035"]), ("test", "0003", ["000030012"])):
        lists = root / half
        lists.mkdir(parents=True)
        for utt in utts:
            write_audio(root / "WAVE" / f"SPEAKER{speaker}" / f"{utt}.WAV", 0.3, format="WAV")
        (lists / "wav.scp").write_text("".join(f"{u}\tWAVE/SPEAKER{speaker}/{u}.WAV\n" for u in utts))
        (lists / "text").write_text("".join(f"{u} we call it bear\n" for u in utts))
        (lists / "utt2spk").write_text("".join(f"{u} {speaker}\n" for u in utts))
        (lists / "spk2gender").write_text(f"{speaker} F\n")
    return root


def test_public_layout(public_layout, tmp_path):
    data = prepare_speechocean(public_layout, tmp_path / "test", PrepareOptions(case="upper"), subset="test")
    check_data_dir(tmp_path / "test")
    assert data.text == {"0003-000030012": "WE CALL IT BEAR"}
    assert data.spk2gender == {"0003": "f"}
    assert data.wav_scp["0003-000030012"] == str(public_layout / "WAVE/SPEAKER0003/000030012.WAV")


def test_root_without_subset_names_the_halves(public_layout, tmp_path):
    with pytest.raises(AsrError, match=r"choose a half with --subset train\|test"):
        prepare_speechocean(public_layout, tmp_path / "x")


def test_missing_transcript_names_wav_scp_line(public_layout, tmp_path):
    (public_layout / "train" / "text").write_text("000010011 we call it bear\n")
    with pytest.raises(AsrError, match=r"train/wav.scp:2: utterance '000010035' has no line in .*text"):
        prepare_speechocean(public_layout, tmp_path / "x", subset="train")
    data = prepare_speechocean(public_layout, tmp_path / "x", PrepareOptions(skip_bad=True), subset="train")
    assert list(data.text) == ["0001-000010011"]
    assert "000010035" in (tmp_path / "x" / "log" / "skipped.txt").read_text()


def test_crlf_list_names_file_and_line(public_layout, tmp_path):
    (public_layout / "train" / "utt2spk").write_bytes(b"000010011 0001\n000010035 0001\r\n")
    with pytest.raises(AsrError, match=r"train/utt2spk:2: CRLF line end"):
        prepare_speechocean(public_layout, tmp_path / "x", subset="train")
