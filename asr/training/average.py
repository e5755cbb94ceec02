"""`asr average`: the element-wise mean of several epoch checkpoints' weights (a cheap ensemble that usually
lowers the error of the last epochs' noisy weights)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import torch

from asr.errors import AsrError
from asr.fileio import atomic_path
from asr.training.checkpoint import epoch_checkpoints, load_checkpoint

logger = logging.getLogger(__name__)


def average_state_dicts(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Mean of floating-point tensors (accumulated in float64); integer buffers (BatchNorm's
    num_batches_tracked) are taken from the last state."""
    if not states:
        raise ValueError("nothing to average")
    averaged = {}
    for name, last in states[-1].items():
        if last.is_floating_point():
            total = sum(s[name].to(torch.float64) for s in states)
            averaged[name] = (total / len(states)).to(last.dtype)
        else:
            averaged[name] = last.clone()
    return averaged


def select_checkpoints(model_dir: str | os.PathLike, *, last: int | None = None,
                       best: int | None = None) -> list[Path]:
    """The `last` N epoch checkpoints, or the `best` N by validation loss (in epoch order)."""
    available = epoch_checkpoints(model_dir)
    if not available:
        raise AsrError(f"{Path(model_dir) / 'checkpoints'}: no epoch checkpoints; train first (asr train)")
    if (last is None) == (best is None):
        raise AsrError("pass exactly one of --last N or --best N")
    count = last if last is not None else best
    if count < 1:
        raise AsrError(f"--last/--best {count}: must be at least 1")
    if count > len(available):
        raise AsrError(f"{Path(model_dir) / 'checkpoints'}: asked for {count} checkpoints, only "
                       f"{len(available)} epoch checkpoints exist")
    if last is not None:
        return available[-last:]
    losses = {path: load_checkpoint(path).get("valid_loss") for path in available}
    if any(loss is None for loss in losses.values()):
        raise AsrError(f"{model_dir}: some epoch checkpoints have no validation loss (trained without --valid); "
                       f"use --last N")
    chosen = set(sorted(available, key=lambda p: losses[p])[:best])
    return [p for p in available if p in chosen]


def average_checkpoints(model_dir: str | os.PathLike, *, last: int | None = None, best: int | None = None,
                        output: str | os.PathLike | None = None) -> Path:
    """Average the selected checkpoints' model weights into `output` (default: model_dir/model.pt)."""
    paths = select_checkpoints(model_dir, last=last, best=best)
    averaged = average_state_dicts([load_checkpoint(p)["model"] for p in paths])
    output = Path(output) if output is not None else Path(model_dir) / "model.pt"
    with atomic_path(output) as tmp:
        torch.save(averaged, tmp)
    logger.info("averaged %d checkpoints (%s) into %s", len(paths), ", ".join(p.stem for p in paths), output)
    return output
