"""CTC acoustic-model training: config, data, loop, checkpoints, distributed setup (the model directory it
writes: `asr.modeldir`)."""

from __future__ import annotations

from asr.training.config import TrainConfig

__all__ = ["TrainConfig", "train"]


def train(*args, **kwargs):
    """See `asr.training.trainer.run_training`."""
    from asr.training.trainer import run_training

    return run_training(*args, **kwargs)
