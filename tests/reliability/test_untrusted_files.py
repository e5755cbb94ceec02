"""Untrusted files, through the real CLI: a model.pt / checkpoint / .npy carrying a pickle payload is refused and
never executed; a wav.scp command runs only with --allow-pipes; paths and ids in a stranger's data files (and
symlinks shipped inside a data dir) cannot make us write outside the output directory.

The payload is an object whose unpickling calls `open(marker, "w")`: harmless, but it leaves a file behind if it
ever runs, so every test asserts the marker does not exist."""

from __future__ import annotations

import builtins
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from asr.datadir import DataDir, write_data_dir
from asr.kaldi_io import read_kaldi_map
from reliability_cli import run_main, write_tone
from synthetic_corpus import write_corpus
from tone_model import build_tone_model_dir, spell, synthesize, write_wav

TEXTS = {"a-1": "ab ba", "a-2": "cd dc ab", "b-3": "d c"}


class Payload:
    """Unpickling this calls open(marker, "w"): the file appears only if the pickle is executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.open, (self.marker, "w")


def save_payload(path: Path, marker: Path, wrap=lambda p: p) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(wrap(Payload(marker)), path)


@pytest.fixture(scope="module")
def tone(tmp_path_factory) -> tuple[Path, Path, dict[str, Path]]:
    """(model dir, data dir, wavs) of the controllable tone model (tests/tone_model.py)."""
    root = tmp_path_factory.mktemp("untrusted")
    model = build_tone_model_dir(root / "exp" / "tone")
    wavs = {k: write_wav(root / f"{k}.wav", synthesize(model, spell(model, t), seed=i))
            for i, (k, t) in enumerate(TEXTS.items())}
    write_data_dir(root / "data", DataDir(wav_scp={k: str(v) for k, v in wavs.items()}, text=dict(TEXTS),
                                          utt2spk={k: k.split("-")[0] for k in TEXTS}))
    return model, root / "data", wavs


@pytest.fixture
def model_copy(tone, tmp_path) -> Path:
    import shutil

    return Path(shutil.copytree(tone[0], tmp_path / "model"))


def _one_error_line(capsys, *names: object) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("asr: error:")]
    assert len(lines) == 1, err
    for name in names:
        assert str(name) in lines[0], (name, lines[0])
    return lines[0]


# ------------------------------------------------------------------------------------------ pickle payloads
PAYLOAD_SHAPES = {
    "bare-object": lambda p: p,
    "inside-a-state-dict": lambda p: {"rnn.rnn.weight_ih_l0": torch.zeros(2), "evil": p},
    "nested-in-a-list": lambda p: {"output.weight": [torch.zeros(1), {"x": p}]},
}


@pytest.mark.parametrize("shape", sorted(PAYLOAD_SHAPES))
@pytest.mark.parametrize("command", ["decode", "transcribe"])
def test_model_pt_with_a_pickle_payload_is_refused(tone, model_copy, tmp_path, capsys, shape, command) -> None:
    _, data, wavs = tone
    marker = tmp_path / "PWNED"
    save_payload(model_copy / "model.pt", marker, PAYLOAD_SHAPES[shape])
    argv = (["decode", "--model", model_copy, "--out", tmp_path / "dec", "--no-progress", data]
            if command == "decode" else ["transcribe", "--model", model_copy, "--no-progress", wavs["a-1"]])
    assert run_main(argv) == 1
    _one_error_line(capsys, model_copy / "model.pt", "pickled objects")
    assert not marker.exists()
    assert not (tmp_path / "dec" / "text").exists()


def test_the_unmodified_model_decodes(tone, model_copy, tmp_path, capsys) -> None:
    """Control for the payload tests: the same command on the intact copy works."""
    _, data, _ = tone
    assert run_main(["decode", "--model", model_copy, "--out", tmp_path / "dec", "--no-progress", data]) == 0
    assert read_kaldi_map(tmp_path / "dec" / "text", is_text=True) == TEXTS


def test_a_decode_dir_symlink_shipped_in_a_model_dir_is_not_written_through(tone, model_copy, tmp_path,
                                                                            capsys) -> None:
    """A model directory from elsewhere holding `decode_data -> /some/dir`: the default output dir of `asr decode`
    would write there, so it is refused; an --out the user names is theirs to choose."""
    _, data, _ = tone
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "text").write_text("precious\n")
    (model_copy / f"decode_{data.name}").symlink_to(victim, target_is_directory=True)
    before = _tree(victim)
    assert run_main(["decode", "--model", model_copy, "--no-progress", data]) == 1
    assert _tree(victim) == before and (victim / "text").read_text() == "precious\n"
    _one_error_line(capsys, model_copy / f"decode_{data.name}", "symbolic link")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, list[str]]:
    """A 1-epoch tiny run of `asr train` (synthetic corpus of tests/training) and its argv."""
    root = tmp_path_factory.mktemp("train")
    train, valid, lang = write_corpus(root)
    argv = ["train", "--train", train, "--lang", lang, "--feature-type", "mfcc", "--feature-config",
            root / "mfcc.conf", "--model", "rnn", "--hidden-size", "8", "--num-layers", "1", "--max-frames", "400",
            "--no-progress", "--device", "cpu"]
    assert run_main([*argv, "--out", root / "exp", "--epochs", "1"]) == 0
    return root / "exp", argv


@pytest.mark.parametrize("target", ["epoch-checkpoint", "step-checkpoint"])
def test_resume_refuses_a_checkpoint_with_a_pickle_payload(trained, tmp_path, capsys, target) -> None:
    import shutil

    exp, argv = trained
    out = Path(shutil.copytree(exp, tmp_path / "exp"))
    marker = tmp_path / "PWNED"
    name = "epoch-0001.pt" if target == "epoch-checkpoint" else "step-00000099.pt"
    wrap = (lambda p: {"format": "asr-checkpoint-1", "global_step": 99, "model": p}) \
        if target == "step-checkpoint" else (lambda p: p)
    save_payload(out / "checkpoints" / name, marker, wrap)
    assert run_main([*argv, "--out", out, "--epochs", "2", "--resume"]) == 1
    _one_error_line(capsys, out / "checkpoints", "pickled objects")
    assert not marker.exists()


def test_average_refuses_a_checkpoint_with_a_pickle_payload(trained, tmp_path, capsys) -> None:
    import shutil

    exp, _ = trained
    out = Path(shutil.copytree(exp, tmp_path / "exp"))
    marker = tmp_path / "PWNED"
    save_payload(out / "checkpoints" / "epoch-0001.pt", marker)
    assert run_main(["average", out, "--last", "1"]) == 1
    _one_error_line(capsys, "epoch-0001.pt")
    assert not marker.exists()


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_feature_files_with_pickled_objects_are_refused(tmp_path, capsys, suffix) -> None:
    """np.save of an object array pickles it; `asr features info/deltas` must not unpickle it."""
    marker = tmp_path / "PWNED"
    evil = tmp_path / f"evil{suffix}"
    array = np.array([Payload(marker), 1], dtype=object)
    if suffix == ".npy":
        np.save(evil, array, allow_pickle=True)
    else:
        np.savez(evil, feats=array)
    for argv in (["features", "info", evil], ["features", "deltas", evil, "-o", tmp_path / "d.ark"]):
        assert run_main(argv) == 1
        _one_error_line(capsys, evil)
    assert not marker.exists()


# ------------------------------------------------------------------------------------------ wav.scp commands
def _pipe_data_dir(tmp_path: Path, marker: Path, segments: bool = False) -> Path:
    """A data dir whose second recording is `cmd |`, the command writing the marker and then a real WAV."""
    good = write_tone(tmp_path / "good.wav", rate=8000)
    data = tmp_path / "data"
    data.mkdir()
    command = f"touch {marker} && cat {good} |"
    if segments:
        (data / "wav.scp").write_text(f"rec1 {good}\nrec2 {command}\n")
        (data / "segments").write_text("spk-1 rec1 0.0 0.4\nspk-2 rec2 0.0 0.4\n")
    else:
        (data / "wav.scp").write_text(f"spk-1 {good}\nspk-2 {command}\n")
    (data / "utt2spk").write_text("spk-1 spk\nspk-2 spk\n")
    (data / "spk2utt").write_text("spk spk-1 spk-2\n")
    (data / "text").write_text("spk-1 ab\nspk-2 ba\n")
    return data


@pytest.mark.parametrize("segments", [False, True], ids=["plain", "via-segments"])
def test_wav_scp_command_runs_only_with_allow_pipes(tmp_path, capsys, segments) -> None:
    marker = tmp_path / "RAN"
    data = _pipe_data_dir(tmp_path, marker, segments)
    assert run_main(["features", "mfcc", data, "--sample-frequency", "8000", "--no-progress"]) == 1
    _one_error_line(capsys, "--allow-pipes")
    assert not marker.exists() and not (data / "feats.scp").exists()
    assert run_main(["data", "validate", data]) == 0  # validation never runs commands
    # utt2dur reads headers: refused for a pipe, while segments give the durations without touching the audio
    assert run_main(["data", "utt2dur", data]) == (0 if segments else 1)
    assert not marker.exists()
    assert run_main(["features", "mfcc", data, "--sample-frequency", "8000", "--no-progress", "--allow-pipes"]) == 0
    assert marker.exists() and sorted(read_kaldi_map(data / "feats.scp")) == ["spk-1", "spk-2"]


def test_decode_and_train_refuse_wav_scp_commands(tone, trained, tmp_path, capsys) -> None:
    model, _, _ = tone
    marker = tmp_path / "RAN"
    data = _pipe_data_dir(tmp_path, marker)
    assert run_main(["decode", "--model", model, "--out", tmp_path / "dec", "--no-progress", data]) == 1
    _one_error_line(capsys, "--allow-pipes")
    assert not marker.exists()
    _, argv = trained
    argv = [data if a == argv[argv.index("--train") + 1] else a for a in argv]  # same run, this data dir
    assert run_main([*argv, "--out", tmp_path / "exp", "--epochs", "1"]) == 1
    _one_error_line(capsys, "--allow-pipes")
    assert not marker.exists()


# ------------------------------------------------------------------------------------------ paths in data files
def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under root (symlinks not followed) -> (size, mtime_ns): what a write would change."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            found[os.path.relpath(p, root)] = (st.st_size, st.st_mtime_ns)
    return found


def _changed(before: dict, after: dict) -> set[str]:
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


HOSTILE_IDS = ["spk-..", "spk-../../escape", "spk-/abs/olute", "spk-a/b"]


def test_ids_with_slashes_and_dots_stay_inside_the_output_dirs(tone, tmp_path, capsys) -> None:
    """Utterance ids like `spk-../../escape`: features and decoding write only into the data/decode dirs."""
    model, _, _ = tone
    box = tmp_path / "box"
    (box / "audio").mkdir(parents=True)
    wavs = {u: write_wav(box / "audio" / f"{i}.wav", synthesize(model, spell(model, "ab ba"), seed=i))
            for i, u in enumerate(HOSTILE_IDS)}
    data = box / "work" / "data"
    write_data_dir(data, DataDir(wav_scp={u: str(w) for u, w in wavs.items()}, text={u: "ab ba" for u in wavs},
                                 utt2spk={u: "spk" for u in wavs}))
    before = _tree(tmp_path)
    assert run_main(["features", "fbank", data, "--sample-frequency", "8000", "--dither", "0", "--num-mel-bins",
                     "23", "--no-progress"]) == 0
    assert run_main(["decode", "--model", model, "--out", box / "work" / "dec", "--no-progress", data]) == 0
    assert run_main(["data", "split", data, "2"]) == 0
    assert run_main(["data", "fix", data]) == 0
    changed = _changed(before, _tree(tmp_path))
    assert changed and all(c.startswith(("box/work/data/", "box/work/dec/")) for c in changed), sorted(changed)
    assert sorted(read_kaldi_map(data / "feats.scp")) == sorted(HOSTILE_IDS)
    assert set(read_kaldi_map(box / "work" / "dec" / "text", is_text=True)) == set(HOSTILE_IDS)


def test_paths_in_feats_scp_are_only_read(tmp_path, capsys) -> None:
    """feats.scp naming `../../x.ark:N` and an absolute path outside the dir: cmvn and deltas read them, and write
    only their own outputs."""
    from asr.kaldi_io import ArkWriter

    outside = tmp_path / "elsewhere"
    with ArkWriter(outside / "x.ark", outside / "x.scp") as writer:
        for key in ("spk-1", "spk-2"):
            writer.write(key, np.random.default_rng(0).normal(size=(20, 13)).astype(np.float32))
    specs = read_kaldi_map(outside / "x.scp")
    data = tmp_path / "deep" / "er" / "data"
    data.mkdir(parents=True)
    relative = os.path.relpath(specs["spk-1"], data.parent)  # relative to where the command runs
    (data / "feats.scp").write_text(f"spk-1 {relative}\nspk-2 {specs['spk-2']}\n")
    (data / "utt2spk").write_text("spk-1 spk\nspk-2 spk\n")
    before = _tree(tmp_path)
    cwd = os.getcwd()
    os.chdir(data.parent)
    try:
        assert run_main(["features", "cmvn", "compute", "data"]) == 0
        assert run_main(["features", "deltas", "data", "-o", "data/deltas.ark"]) == 0
    finally:
        os.chdir(cwd)
    changed = _changed(before, _tree(tmp_path))
    assert changed and all(c.startswith("deep/er/data/") for c in changed), sorted(changed)


@pytest.mark.parametrize("link", [".backup", "split2", "split2/1"])
def test_symlinks_shipped_in_a_data_dir_do_not_redirect_our_writes(tmp_path, capsys, link) -> None:
    """A data dir from elsewhere holding `.backup -> /some/dir` (or split2 -> ...): `asr data fix` / `split` must
    not write into the link's target."""
    data = tmp_path / "data"
    good = write_tone(tmp_path / "a.wav", rate=8000)
    write_data_dir(data, DataDir(wav_scp={"s-1": str(good), "s-2": str(good)}, text={"s-1": "a", "s-2": "b"},
                                 utt2spk={"s-1": "s", "s-2": "s"}))
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "text").write_text("precious\n")
    (data / link).parent.mkdir(parents=True, exist_ok=True)
    (data / link).symlink_to(victim, target_is_directory=True)
    before = _tree(victim)
    code = run_main(["data", "fix", data] if link == ".backup" else ["data", "split", data, "2"])
    assert _tree(victim) == before and (victim / "text").read_text() == "precious\n"
    assert code == 1
    _one_error_line(capsys, data / link, "symbolic link")
