"""`asr plot curves`: an image from log.jsonl; a damaged log is a user error naming the line."""

from __future__ import annotations

import json

import pytest

from asr.cli import main
from asr.errors import AsrError


def test_curves_image_from_the_log(tmp_path, capsys):
    records = [{"epoch": e, "global_step": 10 * e, "train_loss": 3.0 / e, "valid_loss": 2.5 / e, "cer": 50.0 / e,
                "wer": 80.0 / e, "elapsed_s": 5.0 * e} for e in range(1, 5)]
    (tmp_path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    main(["plot", "curves", str(tmp_path)])
    import matplotlib.image

    image = matplotlib.image.imread(tmp_path / "curves.png")
    assert image.shape[0] > 200 and image.shape[1] > 600  # two panels side by side
    assert "curves.png" in capsys.readouterr().out


def test_a_damaged_log_names_the_line(tmp_path):
    from asr.plot import read_log

    (tmp_path / "log.jsonl").write_text('{"epoch": 1, "train_loss": 2.0}\n{"epoch": 2, "tra\n')
    with pytest.raises(AsrError, match=r"log.jsonl:2"):
        read_log(tmp_path)
    with pytest.raises(AsrError, match="missing"):
        read_log(tmp_path / "nowhere")
