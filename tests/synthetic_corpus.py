"""A tiny learnable corpus for training tests: every character unit has a prototype feature vector, and an
utterance is its units' prototypes, each held for a few frames, plus noise. Written as real Kaldi data
directories (feats.ark/scp, text, utt2spk) and a character lang/ directory, so the CLI reads it like any
corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asr.datadir import DataDir, write_data_dir
from asr.kaldi_io import ArkWriter
from asr.units import train_tokenizer

LETTERS = "abcd"
DIM = 6


def sentences(count: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join("".join(rng.choice(list(LETTERS), rng.integers(1, 3))) for _ in range(rng.integers(1, 3)))
            for _ in range(count)]


def features_for(ids: list[int], rng: np.random.Generator, prototypes: np.ndarray) -> np.ndarray:
    """Each unit's prototype for 4-6 frames, with 2 frames of the blank's prototype (a pause) between units,
    so that a doubled letter is audible as two."""
    pause = np.repeat(prototypes[0][None], 2, axis=0)
    frames = [pause]
    for i in ids:
        frames += [np.repeat(prototypes[i][None], rng.integers(4, 7), axis=0), pause]
    feats = np.concatenate(frames)
    return (feats + rng.normal(0.0, 0.3, feats.shape)).astype(np.float32)


def write_corpus(root: Path, *, train: int = 32, valid: int = 8, seed: int = 0) -> tuple[Path, Path, Path]:
    """Write root/data/{train,valid}, root/lang and root/mfcc.conf (the options whose MFCCs have DIM
    dimensions, recorded as "how the features were made"); return the data and lang paths."""
    (root / "mfcc.conf").write_text(f"--num-ceps={DIM}\n--sample-frequency=8000\n")
    texts = {"train": sentences(train, seed), "valid": sentences(valid, seed + 1)}
    tokenizer = train_tokenizer("char", texts["train"] + list(LETTERS))
    tokenizer.save(root / "lang")
    prototypes = np.random.default_rng(seed + 2).normal(0.0, 2.0, (len(tokenizer.tokens), DIM))
    rng = np.random.default_rng(seed + 3)
    for name, lines in texts.items():
        folder = root / "data" / name
        folder.mkdir(parents=True)
        keys = [f"spk{i % 2}-{name}{i:03d}" for i in range(len(lines))]
        with ArkWriter(folder / "feats.ark", folder / "feats.scp") as writer:
            for key, text in sorted(zip(keys, lines)):
                writer.write(key, features_for(tokenizer.encode(text), rng, prototypes))
        write_data_dir(folder, DataDir(path=folder, text=dict(zip(keys, lines)),
                                       utt2spk={k: k.split("-")[0] for k in keys},
                                       feats_scp=dict(line.split(" ", 1) for line in
                                                      (folder / "feats.scp").read_text().splitlines())))
    return root / "data" / "train", root / "data" / "valid", root / "lang"


def in_memory(count: int, *, seed: int = 0):
    """(DataSet, CharTokenizer) of the same kind of corpus, without files, for trainer unit tests."""
    from asr.training.dataset import DataSet, TrainingExample

    lines = sentences(count, seed)
    tokenizer = train_tokenizer("char", list(LETTERS))
    prototypes = np.random.default_rng(2).normal(0.0, 2.0, (len(tokenizer.tokens), DIM))
    rng = np.random.default_rng(seed + 3)
    utterances = []
    for i, text in enumerate(lines):
        ids = tokenizer.encode(text)
        utterances.append(TrainingExample(f"utt{i:03d}", features_for(ids, rng, prototypes), np.asarray(ids),
                                          text))
    return DataSet(f"synthetic{seed}", utterances), tokenizer
