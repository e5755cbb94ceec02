"""A plain `pip install asr` has no torch: features, LMs, scoring and ONNX transcription work; what needs torch
says which extra to install, in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tone_model import build_tone_model_dir, spell, synthesize, write_wav

REPO = Path(__file__).resolve().parents[2]
# `import torch` fails in this interpreter as it does where torch is not installed (ModuleNotFoundError)
WITHOUT_TORCH = ("import sys; sys.modules['torch'] = None; sys.modules['torchaudio'] = None; "
                 "from asr.cli import main; sys.argv[0] = 'asr'; main(sys.argv[1:])")


def asr_without_torch(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_TORCH, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def tone(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A trained (model.pt) tone model, its ONNX export, and a wav it transcribes as "ab ba"."""
    pytest.importorskip("onnx", reason="the [onnx] extra (pip install 'asr[onnx]')")
    from asr.export import export_model_dir

    root = tmp_path_factory.mktemp("tone")
    trained = build_tone_model_dir(root / "exp")
    wav = write_wav(root / "a.wav", synthesize(trained, spell(trained, "ab ba")))
    return trained, export_model_dir(trained, root / "onnx"), wav


def test_features_lm_and_onnx_transcription_run_without_torch(tone, tmp_path) -> None:
    _, onnx_dir, wav = tone
    assert asr_without_torch("features", "fbank", "--dither", "0", wav, "-o", tmp_path / "a.npy",
                             cwd=tmp_path).returncode == 0
    assert np.load(tmp_path / "a.npy").shape[1] == 23
    (tmp_path / "text").write_text("u1 ab ba\nu2 ba ab\n")
    assert asr_without_torch("lm", "train", tmp_path / "text", tmp_path / "lm.arpa", cwd=tmp_path).returncode == 0
    result = asr_without_torch("transcribe", "--model", onnx_dir, wav, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["ab", "ba"]


@pytest.mark.parametrize("command", ["train", "decode", "transcribe"])
def test_what_needs_torch_names_the_extra_in_one_line(tone, tmp_path, command) -> None:
    trained, _, wav = tone
    args = {"train": ["train", "--train", tmp_path, "--lang", trained / "lang", "--out", tmp_path / "exp"],
            "decode": ["decode", "--model", trained, tmp_path],
            "transcribe": ["transcribe", "--model", trained, wav]}[command]
    if command == "decode":
        (tmp_path / "wav.scp").write_text(f"u1 {wav}\n")
        (tmp_path / "utt2spk").write_text("u1 u1\n")
    result = asr_without_torch(*args, cwd=tmp_path)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("asr: error:")]
    assert len(errors) == 1 and "pip install 'asr[train]'" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
