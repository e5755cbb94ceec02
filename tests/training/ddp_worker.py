"""Run by test_distributed.py under torchrun: `asr train`'s run_training on the synthetic corpus (or its sharded
copy, data/train_sharded) with DDP; each rank saves its final weights and the shards its batches came from."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from asr.kaldi_io import archive_of
from asr.training.config import TrainConfig
from asr.training.trainer import run_training

# rnn (no BatchNorm, whose batch statistics are per process), no dropout or SpecAugment (per-process draws):
# then a 2-process run computes exactly the single-process gradient of each global batch. Plain SGD, whose step
# scales with the gradient (Adam's would hide a wrongly scaled loss).
CONFIG = dict(model="rnn", hidden_size=8, num_layers=1, epochs=2, max_frames=200, dropout=0.0, spec_augment=False,
              optimizer="sgd", lr=0.5, warmup_steps=2, feature_type="mfcc", checkpoint_every=3)


def train(corpus: Path, out_dir: Path, train_dir: str = "train"):
    """The synthetic corpus written by synthetic_corpus.write_corpus under `corpus`."""
    config = TrainConfig(**CONFIG, feature_config=str(corpus / "mfcc.conf"))
    return run_training(config, corpus / "data" / train_dir, corpus / "data/valid", corpus / "lang", out_dir,
                        progress=False)


if __name__ == "__main__":
    out = Path(sys.argv[2])
    trainer = train(Path(sys.argv[1]), out, *sys.argv[3:])
    rank, train_set = trainer.context.rank, trainer.train_set
    torch.save(trainer.model.state_dict(), out / f"rank{rank}.pt")
    if train_set.shard_of is not None:
        shard = lambda i: archive_of(train_set.data_dir.feats_scp[train_set.utterances[i].key])[0]  # noqa: E731
        read = [sorted({shard(i) for batch, _ in trainer.epoch_batches(epoch) for i in batch})
                for epoch in range(CONFIG["epochs"])]
        (out / f"rank{rank}_shards.json").write_text(json.dumps(read))
