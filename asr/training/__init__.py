"""CTC acoustic-model training: config, data, loop, checkpoints, distributed setup, model directories."""

from __future__ import annotations

from asr.training.config import TrainConfig
from asr.training.modeldir import ModelDir, load_model_dir

__all__ = ["TrainConfig", "ModelDir", "load_model_dir", "train"]


def train(*args, **kwargs):
    """See `asr.training.trainer.run_training`."""
    from asr.training.trainer import run_training

    return run_training(*args, **kwargs)
