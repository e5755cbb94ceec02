"""`asr plot spectrogram|fbank|mfcc`: an image a viewer opens, sized by the features; bad audio is an error."""

from __future__ import annotations

import pytest

from asr_cli import run_main as run


@pytest.mark.parametrize("kind", ["spectrogram", "fbank", "mfcc"])
def test_plot_writes_a_readable_image(kind, fsdd_dir, tmp_path, capsys):
    matplotlib_image = pytest.importorskip("matplotlib.image")
    target = tmp_path / f"{kind}.png"
    assert run(["plot", kind, str(fsdd_dir / "3_theo_5.wav"), "-o", str(target), "--dither=0"]) == 0
    image = matplotlib_image.imread(target)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 400
    assert image[..., :3].std() > 0.05  # a heat map, not a blank canvas
    assert "21 frames" in capsys.readouterr().out  # 0.22 s at 8 kHz: 21 Kaldi frames


def test_plot_options_and_bad_audio(fsdd_dir, tmp_path, capsys):
    target = tmp_path / "mel.svg"
    assert run(["plot", "fbank", str(fsdd_dir / "3_theo_5.wav"), "-o", str(target), "--num-mel-bins", "40"]) == 0
    assert target.read_text().lstrip().startswith("<?xml")
    assert "x 40" in capsys.readouterr().out
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio at all")
    assert run(["plot", "mfcc", str(broken), "-o", str(tmp_path / "x.png")]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("asr: error:") and str(broken) in error and len(error.splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_without_the_plot_extra_the_error_names_it(fsdd_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)  # as if matplotlib were not installed
    assert run(["plot", "fbank", str(fsdd_dir / "3_theo_5.wav"), "-o", str(tmp_path / "x.png")]) == 1
    error = capsys.readouterr().err.strip()
    assert error == "asr: error: plotting features needs matplotlib, which is not installed: pip install 'asr[plot]'"
    assert not (tmp_path / "x.png").exists()
