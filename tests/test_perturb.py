"""`asr data perturb-speed / perturb-volume / resample`: Kaldi's data-dir perturbations, audio written as files."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asr_cli import run_main as run
from asr.audio import load_audio
from asr.datadir import Segment, read_data_dir, validate_data_dir, write_data_dir, write_utt2dur
from asr.errors import AsrError
from asr.perturb import perturb_data_dir_speed, perturb_data_dir_volume, resample_data_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_datadir import make_data_dir  # noqa: E402


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = make_data_dir(tmp_path, feats=True)
    write_utt2dur(path)
    return path


def test_perturb_speed_scales_durations_and_keeps_text_and_speakers(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sp"
    assert run(["data", "perturb-speed", "--no-progress", "--factors", "0.9,1.0,1.1", data_dir, out]) == 0
    assert validate_data_dir(out) == []
    src, dst = read_data_dir(data_dir), read_data_dir(out)
    assert len(dst.utterances) == 3 * len(src.utterances)
    for factor, prefix in ((0.9, "sp0.9-"), (1.0, ""), (1.1, "sp1.1-")):
        for utt in src.utterances:
            new = prefix + utt
            assert dst.text[new] == src.text[utt]
            assert dst.utt2spk[new] == prefix + src.utt2spk[utt]
            assert dst.utt2dur[new] == pytest.approx(src.utt2dur[utt] / factor, rel=1e-3)
            # the audio written really is 1/factor as long, at the same rate
            wave, rate = load_audio(dst.wav_scp[new])
            assert rate == 8000 and len(wave) / rate == pytest.approx(src.utt2dur[utt] / factor, abs=2e-3)
    assert dst.wav_scp[src.utterances[0]] == src.wav_scp[src.utterances[0]]  # originals are not rewritten
    assert dst.spk2gender["sp0.9-spkA"] == src.spk2gender["spkA"]
    assert not dst.feats_scp and not (out / "feats.scp").exists()  # features describe the old audio


def test_perturb_speed_scales_segments_of_a_segmented_dir(tmp_path: Path) -> None:
    data = make_data_dir(tmp_path)
    src = read_data_dir(data)
    recording = src.utterances[-1]
    src.segments = {f"{src.utt2spk[recording]}-seg{i}": Segment(recording, 0.01 * i, 0.01 * i + 0.02)
                    for i in range(3)}
    src.text = {utt: "A" for utt in src.segments}
    src.utt2spk = {utt: src.utt2spk[recording] for utt in src.segments}
    src.wav_scp = {recording: src.wav_scp[recording]}
    src.spk2gender = {}
    write_data_dir(tmp_path / "seg", src)
    out = perturb_data_dir_speed(tmp_path / "seg", tmp_path / "sp", (1.25,), progress=False)
    assert set(out.wav_scp) == {f"sp1.25-{recording}"}
    for utt, segment in src.segments.items():
        new = out.segments[f"sp1.25-{utt}"]
        assert new.recording == f"sp1.25-{recording}"
        assert (new.start, new.end) == pytest.approx((segment.start / 1.25, segment.end / 1.25))


def test_perturb_volume_scales_each_recording_reproducibly(data_dir: Path, tmp_path: Path) -> None:
    first = perturb_data_dir_volume(data_dir, tmp_path / "v1", scale_low=0.5, scale_high=1.5, seed=3, progress=False)
    again = perturb_data_dir_volume(data_dir, tmp_path / "v2", scale_low=0.5, scale_high=1.5, seed=3, progress=False)
    src = read_data_dir(data_dir)
    assert first.utterances == src.utterances and first.text == src.text
    ratios = []
    for utt in src.utterances:
        original, _ = load_audio(src.wav_scp[utt])
        scaled, _ = load_audio(first.wav_scp[utt])
        ratio = float(np.dot(scaled, original) / np.dot(original, original))
        assert 0.5 - 1e-3 <= ratio <= 1.5 + 1e-3
        np.testing.assert_allclose(scaled, np.round(original * ratio), atol=1.0)
        assert soundfile.read(again.wav_scp[utt], dtype="int16")[0].tolist() == \
            soundfile.read(first.wav_scp[utt], dtype="int16")[0].tolist()
        ratios.append(ratio)
    assert len(set(np.round(ratios, 3))) > 1  # one factor per recording, not one for all


def test_resample_changes_the_rate_and_keeps_the_duration(data_dir: Path, tmp_path: Path) -> None:
    out = resample_data_dir(data_dir, tmp_path / "r16", 16000, progress=False)
    src = read_data_dir(data_dir)
    for utt in src.utterances:
        wave, rate = load_audio(out.wav_scp[utt])
        assert rate == 16000 and len(wave) == 2 * len(load_audio(src.wav_scp[utt])[0])


def test_a_failed_perturbation_leaves_the_previous_output_and_names_the_line(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sp"
    perturb_data_dir_speed(data_dir, out, (1.1,), progress=False)
    before = (out / "wav.scp").read_text()
    lines = (data_dir / "wav.scp").read_text().splitlines()
    lines[2] = lines[2].split()[0] + " /nonexistent/x.wav"
    (data_dir / "wav.scp").write_text("\n".join(lines) + "\n")
    with pytest.raises(AsrError, match=r"wav.scp:3: .*not found"):
        perturb_data_dir_speed(data_dir, out, (1.1,), progress=False)
    assert (out / "wav.scp").read_text() == before
    assert not list(tmp_path.glob(".sp*"))  # no temporary folder left behind


_REWRITES = {
    "speed": lambda src, dst, **jobs: perturb_data_dir_speed(src, dst, (0.9, 1.0, 1.1), progress=False, **jobs),
    "volume": lambda src, dst, **jobs: perturb_data_dir_volume(src, dst, seed=5, progress=False, **jobs),
    "resample": lambda src, dst, **jobs: resample_data_dir(src, dst, 16000, progress=False, **jobs),
}


def _files(path: Path) -> dict[str, bytes]:
    """Every file under `path` (data-dir files and the WAVs of wav/), by relative path."""
    return {str(f.relative_to(path)): f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file()}


def test_parallel_jobs_write_the_bytes_one_job_writes(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sp"
    assert run(["data", "perturb-speed", "--no-progress", data_dir, out]) == 0
    one_job = _files(out)
    assert run(["data", "perturb-speed", "--no-progress", "--nj", "2", data_dir, out]) == 0
    assert _files(out) == one_job
    assert len([name for name in one_job if name.startswith("wav/")]) == 2 * 9
    assert run(["data", "validate", out]) == 0


@pytest.mark.parametrize("rewrite", sorted(_REWRITES))
def test_dask_jobs_write_the_bytes_local_jobs_write(cluster, data_dir: Path, tmp_path: Path, rewrite: str) -> None:
    out = tmp_path / "out"
    _REWRITES[rewrite](data_dir, out)
    local = _files(out)
    _REWRITES[rewrite](data_dir, out, nj=2, cmd=f"dask:{cluster.scheduler_address}")
    assert _files(out) == local


@pytest.mark.parametrize("cmd", ["local", "dask"])
def test_a_failed_job_leaves_the_previous_output_and_names_the_file(data_dir: Path, tmp_path: Path, cmd: str,
                                                                    request: pytest.FixtureRequest) -> None:
    if cmd == "dask":
        cmd = f"dask:{request.getfixturevalue('cluster').scheduler_address}"
    out = tmp_path / "sp"
    perturb_data_dir_speed(data_dir, out, (1.1,), progress=False)
    before = _files(out)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF, but not audio")
    lines = (data_dir / "wav.scp").read_text().splitlines()
    lines[-2] = f"{lines[-2].split()[0]} {corrupt}"  # in the second of two jobs
    (data_dir / "wav.scp").write_text("\n".join(lines) + "\n")
    with pytest.raises(AsrError, match=rf"wav.scp:{len(lines) - 1}: {corrupt}: ") as error:
        perturb_data_dir_speed(data_dir, out, (1.1,), progress=False, nj=2, cmd=cmd)
    assert "\n" not in str(error.value)
    assert _files(out) == before
    assert not list(tmp_path.glob(".sp*"))  # no temporary folder left behind


@pytest.mark.parametrize("factors", ["0.9,0.9", "3.0", "fast"])
def test_bad_speed_factors_are_one_line_errors(data_dir: Path, tmp_path: Path, factors: str, capsys) -> None:
    assert run(["data", "perturb-speed", "--factors", factors, data_dir, tmp_path / "sp"]) != 0
    assert "factor" in capsys.readouterr().err
