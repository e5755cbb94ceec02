"""Checkpoints: atomic, weights-only loadable, and complete enough that `--resume` is bit-exact.

A checkpoint is a dict of tensors, numbers, strings and lists only (no pickled objects), so it loads with
`torch.load(weights_only=True)` and a file carrying a pickle payload is refused instead of executed. It holds
the model and optimizer state, the position in the data (epoch, batches done; the batch order itself is a pure
function of seed and epoch), the learning-rate schedule position (global step; the schedule is a pure
function of it) and every process's torch RNG state (dropout). SpecAugment draws from generators seeded by
(seed, epoch, batch), so it needs no state.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from asr.errors import AsrError
from asr.fileio import atomic_path

logger = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"
FORMAT = "asr-checkpoint-1"
_NAME = re.compile(r"^(epoch|step)-(\d+)\.pt$")


def epoch_checkpoint_path(out_dir: str | os.PathLike, epoch: int) -> Path:
    """Checkpoint after `epoch` completed epochs (1-based)."""
    return Path(out_dir) / CHECKPOINT_DIR / f"epoch-{epoch:04d}.pt"


def step_checkpoint_path(out_dir: str | os.PathLike, global_step: int) -> Path:
    return Path(out_dir) / CHECKPOINT_DIR / f"step-{global_step:08d}.pt"


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write through a temporary file and rename, so a kill mid-write leaves the previous checkpoints whole."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **state}, tmp)
    logger.debug("wrote checkpoint %s", path)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load with weights_only=True onto the CPU; anything else than our format is a user error."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise AsrError(f"{path}: checkpoint not found; check the path") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
        raise AsrError(f"{path}: not a loadable weights-only checkpoint ({first}); "
                       f"it may be truncated or carry pickled objects, which are refused") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise AsrError(f"{path}: not an asr checkpoint (format {FORMAT!r} expected); use one written by asr train")
    return state


def _numbered(out_dir: str | os.PathLike, kind: str) -> list[Path]:
    """`kind` ("epoch" or "step") checkpoints in `out_dir/checkpoints`, by their number."""
    folder = Path(out_dir) / CHECKPOINT_DIR
    found = [(int(m.group(2)), p) for p in folder.glob(f"{kind}-*.pt") if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def epoch_checkpoints(out_dir: str | os.PathLike) -> list[Path]:
    """Epoch checkpoints, oldest first."""
    return _numbered(out_dir, "epoch")


def latest_checkpoint(out_dir: str | os.PathLike) -> Path | None:
    """The checkpoint furthest into training: the last epoch one, unless a step one was written after it."""
    epochs, steps = _numbered(out_dir, "epoch"), _numbered(out_dir, "step")
    if not epochs or not steps:
        return (epochs or steps or [None])[-1]
    last_step = int(_NAME.match(steps[-1].name).group(2))
    return steps[-1] if last_step > int(load_checkpoint(epochs[-1])["global_step"]) else epochs[-1]


def prune_step_checkpoints(out_dir: str | os.PathLike, keep: int) -> None:
    """Delete all but the newest `keep` step checkpoints (epoch checkpoints stay, for averaging)."""
    steps = _numbered(out_dir, "step")
    for path in steps[:max(len(steps) - keep, 0)]:
        path.unlink(missing_ok=True)


def rng_state(device: torch.device) -> torch.Tensor:
    """This process's RNG state as one uint8 tensor: the CPU generator, then the CUDA one when training on GPU."""
    states = [torch.get_rng_state()]
    if device.type == "cuda":
        states.append(torch.cuda.get_rng_state(device))
    return torch.cat(states)


def set_rng_state(state: torch.Tensor, device: torch.device) -> None:
    cpu_size = torch.get_rng_state().numel()
    torch.set_rng_state(state[:cpu_size].clone())
    if device.type == "cuda" and state.numel() > cpu_size:
        torch.cuda.set_rng_state(state[cpu_size:].clone(), device)
