"""`asr train` and `asr average` from the command line, including SIGKILL and --resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from synthetic_corpus import write_corpus

from asr.cli import main

REPO = Path(__file__).resolve().parents[2]
TINY = ["--model", "crnn", "--hidden-size", "16", "--num-layers", "1", "--conv-channels", "4", "--max-frames", "100",
        "--lr", "0.01", "--warmup-steps", "4", "--no-progress"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-corpus")
    train, valid, lang = write_corpus(root)
    return ["--train", str(train), "--valid", str(valid), "--lang", str(lang), "--feature-type", "mfcc",
            "--feature-config", str(root / "mfcc.conf")]


def _log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def test_flags_override_the_config_file_and_validation_is_logged(corpus, tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text("hidden-size: 8\nepochs: 5\noptimizer: adamw\n")
    out = tmp_path / "exp"
    main(["train", "--config", str(config), *corpus, *TINY[4:], "--epochs", "2", "--out", str(out)])
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert (resolved["hidden_size"], resolved["epochs"], resolved["optimizer"]) == (8, 2, "adamw")
    log = _log(out)
    assert [r["epoch"] for r in log] == [1, 2]
    assert {"train_loss", "valid_loss", "cer", "wer", "frames_per_s"} <= set(log[-1])


def test_an_existing_run_needs_resume_and_resume_keeps_the_options(corpus, tmp_path, capsys):
    out = tmp_path / "exp"
    main(["train", *corpus, *TINY, "--epochs", "1", "--out", str(out)])
    with pytest.raises(SystemExit) as exit_info:
        main(["train", *corpus, *TINY, "--epochs", "1", "--out", str(out)])
    assert exit_info.value.code == 1
    assert "pass --resume" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", *corpus, *TINY, "--epochs", "2", "--hidden-size", "32", "--out", str(out), "--resume"])
    assert "hidden_size=16->32" in capsys.readouterr().err
    main(["train", *corpus, *TINY, "--epochs", "2", "--out", str(out), "--resume"])  # more epochs: allowed
    assert [r["epoch"] for r in _log(out)] == [1, 2]


def test_init_model_fine_tunes_from_another_model_directory(corpus, tmp_path, capsys):
    """--init-model starts from a trained model's weights: its first epoch starts far below a random start's
    loss; other units or another network are refused with the fix."""
    base = tmp_path / "base"
    main(["train", *corpus, *TINY, "--epochs", "4", "--out", str(base)])
    tuned = tmp_path / "tuned"
    main(["train", *corpus, *TINY, "--epochs", "1", "--lr", "1e-6", "--warmup-steps", "0", "--init-model", str(base),
          "--out", str(tuned)])
    assert _log(tuned)[0]["valid_loss"] == pytest.approx(_log(base)[-1]["valid_loss"], rel=0.05)
    assert yaml.safe_load((tuned / "config.yaml").read_text())["init_model"] == str(base)
    with pytest.raises(SystemExit):
        main(["train", *corpus, *TINY, "--hidden-size", "8", "--init-model", str(base), "--out", str(tmp_path / "x")])
    assert "its network differs from this config's" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", *corpus, *TINY, "--init-model", str(tmp_path), "--out", str(tmp_path / "y")])
    assert "no model.pt there" in capsys.readouterr().err


def test_init_model_transfers_to_other_units_by_unit_name(corpus, tmp_path):
    """Transfer to a lang with other units (another corpus's): a shared unit's output row comes from the same unit
    of the other model, wherever it sits in tokens.txt, and a new unit starts at random."""
    from asr.units import load_tokenizer, train_tokenizer

    base = tmp_path / "base"
    main(["train", *corpus, *TINY, "--epochs", "4", "--out", str(base)])
    lang = tmp_path / "lang_apostrophe"  # "'" sorts before the letters: every letter moves one row down
    train_tokenizer("char", ["'abcd"]).save(lang)
    theirs, ours = load_tokenizer(base / "lang").tokens, load_tokenizer(lang).tokens
    assert ours.index("a") != theirs.index("a")
    options = [*corpus[:corpus.index("--lang")], *corpus[corpus.index("--lang") + 2:]]
    tuned = tmp_path / "tuned"
    main(["train", *options, "--lang", str(lang), *TINY, "--epochs", "1", "--lr", "1e-6", "--warmup-steps", "0",
          "--init-model", str(base), "--out", str(tuned)])
    before = torch.load(base / "checkpoints" / "epoch-0004.pt", weights_only=True)["model"]
    after = torch.load(tuned / "checkpoints" / "epoch-0001.pt", weights_only=True)["model"]
    for token in ("<blk>", "a", "b", "c", "d"):
        torch.testing.assert_close(after["output.weight"][ours.index(token)],
                                   before["output.weight"][theirs.index(token)], atol=1e-4, rtol=0)
    new_row = after["output.weight"][ours.index("'")]
    assert not any(torch.allclose(new_row, row, atol=1e-3) for row in before["output.weight"])
    for name, value in before.items():  # the rest of the network is the other model's (batch norm's running
        if not name.startswith("output.") and "running_" not in name and value.is_floating_point():  # stats move
            torch.testing.assert_close(after[name], value, atol=1e-4, rtol=0)


def test_average_command_writes_the_mean_of_the_last_epochs(corpus, tmp_path):
    out = tmp_path / "exp"
    main(["train", *corpus, *TINY, "--epochs", "3", "--out", str(out)])
    main(["average", str(out), "--last", "2", "--output", str(tmp_path / "avg.pt")])
    averaged = torch.load(tmp_path / "avg.pt", weights_only=True)
    states = [torch.load(out / "checkpoints" / f"epoch-000{e}.pt", weights_only=True)["model"] for e in (2, 3)]
    for name, value in averaged.items():
        if value.is_floating_point():
            torch.testing.assert_close(value, (states[0][name] + states[1][name]) / 2)


def _train_command(corpus: list[str], out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "asr", "train", *corpus, *TINY, "--epochs", "6", "--checkpoint-every", "3",
            "--out", str(out), *extra]


@pytest.mark.slow
def test_sigkill_then_resume_ends_with_the_same_weights(corpus, tmp_path):
    """Dropout, SpecAugment and shuffling on; the run is killed -9 right after its first step checkpoint."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    subprocess.run(_train_command(corpus, tmp_path / "full"), check=True, env=env, capture_output=True)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_train_command(corpus, killed), env=env, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "checkpoints/step-" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "checkpoints" / "epoch-0006.pt").exists(), "the run finished before the kill"
    subprocess.run(_train_command(corpus, killed, "--resume"), check=True, env=env, capture_output=True)
    full = torch.load(tmp_path / "full" / "model.pt", weights_only=True)
    resumed = torch.load(killed / "model.pt", weights_only=True)
    assert all(torch.equal(full[name], resumed[name]) for name in full)
    keys = ("epoch", "global_step", "train_loss", "valid_loss", "cer", "wer")
    assert [[r[k] for k in keys] for r in _log(killed)] == [[r[k] for k in keys] for r in _log(tmp_path / "full")]


@pytest.mark.parametrize("flag, value", [("--lr", "nan"), ("--weight-decay", "inf"), ("--min-lr", "inf")])
def test_non_finite_numbers_are_refused_before_training(corpus, tmp_path, capsys, flag, value):
    out = tmp_path / "exp"
    with pytest.raises(SystemExit) as exit_info:
        main(["train", *corpus, *TINY, flag, value, "--out", str(out)])
    assert exit_info.value.code == 1
    assert f"{flag[2:].replace('-', '_')}=" in capsys.readouterr().err and not out.exists()
