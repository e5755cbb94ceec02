"""Run by test_distributed.py under torchrun: train the synthetic corpus with DDP, save this rank's weights."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_corpus import DIM, LETTERS, in_memory  # noqa: E402

from asr.models import build_model  # noqa: E402
from asr.training.config import TrainConfig  # noqa: E402
from asr.training.distributed import init_distributed, shutdown  # noqa: E402
from asr.training.trainer import Trainer  # noqa: E402

# rnn (no BatchNorm, whose batch statistics are per process), no dropout or SpecAugment (per-process draws):
# then a 2-process run computes exactly the single-process gradient of each global batch. Plain SGD, whose step
# scales with the gradient (Adam's would hide a wrongly scaled loss).
CONFIG = dict(model="rnn", hidden_size=8, num_layers=1, epochs=2, max_frames=200, dropout=0.0, spec_augment=False,
              optimizer="sgd", lr=0.5, warmup_steps=2)
NUM_UNITS = 3 + len(LETTERS)


def train(out_dir: Path, context=None) -> Trainer:
    torch.set_num_threads(1)
    data, _ = in_memory(24)
    config = TrainConfig(**CONFIG)
    torch.manual_seed(config.seed)
    trainer = Trainer(config, build_model(config, DIM, NUM_UNITS), data, None, out_dir, context=context,
                      progress=False)
    trainer.fit()
    return trainer


if __name__ == "__main__":
    out = Path(sys.argv[1])
    context = init_distributed("cpu")
    trainer = train(out, context)
    torch.save(trainer.model.state_dict(), out / f"rank{context.rank}.pt")
    shutdown(context)
