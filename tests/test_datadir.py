"""asr.datadir: maps, validation verdicts at file:line, fix, subset/split/combine/copy, segments-aware audio."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asr.datadir import (DataDir, Segment, combine_data_dirs, compute_utt2dur, copy_data_dir, fix_data_dir,
                         load_utterance_audio, read_data_dir, split_data_dir, subset_data_dir, validate_data_dir,
                         write_data_dir)
from asr.errors import AsrError
from asr.kaldi_io import ArkWriter

SPEAKERS = {"spkA": 3, "spkB": 2, "spkC": 4}


def make_data_dir(root: Path, *, rate: int = 8000, feats: bool = False) -> Path:
    """A valid data directory with generated audio: 3 speakers, 9 utterances of different lengths."""
    audio = root / "audio"
    audio.mkdir(parents=True, exist_ok=True)
    data = DataDir()
    rng = np.random.default_rng(0)
    for spk, count in SPEAKERS.items():
        for index in range(count):
            utt = f"{spk}-u{index}"
            wav = audio / f"{utt}.wav"
            sf.write(wav, rng.integers(-3000, 3000, 800 + 160 * index).astype(np.int16), rate)
            data.wav_scp[utt] = str(wav)
            data.text[utt] = f"WORD {spk.upper()} {index}"
            data.utt2spk[utt] = spk
    data.spk2gender = {"spkA": "f", "spkB": "m", "spkC": "f"}
    out = root / "data"
    if feats:
        with ArkWriter(out / "feats.ark", out / "feats.scp") as writer:
            for utt in sorted(data.utt2spk):
                frames = 5 + len(utt) % 3
                writer.write(utt, rng.standard_normal((frames, 4)).astype(np.float32))
                data.utt2num_frames[utt] = frames
        data.feats_scp = {line.split()[0]: line.split()[1] for line in (out / "feats.scp").read_text().splitlines()}
    write_data_dir(out, data)
    return out


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return make_data_dir(tmp_path)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _kinds(problems) -> set[str]:
    return {p.kind for p in problems}


def test_write_read_round_trip_c_order(tmp_path: Path) -> None:
    data = DataDir(utt2spk={"b-2": "b", "B-1": "B", "a-1": "a"}, text={"b-2": "X", "B-1": "Y Z", "a-1": "W"},
                   segments={"b-2": Segment("rec", 0.5, 1.25), "B-1": Segment("rec", 0, -1),
                             "a-1": Segment("rec", 2, 3)},
                   wav_scp={"rec": "/x.wav"}, utt2dur={"b-2": 0.75, "B-1": 2.0, "a-1": 1.0},
                   utt2num_frames={"b-2": 73, "B-1": 198, "a-1": 98})
    write_data_dir(tmp_path, data)
    assert [line.split()[0] for line in _lines(tmp_path / "utt2spk")] == ["B-1", "a-1", "b-2"]
    assert _lines(tmp_path / "spk2utt") == ["B B-1", "a a-1", "b b-2"]
    assert _lines(tmp_path / "segments")[0] == "B-1 rec 0 -1"
    back = read_data_dir(tmp_path)
    assert back.segments == data.segments and back.utt2dur == data.utt2dur
    assert back.utt2num_frames == data.utt2num_frames and back.text == data.text
    assert back.utterances == ["B-1", "a-1", "b-2"] and back.speakers == ["B", "a", "b"]


def test_valid_dir_has_no_problems(tmp_path: Path) -> None:
    path = make_data_dir(tmp_path, feats=True)
    assert validate_data_dir(path) == []


@pytest.mark.parametrize("name, content, kind, line", [
    ("text", b"spkA-u0 A\nspkA-u2 B\nspkA-u1 C\n", "unsorted", 3),
    ("utt2spk", b"spkA-u0 spkA\nspkA-u0 spkA\n", "duplicate", 2),
    ("text", b"spkA-u0 A\nspkA-u1 \xe9t\xe9\n", "encoding", 2),
    ("text", b"spkA-u0 A\r\nspkA-u1 B\r\n", "crlf", 1),
    ("text", b"\xef\xbb\xbfspkA-u0 A\n", "bom", 1),
    ("text", b"spkA-u0 A\tB\n", "whitespace", 1),
    ("text", b"spkA-u0 A B \n", "trailing-space", 1),
    ("text", b"spkA-u0 A\nspkA-u1\n", "empty-text", 2),
    ("text", b"spkA-u0 A\n\nspkA-u1 B\n", "empty-line", 2),
    ("utt2dur", b"spkA-u0 0.1\nspkA-u1 abc\n", "value", 2),
    ("spk2gender", b"spkA f\nspkB x\n", "value", 2),
])
def test_validate_names_file_and_line(data_dir: Path, name: str, content: bytes, kind: str, line: int) -> None:
    (data_dir / name).write_bytes(content)
    problems = [p for p in validate_data_dir(data_dir) if p.kind == kind]
    assert problems, f"no {kind} problem reported"
    assert str(problems[0]).startswith(f"{data_dir / name}:{line}: ")


def test_validate_map_inconsistencies(data_dir: Path) -> None:
    text = _lines(data_dir / "text")
    (data_dir / "text").write_text("\n".join(text[1:] + ["zzz-extra HELLO"]) + "\n")
    problems = validate_data_dir(data_dir)
    missing = [p for p in problems if p.kind == "missing-id"]
    extra = [p for p in problems if p.kind == "extra-id"]
    assert len(missing) == 1 and str(missing[0]).startswith(f"{data_dir / 'utt2spk'}:1: ")
    assert len(extra) == 1 and str(extra[0]).startswith(f"{data_dir / 'text'}:{len(text)}: ")


def test_validate_speaker_prefix_and_spk2utt(data_dir: Path) -> None:
    lines = _lines(data_dir / "utt2spk")
    lines[0] = lines[0].split()[0] + " spkB"
    (data_dir / "utt2spk").write_text("\n".join(lines) + "\n")
    problems = validate_data_dir(data_dir)
    assert any(p.kind == "speaker-prefix" and p.line == 1 for p in problems)
    assert any(p.kind == "spk2utt" for p in problems)  # spk2utt still lists the old speaker


def test_validate_feats_vs_num_frames(tmp_path: Path) -> None:
    path = make_data_dir(tmp_path, feats=True)
    lines = _lines(path / "utt2num_frames")
    key, frames = lines[2].split()
    lines[2] = f"{key} {int(frames) + 1}"
    (path / "utt2num_frames").write_text("\n".join(lines) + "\n")
    problems = [p for p in validate_data_dir(path) if p.kind == "num-frames"]
    assert len(problems) == 1 and str(problems[0]).startswith(f"{path / 'utt2num_frames'}:3: ")


def test_validate_missing_audio_and_segments_recording(data_dir: Path) -> None:
    first = _lines(data_dir / "wav.scp")[0].split()[1]
    os.unlink(first)
    assert any(p.kind == "missing-audio" and p.line == 1 for p in validate_data_dir(data_dir))
    assert not any(p.kind == "missing-audio" for p in validate_data_dir(data_dir, check_audio_paths=False))
    utts = [line.split()[0] for line in _lines(data_dir / "utt2spk")]
    (data_dir / "segments").write_text("".join(f"{u} {u if u != utts[4] else 'nope'} 0 0.05\n" for u in utts))
    problems = validate_data_dir(data_dir)
    assert any(p.kind == "missing-id" and p.path.endswith("segments") and p.line == 5 for p in problems)


def test_validate_required_files(data_dir: Path) -> None:
    os.unlink(data_dir / "spk2utt")
    assert "missing" in _kinds(validate_data_dir(data_dir))
    os.unlink(data_dir / "utt2spk")
    assert any(p.path.endswith("utt2spk") for p in validate_data_dir(data_dir))


def test_reading_refuses_non_utf8_naming_line(data_dir: Path) -> None:
    (data_dir / "text").write_bytes(b"spkA-u0 A\nspkA-u1 caf\xe9\n")
    with pytest.raises(AsrError) as excinfo:
        read_data_dir(data_dir)
    assert str(excinfo.value).startswith(f"{data_dir / 'text'}:2: ") and "UTF-8" in str(excinfo.value)


def test_fix_repairs_and_reports(data_dir: Path) -> None:
    originals = {name: (data_dir / name).read_bytes() for name in ("text", "wav.scp", "utt2spk")}
    text = _lines(data_dir / "text")
    broken = [text[3], text[0] + "  ", text[1].replace(" ", "\t", 1), text[0]] + text[4:]  # drops 2, dup, tab
    (data_dir / "text").write_bytes(("\r\n".join(broken) + "\r\n").encode())
    (data_dir / "wav.scp").write_bytes(b"\xef\xbb\xbf" + originals["wav.scp"])
    utt2spk = _lines(data_dir / "utt2spk")
    (data_dir / "utt2spk").write_text("\n".join(reversed(utt2spk)) + "\n")
    (data_dir / "spk2utt").write_text("spkA spkA-u0\n")
    broken_files = {name: (data_dir / name).read_bytes() for name in ("text", "wav.scp", "utt2spk", "spk2utt")}
    report = fix_data_dir(data_dir)
    assert (report.utterances_before, report.utterances_after) == (9, 8)
    assert report.dropped == {"not in text": 1}
    assert {"crlf", "bom", "duplicate", "whitespace"} <= set(report.repaired)
    assert validate_data_dir(data_dir) == []
    for name, content in broken_files.items():
        assert (data_dir / ".backup" / name).read_bytes() == content
    dropped_utt = text[2].split()[0]
    assert _lines(data_dir / "wav.scp") == [line for line in originals["wav.scp"].decode().splitlines()
                                            if not line.startswith(dropped_utt + " ")]  # BOM gone
    assert (data_dir / "utt2spk").read_bytes() != broken_files["utt2spk"]
    fixed = read_data_dir(data_dir)
    assert dropped_utt not in fixed.utt2spk
    assert fixed.text[text[1].split()[0]] == " ".join(text[1].split()[1:])
    assert len(fixed.spk2utt) == 3 and sum(len(v) for v in fixed.spk2utt.values()) == 8


def test_fix_drops_speakers_without_gender_and_bad_values(data_dir: Path) -> None:
    (data_dir / "spk2gender").write_text("spkA f\nspkC f\n")
    lines = _lines(data_dir / "utt2spk")
    (data_dir / "utt2dur").write_text("".join(f"{line.split()[0]} {'x' if i == 0 else 1.5}\n"
                                              for i, line in enumerate(lines)))
    report = fix_data_dir(data_dir)
    assert report.dropped == {"bad value in utt2dur": 1, "speaker not in spk2gender": SPEAKERS["spkB"]}
    assert report.speakers_after == 2 and validate_data_dir(data_dir) == []


def test_fix_recomputes_num_frames_from_feats(tmp_path: Path) -> None:
    path = make_data_dir(tmp_path, feats=True)
    expected = _lines(path / "utt2num_frames")
    (path / "utt2num_frames").write_text("".join(f"{line.split()[0]} 999\n" for line in expected))
    report = fix_data_dir(path)
    assert report.repaired["utt2num_frames corrected from feats"] == len(expected)
    assert _lines(path / "utt2num_frames") == expected


def test_subset_modes(tmp_path: Path, data_dir: Path) -> None:
    all_utts = read_data_dir(data_dir).utterances
    first = subset_data_dir(data_dir, tmp_path / "first", first=4)
    assert first.utterances == all_utts[:4] and validate_data_dir(tmp_path / "first") == []
    assert set(read_data_dir(tmp_path / "first").spk2gender) == {"spkA", "spkB"}
    random_1 = subset_data_dir(data_dir, tmp_path / "r1", random_n=4, seed=7).utterances
    random_2 = subset_data_dir(data_dir, tmp_path / "r2", random_n=4, seed=7).utterances
    others = {tuple(subset_data_dir(data_dir, tmp_path / f"s{s}", random_n=4, seed=s).utterances) for s in range(5)}
    assert random_1 == random_2 and len(others) > 1
    (tmp_path / "list").write_text(f"{all_utts[5]}\n{all_utts[1]}\nnot-there\n")
    assert subset_data_dir(data_dir, tmp_path / "l", utt_list=tmp_path / "list").utterances == \
        sorted([all_utts[1], all_utts[5]])
    (tmp_path / "spks").write_text("spkC\n")
    by_speaker = subset_data_dir(data_dir, tmp_path / "k", spk_list=tmp_path / "spks")
    assert by_speaker.speakers == ["spkC"] and len(by_speaker.utterances) == SPEAKERS["spkC"]
    with pytest.raises(AsrError, match="cannot take 10 of 9"):
        subset_data_dir(data_dir, tmp_path / "x", random_n=10)
    with pytest.raises(AsrError, match="exactly one"):
        subset_data_dir(data_dir, tmp_path / "x", first=1, random_n=1)


def test_split_per_utterance(data_dir: Path) -> None:
    parts = split_data_dir(data_dir, 4)
    assert parts == [data_dir / "split4" / str(i) for i in range(1, 5)]
    utts = [read_data_dir(p).utterances for p in parts]
    assert sorted(len(u) for u in utts) == [2, 2, 2, 3]
    assert sum(utts, []) == read_data_dir(data_dir).utterances  # contiguous, disjoint, complete
    assert all(validate_data_dir(p) == [] for p in parts)
    with pytest.raises(AsrError, match="into 10 parts"):
        split_data_dir(data_dir, 10)


@pytest.mark.parametrize("num_parts", [1, 2, 3])
def test_split_per_speaker_keeps_speakers_whole(data_dir: Path, num_parts: int) -> None:
    parts = split_data_dir(data_dir, num_parts, per_spk=True)
    speaker_sets = [set(read_data_dir(p).speakers) for p in parts]
    assert all(speaker_sets)
    assert sum(len(s) for s in speaker_sets) == len(SPEAKERS) == len(set().union(*speaker_sets))
    assert sorted(u for p in parts for u in read_data_dir(p).utterances) == read_data_dir(data_dir).utterances
    with pytest.raises(AsrError, match="3 speaker"):
        split_data_dir(data_dir, 4, per_spk=True)


def test_balanced_speaker_split_uneven_counts(tmp_path: Path) -> None:
    utt2spk = {f"s{s}-{i:02d}": f"s{s}" for s, n in enumerate([10, 1, 1, 1, 6, 5]) for i in range(n)}
    write_data_dir(tmp_path, DataDir(utt2spk=utt2spk, text={u: "A" for u in utt2spk}))
    sizes = [len(read_data_dir(p).utterances) for p in split_data_dir(tmp_path, 3, per_spk=True)]
    assert sum(sizes) == 24 and min(sizes) >= 1 and max(sizes) <= 11


def test_combine_and_copy_with_prefix(tmp_path: Path, data_dir: Path) -> None:
    copied = copy_data_dir(data_dir, tmp_path / "copy", utt_prefix="x-", spk_prefix="x-")
    assert all(u.startswith("x-spk") for u in copied.utterances)
    assert validate_data_dir(tmp_path / "copy") == []
    combined = combine_data_dirs(tmp_path / "all", [data_dir, tmp_path / "copy"])
    assert len(combined.utterances) == 18 and len(combined.speakers) == 6
    assert validate_data_dir(tmp_path / "all") == []
    with pytest.raises(AsrError, match="both"):
        combine_data_dirs(tmp_path / "dup", [data_dir, data_dir])


def test_load_audio_plain_and_segments(tmp_path: Path) -> None:
    rate = 8000
    samples = np.random.default_rng(1).integers(-9000, 9000, rate * 2).astype(np.int16)
    wav = tmp_path / "rec.wav"
    sf.write(wav, samples, rate)
    data = DataDir(wav_scp={"rec1": str(wav)}, utt2spk={"s-a": "s", "s-b": "s", "s-c": "s"},
                   segments={"s-a": Segment("rec1", 0.1, 0.35), "s-b": Segment("rec1", 1.5, -1),
                             "s-c": Segment("rec1", 1.9, 2.3)})
    write_data_dir(tmp_path / "d", data)
    wave, got_rate = load_utterance_audio(tmp_path / "d", "s-a")
    assert got_rate == rate
    np.testing.assert_array_equal(wave, samples[800:2800].astype(np.float32))
    np.testing.assert_array_equal(load_utterance_audio(data, "s-b")[0], samples[12000:].astype(np.float32))
    np.testing.assert_array_equal(load_utterance_audio(data, "s-c")[0], samples[15200:].astype(np.float32))  # clamped
    assert compute_utt2dur(data) == {"s-a": pytest.approx(0.25), "s-b": pytest.approx(0.5),
                                     "s-c": pytest.approx(0.4)}
    data.segments["s-c"] = Segment("rec1", 1.9, 3.0)
    with pytest.raises(AsrError, match="lasts 2.000 s"):
        load_utterance_audio(data, "s-c")
    with pytest.raises(AsrError, match="no utterance 'nope'"):
        load_utterance_audio(data, "nope")


def test_load_audio_pipe_needs_flag(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    sf.write(wav, np.arange(100, dtype=np.int16), 8000)
    data = DataDir(path=tmp_path, wav_scp={"u": f"cat {wav} |"}, utt2spk={"u": "u"})
    with pytest.raises(AsrError, match="--allow-pipes") as excinfo:
        load_utterance_audio(data, "u")
    assert "wav.scp" in str(excinfo.value)
    assert load_utterance_audio(data, "u", allow_pipes=True)[0][5] == 5.0


def test_real_fsdd_data_dir(tmp_path: Path, fsdd_dir: Path) -> None:
    files = sorted(fsdd_dir.glob("*_jackson_*.wav"))[:8]
    data = DataDir()
    for wav in files:
        digit, speaker, index = wav.stem.split("_")
        utt = f"{speaker}-{digit}-{index}"
        data.wav_scp[utt], data.text[utt], data.utt2spk[utt] = str(wav), digit, speaker
    write_data_dir(tmp_path, data)
    assert validate_data_dir(tmp_path) == []
    durations = compute_utt2dur(tmp_path)
    for utt, wav in zip(sorted(data.wav_scp), (Path(data.wav_scp[u]) for u in sorted(data.wav_scp))):
        reference, rate = sf.read(wav, dtype="int16")
        assert durations[utt] == pytest.approx(len(reference) / rate)
        wave, _ = load_utterance_audio(tmp_path, utt, sample_frequency=8000)
        np.testing.assert_array_equal(wave, reference.astype(np.float32))


_ids = st.sampled_from(["spkA-u0", "spkA-u1", "spkB-u0", "spkB-u1", "spkC-u9", "spkA", "spkB", "x"])
_values = st.sampled_from(["spkA", "spkB", "1.5", "-3", "abc", "HELLO WORLD", "", "f", "m", "rec 0 1", "\t"])
_line_ends = st.sampled_from(["\n", "\r\n", "  \n", "\n\n"])
_lines_strategy = st.lists(st.tuples(_ids, _values, _line_ends), max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contents=st.fixed_dictionaries({name: _lines_strategy for name in ("utt2spk", "text", "utt2dur",
                                                                          "spk2gender", "spk2utt")}),
       junk=st.binary(max_size=20))
def test_fuzzed_data_dir_validate_then_fix(tmp_path_factory, contents, junk: bytes) -> None:
    """Any mess: validate lists problems (no exception); fix repairs or says why not; afterwards only problems
    fix cannot solve remain (speaker-prefix ids), or fix refuses to empty the directory."""
    path = tmp_path_factory.mktemp("fuzz")
    for name, lines in contents.items():
        raw = "".join(f"{key} {value}{end}" for key, value, end in lines).encode()
        (path / name).write_bytes(raw + (junk if name == "text" else b""))
    (path / "wav.scp").write_text("".join(f"{u} {u}.wav\n" for u in sorted({k for k, _, _ in contents["utt2spk"]})))
    problems = validate_data_dir(path, check_audio_paths=False)
    assert all(str(p).startswith(str(path)) and "\n" not in str(p) for p in problems)
    try:
        fix_data_dir(path)
    except AsrError:
        return
    remaining = {p.kind for p in validate_data_dir(path, check_audio_paths=False)}
    assert remaining <= {"speaker-prefix"}, remaining


def test_fix_refuses_to_drop_everything(data_dir: Path) -> None:
    (data_dir / "text").write_text("nobody HELLO\n")
    before = {p.name: p.read_bytes() for p in data_dir.iterdir() if p.is_file()}
    with pytest.raises(AsrError, match="drop every utterance"):
        fix_data_dir(data_dir)
    assert {p.name: p.read_bytes() for p in data_dir.iterdir() if p.is_file()} == before


def test_subset_split_copy_combine_keep_the_feature_options(tmp_path: Path, data_dir: Path, capsys) -> None:
    """feats.conf says how feats.scp was computed: a subset trained on must still know (asr train reads it)."""
    from asr.training.config import TrainConfig
    from asr.training.dataset import resolve_feature_spec
    from tests.asr_cli import run_main

    assert run_main(["features", "fbank", "--set", "num_mel_bins=30", "--sample-frequency", "8000", "--no-progress",
                     data_dir]) == 0
    conf = (data_dir / "feats.conf").read_text()
    (tmp_path / "spks").write_text("spkC\n")
    outputs = [subset_data_dir(data_dir, tmp_path / "sub", spk_list=tmp_path / "spks") and tmp_path / "sub",
               copy_data_dir(data_dir, tmp_path / "copy", utt_prefix="x-") and tmp_path / "copy",
               *split_data_dir(data_dir, 2)]
    for out in outputs:
        assert (out / "feats.conf").read_text() == conf
        assert resolve_feature_spec(TrainConfig(), out).options["num_mel_bins"] == 30
    combine_data_dirs(tmp_path / "both", [tmp_path / "sub", tmp_path / "copy"])
    assert (tmp_path / "both" / "feats.conf").read_text() == conf

    (tmp_path / "copy" / "feats.conf").write_text(conf.replace("=30", "=40"))
    combine_data_dirs(tmp_path / "both", [tmp_path / "sub", tmp_path / "copy"])
    assert not (tmp_path / "both" / "feats.conf").exists()  # mixed options: not claimed for the union
    assert "feats.conf differs" in capsys.readouterr().err
