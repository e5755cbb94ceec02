"""`asr features ...`: files other tools read back (kaldiio, numpy, an HTK header reader), bad input as one-line
errors, and runs that fail or are interrupted leaving a readable feats.scp."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile

import asr.features as features
from asr_cli import run_main as run
from asr.features.config import make_options

kaldiio = pytest.importorskip("kaldiio")

UTTERANCES = ["0_jackson_0", "0_jackson_1", "1_theo_2", "5_theo_4", "9_nicolas_7"]


def write_data_dir(path: Path, entries: dict[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "wav.scp").write_text("".join(f"{utt} {entries[utt]}\n" for utt in sorted(entries)))
    (path / "utt2spk").write_text("".join(f"{utt} {utt.split('_')[1]}\n" for utt in sorted(entries)))
    return path


@pytest.fixture
def data_dir(tmp_path: Path, fsdd_dir: Path) -> Path:
    return write_data_dir(tmp_path / "data", {utt: str(fsdd_dir / f"{utt}.wav") for utt in UTTERANCES})


def reference(fsdd_dir: Path, utt: str, kind: str = "mfcc", **options) -> np.ndarray:
    wave, rate = soundfile.read(fsdd_dir / f"{utt}.wav", dtype="int16")
    return features.compute_features(kind, wave.astype(np.float32), rate, {"dither": 0.0, **options})


def test_data_dir_features_read_back_by_kaldiio(data_dir, fsdd_dir, capsys):
    assert run(["features", "mfcc", str(data_dir), "--sample-frequency", "8000", "--dither=0", "--no-progress"]) == 0
    summary = capsys.readouterr().out
    assert f"{len(UTTERANCES)} utterances" in summary and "feats.scp" in summary
    feats = dict(kaldiio.load_scp(str(data_dir / "feats.scp")))
    assert sorted(feats) == UTTERANCES
    frames = dict(line.split() for line in (data_dir / "utt2num_frames").read_text().splitlines())
    for utt in UTTERANCES:
        expected = reference(fsdd_dir, utt)
        assert feats[utt].dtype == np.float32
        np.testing.assert_allclose(feats[utt], expected, atol=1e-4)
        assert int(frames[utt]) == len(expected)
    # feats.conf records the options; loading it rebuilds the same options
    recorded = make_options("mfcc", path=data_dir / "feats.conf")
    assert recorded == make_options("mfcc", {"sample_frequency": 8000, "dither": 0.0})


def test_parallel_jobs_match_one_job(data_dir, tmp_path):
    assert run(["features", "fbank", str(data_dir), "--sample-frequency=8000", "--dither=0", "--no-progress"]) == 0
    out = tmp_path / "parallel"
    assert run(["features", "fbank", str(data_dir), "--sample-frequency=8000", "--dither=0", "--nj", "2",
                "-o", str(out), "--no-progress"]) == 0
    assert sorted(p.name for p in out.glob("*.ark")) == ["feats.1.ark", "feats.2.ark"]
    one, two = dict(kaldiio.load_scp(str(data_dir / "feats.scp"))), dict(kaldiio.load_scp(str(out / "feats.scp")))
    assert sorted(one) == sorted(two) == UTTERANCES
    for utt in UTTERANCES:
        np.testing.assert_array_equal(one[utt], two[utt])


def test_config_file_flags_and_yaml_agree(data_dir, tmp_path, fsdd_dir):
    repo = Path(__file__).resolve().parents[2]
    wav = str(fsdd_dir / "1_theo_2.wav")
    (tmp_path / "opts.yaml").write_text("use-energy: false\ndither: 0\n")
    outputs = []
    for i, extra in enumerate([["--config", str(repo / "conf" / "mfcc.conf"), "--dither=0"],
                               ["--use-energy", "false", "--dither", "0"],
                               ["--config", str(tmp_path / "opts.yaml")]]):
        target = tmp_path / f"out{i}.npy"
        assert run(["features", "mfcc", wav, "-o", str(target), "--no-progress", *extra]) == 0
        outputs.append(np.load(target))
    np.testing.assert_array_equal(outputs[0], outputs[1])
    np.testing.assert_array_equal(outputs[0], outputs[2])
    np.testing.assert_allclose(outputs[0], reference(fsdd_dir, "1_theo_2", use_energy=False), atol=1e-4)


def read_htk_independently(path: Path) -> tuple[int, int, int, np.ndarray]:
    """HTK: big-endian int32 nSamples, int32 sampPeriod (100 ns), int16 sampSize (bytes), int16 parmKind."""
    raw = path.read_bytes()
    frames, period, size, kind = struct.unpack(">iihh", raw[:12])
    return period, size, kind, np.frombuffer(raw[12:], dtype=">f4").reshape(frames, size // 4)


def test_audio_file_outputs_read_back(tmp_path, fsdd_dir):
    wavs = [str(fsdd_dir / f"{utt}.wav") for utt in UTTERANCES[:3]]
    expected = {utt: reference(fsdd_dir, utt) for utt in UTTERANCES[:3]}
    base = ["features", "mfcc", "--dither=0", "--no-progress"]
    assert run(base + wavs + ["-o", str(tmp_path / "all.ark")]) == 0
    ark = dict(kaldiio.load_ark(str(tmp_path / "all.ark")))
    scp = dict(kaldiio.load_scp(str(tmp_path / "all.scp")))
    assert run(base + wavs + ["-o", str(tmp_path / "all.npz")]) == 0
    with np.load(tmp_path / "all.npz") as npz:
        for utt, values in expected.items():
            np.testing.assert_allclose(ark[utt], values, atol=1e-4)
            np.testing.assert_array_equal(scp[utt], ark[utt])
            np.testing.assert_array_equal(npz[utt], ark[utt])
    # one file per input, in a folder, through a glob
    assert run(base + [str(fsdd_dir / "0_jackson_[01].wav"), "-o", str(tmp_path / "htk"), "--format", "htk",
                       "--htk-compat=true"]) == 0
    for utt in UTTERANCES[:2]:
        period, size, kind, values = read_htk_independently(tmp_path / "htk" / f"{utt}.htk")
        assert (period, size, kind) == (100000, 13 * 4, 6 | 0o100)  # MFCC_E: energy last (htk_compat)
        np.testing.assert_allclose(values, reference(fsdd_dir, utt, htk_compat=True), atol=1e-4)
    single = tmp_path / "one.csv"
    assert run(base + [wavs[0], "-o", str(single)]) == 0
    np.testing.assert_allclose(np.loadtxt(single, delimiter=","), expected[UTTERANCES[0]], atol=1e-4)
    assert run(base + [wavs[0], "-o", str(tmp_path / "one.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "one.npy"), expected[UTTERANCES[0]], atol=1e-4)


def test_librosa_flavor_from_the_command_line(tmp_path, fsdd_dir):
    wav = fsdd_dir / "1_theo_2.wav"
    target = tmp_path / "mel.npy"
    assert run(["features", "fbank", "--flavor", "librosa", "--set", "n_mels=40", "--set", "n_fft=512",
                str(wav), "-o", str(target), "--no-progress"]) == 0
    wave, rate = soundfile.read(wav, dtype="int16")
    np.testing.assert_allclose(np.load(target), features.librosa_melspectrogram(wave, rate, n_mels=40, n_fft=512),
                               atol=1e-3)
    assert run(["features", "mfcc", "--flavor", "librosa", "--num-ceps", "13", str(wav), "-o", str(target)]) == 1


def make_bad_inputs(folder: Path) -> dict[str, Path]:
    """One file per kind of bad input the feature commands must name in a one-line error."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    speech = (rng.normal(0, 0.1, 8000)).astype(np.float32)
    bad = {name: folder / f"{name}.wav" for name in ("corrupt", "empty", "short", "stereo", "nan", "rate16k")}
    bad["corrupt"].write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage" + bytes(rng.integers(0, 255, 64, np.uint8)))
    soundfile.write(bad["empty"], np.zeros(0, np.float32), 8000, subtype="PCM_16")
    soundfile.write(bad["short"], speech[:150], 8000, subtype="PCM_16")
    soundfile.write(bad["stereo"], np.stack([speech, speech[::-1]], axis=1), 8000, subtype="PCM_16")
    with_nan = speech.copy()
    with_nan[100] = np.nan
    soundfile.write(bad["nan"], with_nan, 8000, subtype="FLOAT")
    soundfile.write(bad["rate16k"], np.tile(speech, 2), 16000, subtype="PCM_16")
    bad["missing"] = folder / "missing.wav"
    return bad


@pytest.mark.parametrize("name", ["missing", "corrupt", "empty", "short", "stereo", "nan", "rate16k"])
def test_bad_audio_is_a_one_line_error_naming_the_file(name, tmp_path, capsys):
    path = make_bad_inputs(tmp_path / "bad")[name]
    code = run(["features", "mfcc", str(path), "--sample-frequency", "8000", "-o", str(tmp_path / "x.npy"),
                "--no-progress"])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 1
    assert error.startswith("asr: error: ") and str(path) in error
    assert not (tmp_path / "x.npy").exists()


def test_channel_and_resample_options_fix_what_they_name(tmp_path):
    bad = make_bad_inputs(tmp_path / "bad")
    out = tmp_path / "x.npy"
    assert run(["features", "mfcc", str(bad["stereo"]), "--channel", "1", "-o", str(out), "--no-progress"]) == 0
    assert np.load(out).shape == (98, 13)
    assert run(["features", "mfcc", str(bad["rate16k"]), "--sample-frequency", "8000", "--allow-resample",
                "-o", str(out), "--no-progress"]) == 0
    assert np.load(out).shape == (98, 13)  # 1 s at 16 kHz, resampled to 8 kHz


def test_skip_errors_and_failed_runs_keep_a_valid_scp(data_dir, tmp_path, fsdd_dir, capsys):
    args = ["features", "mfcc", str(data_dir), "--sample-frequency=8000", "--dither=0", "--no-progress"]
    assert run(args) == 0
    before = dict(kaldiio.load_scp(str(data_dir / "feats.scp")))
    bad = make_bad_inputs(tmp_path / "bad")
    entries = {utt: str(fsdd_dir / f"{utt}.wav") for utt in UTTERANCES}
    write_data_dir(data_dir, {**entries, "3_zz_corrupt": str(bad["corrupt"]), "4_zz_short": str(bad["short"])})
    capsys.readouterr()
    assert run(args) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "corrupt.wav" in error
    # the failed run left the previous features intact and readable, and no partial archives
    after = dict(kaldiio.load_scp(str(data_dir / "feats.scp")))
    assert sorted(after) == sorted(before)
    for utt in before:
        np.testing.assert_array_equal(after[utt], before[utt])
    assert not list(data_dir.glob("*.partial")) and not list(data_dir.glob(".*tmp*"))
    assert run(args + ["--skip-errors"]) == 0
    captured = capsys.readouterr()
    assert "2 failed" in captured.out and "short.wav" in captured.err
    assert sorted(dict(kaldiio.load_scp(str(data_dir / "feats.scp")))) == UTTERANCES


def test_interrupted_run_leaves_the_previous_scp_valid(data_dir, monkeypatch):
    args = ["features", "mfcc", str(data_dir), "--sample-frequency=8000", "--dither=0", "--no-progress"]
    assert run(args) == 0
    before = dict(kaldiio.load_scp(str(data_dir / "feats.scp")))
    import asr.features.extract as runner

    calls = []
    real = runner.compute_features

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs) + 1.0

    monkeypatch.setattr(runner, "compute_features", interrupted)
    assert run(args) == 130
    after = dict(kaldiio.load_scp(str(data_dir / "feats.scp")))
    for utt in before:
        np.testing.assert_array_equal(after[utt], before[utt])
    assert not list(data_dir.glob("*.partial")) and not list(data_dir.glob(".*tmp*"))


def test_cmvn_deltas_and_info_commands(data_dir, tmp_path, capsys):
    assert run(["features", "mfcc", str(data_dir), "--sample-frequency=8000", "--dither=0", "--no-progress"]) == 0
    feats = dict(kaldiio.load_scp(str(data_dir / "feats.scp")))
    assert run(["features", "cmvn", "compute", str(data_dir)]) == 0
    stats = dict(kaldiio.load_scp(str(data_dir / "cmvn.scp")))
    assert sorted(stats) == ["jackson", "nicolas", "theo"]
    theo = np.concatenate([feats["1_theo_2"], feats["5_theo_4"]]).astype(np.float64)
    np.testing.assert_allclose(stats["theo"], features.compute_cmvn_stats(theo), rtol=1e-6)
    assert run(["features", "cmvn", "apply", str(data_dir), "--norm-vars", "-o", str(tmp_path / "norm.ark")]) == 0
    normalized = dict(kaldiio.load_ark(str(tmp_path / "norm.ark")))
    np.testing.assert_allclose(normalized["1_theo_2"], (feats["1_theo_2"] - theo.mean(0)) / theo.std(0), atol=1e-4)
    assert run(["features", "cmvn", "compute", str(data_dir), "--mode", "global", "-o", str(tmp_path / "g")]) == 0
    assert list(dict(kaldiio.load_scp(str(tmp_path / "g" / "cmvn.scp")))) == ["global"]
    assert run(["features", "deltas", str(data_dir / "feats.scp"), "-o", str(tmp_path / "d.npz")]) == 0
    with np.load(tmp_path / "d.npz") as deltas:
        np.testing.assert_allclose(deltas["0_jackson_0"], features.add_deltas(feats["0_jackson_0"]), atol=1e-5)
    capsys.readouterr()
    assert run(["features", "info", str(tmp_path / "d.npz")]) == 0
    assert f"{len(UTTERANCES)} matrices, dim 39" in capsys.readouterr().out


def test_compressed_features_are_a_third_of_the_disk_and_kaldiio_reads_them(data_dir, tmp_path, fsdd_dir, capsys):
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    common = ["features", "fbank", str(data_dir), "--sample-frequency=8000", "--dither=0", "--no-progress", "--nj", "2"]
    assert run([*common, "-o", str(plain)]) == 0
    assert run([*common, "-o", str(packed), "--compress"]) == 0
    size = {d: sum(p.stat().st_size for p in d.glob("*.ark")) for d in (plain, packed)}
    assert size[packed] < 0.35 * size[plain]  # 1 byte a value + 8 per column (these utterances are short)
    exact, ours = dict(kaldiio.load_scp(str(plain / "feats.scp"))), dict(kaldiio.load_scp(str(packed / "feats.scp")))
    for utt in UTTERANCES:  # 8 bits a value between per-column percentiles: within 1/63 of the column's range
        column_range = exact[utt].max(axis=0) - exact[utt].min(axis=0)
        assert np.all(np.abs(ours[utt] - exact[utt]) <= column_range / 63 + 1e-3)
    capsys.readouterr()
    wav = fsdd_dir / f"{UTTERANCES[0]}.wav"
    assert run(["features", "fbank", str(wav), "-o", str(tmp_path / "f.npz"), "--compress", "--no-progress"]) == 1
    assert "only an .ark holds" in capsys.readouterr().err and not (tmp_path / "f.npz").exists()
