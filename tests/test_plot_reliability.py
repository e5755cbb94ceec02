"""`asr plot reliability`: a reliability diagram from a reference text and a ctm with confidences."""

from __future__ import annotations

from asr_cli import run_main as run


def test_reliability_image_from_a_ctm(tmp_path, capsys):
    (tmp_path / "text").write_text("u1 ONE TWO THREE\nu2 FOUR FIVE\n")
    (tmp_path / "ctm").write_text("u1 1 0.10 0.30 ONE 0.95\nu1 1 0.50 0.20 TOO 0.35\nu1 1 0.90 0.20 THREE 0.75\n"
                                  "u2 1 0.00 0.40 FOUR 0.55\nu2 1 0.40 0.30 SIX 0.15\n")
    out = tmp_path / "reliability.png"
    assert run(["plot", "reliability", tmp_path / "text", tmp_path / "ctm", "-o", out]) == 0
    import matplotlib.image

    image = matplotlib.image.imread(out)
    assert image.shape[0] > 500 and image.shape[1] > 400  # two panels, one above the other
    assert "5 words" in capsys.readouterr().out
    (tmp_path / "ctm").write_text("u1 1 0.10 0.30 ONE\n")
    assert run(["plot", "reliability", tmp_path / "text", tmp_path / "ctm", "-o", tmp_path / "b.png"]) == 1
    assert "have no confidence" in capsys.readouterr().err
    assert not (tmp_path / "b.png").exists()

