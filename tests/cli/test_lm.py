"""`asr lm train` / `asr lm ppl` on real transcripts, and their one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from asr_cli import run_main as run
from asr.lm import read_arpa


@pytest.fixture()
def split_text(speechocean_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    lines = (speechocean_dir / "text").read_text().splitlines()
    train, test = tmp_path / "train.txt", tmp_path / "test.txt"
    train.write_text("\n".join(lines[:2000]) + "\n")
    test.write_text("\n".join(lines[2000:]) + "\n")
    return train, test


def test_train_then_ppl(split_text, tmp_path: Path, capsys):
    train, test = split_text
    ppl = {}
    for smoothing in ("laplace", "kneser_ney"):
        arpa = tmp_path / "lang" / f"{smoothing}.arpa"
        assert run(["lm", "train", "--order", "3", "--smoothing", smoothing, "--cutoffs", "0,0,1",
                    str(train), str(arpa)]) == 0
        assert f"to {arpa}" in capsys.readouterr().err  # the log line says what was written where
        assert read_arpa(arpa).order == 3
        assert not list(arpa.parent.glob(".*.tmp"))  # atomic write leaves no temporary behind
        assert run(["lm", "ppl", "--lm", str(arpa), str(test)]) == 0
        out = capsys.readouterr().out
        assert "500 sentences" in out and "OOVs" in out
        ppl[smoothing] = float(out.split(" ppl= ")[1].split()[0])
    assert ppl["kneser_ney"] < ppl["laplace"]


def test_plain_text_and_vocab(tmp_path: Path):
    text = tmp_path / "plain.txt"
    text.write_text("the cat sat\nthe dog sat\n")
    vocab = tmp_path / "words.txt"
    vocab.write_text("the 1\nsat 2\n")
    arpa = tmp_path / "lm.arpa"
    assert run(["lm", "train", "--no-ids", "--vocab", str(vocab), "--order", "2", str(text), str(arpa)]) == 0
    assert read_arpa(arpa).vocab == {"the", "sat", "<s>", "</s>", "<unk>"}


def test_errors_are_one_line(tmp_path: Path, capsys):
    text = tmp_path / "text"
    text.write_text("utt1 hello world\nutt2 hello </s> world\n")
    assert run(["lm", "train", str(text), str(tmp_path / "lm.arpa")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("asr: error: ") and f"{text}:2" in err and "\n" not in err
    assert not (tmp_path / "lm.arpa").exists()
    assert run(["lm", "ppl", "--lm", str(text), str(text)]) == 1
    assert "no \\data\\" in capsys.readouterr().err
    assert run(["lm", "train", "--cutoffs", "0,x", str(text), str(tmp_path / "lm.arpa")]) == 1
    assert "--cutoffs" in capsys.readouterr().err


def test_counts_and_mix(split_text, tmp_path: Path, capsys):
    """A general model from a count file, mixed with the in-domain one with weights tuned on held-out text."""
    train, test = split_text
    counts = tmp_path / "general.counts"
    counts.write_text("THE 1000\nA 500\nDOG 50\nRAN 40\nTHE DOG 30\nDOG RAN 20\n")
    general, domain, mixed = tmp_path / "general.arpa", tmp_path / "domain.arpa", tmp_path / "mixed.arpa"
    assert run(["lm", "train", "--counts", "--smoothing", "witten_bell", str(counts), str(general)]) == 0
    assert read_arpa(general).order == 2 and "DOG" in read_arpa(general).vocab
    assert run(["lm", "train", "--smoothing", "kneser_ney", str(train), str(domain)]) == 0
    capsys.readouterr()
    assert run(["lm", "mix", "--lm", str(domain), "--lm", str(general), "--tune-text", str(test), str(mixed)]) == 0
    weights = [float(w) for w in capsys.readouterr().out.split("weights:")[1].split()]
    assert weights[0] > weights[1] and sum(weights) == pytest.approx(1.0, abs=1e-3)
    assert read_arpa(mixed).vocab == read_arpa(domain).vocab | read_arpa(general).vocab
    assert run(["lm", "mix", "--lm", str(domain), "--lm", str(general), "--weights", "0.9,0.2", str(mixed)]) == 1
    assert "sum to 1" in capsys.readouterr().err
    counts.write_text("THE 1000\nTHE DOG thirty\n")
    assert run(["lm", "train", "--counts", str(counts), str(general)]) == 1
    assert f"{counts}:2" in capsys.readouterr().err
