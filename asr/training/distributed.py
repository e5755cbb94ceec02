"""Process-group setup for `torchrun ... -m asr train`, and the few collectives the trainer needs.

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; we read them through
`torch.distributed.init_process_group(init_method="env://")`. gloo on CPU, nccl on CUDA. Without torchrun
(WORLD_SIZE unset or 1) everything here is a no-op and the trainer runs in one process.

Multi-node (N machines, G processes each), run on every machine:
    torchrun --nnodes N --nproc-per-node G --rdzv-backend c10d --rdzv-endpoint HOST:29400 --rdzv-id JOB \
        -m asr train --config conf/train.yaml ...
HOST is any one of the machines (reachable from all). Batches are global (`max_frames` caps the sum over all
processes), so the optimisation does not change with the number of processes.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from asr.models import resolve_device

logger = logging.getLogger(__name__)


@dataclass
class DistContext:
    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_distributed(device: str) -> DistContext:
    """Join the torchrun process group when launched by torchrun; otherwise a single-process context."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    resolved = resolve_device(device, local_rank)
    if world_size <= 1:
        return DistContext(device=resolved)
    if not dist.is_initialized():
        backend = "nccl" if resolved.type == "cuda" else "gloo"
        if resolved.type == "cuda":
            torch.cuda.set_device(resolved)
        dist.init_process_group(backend=backend, init_method="env://")
    context = DistContext(rank=dist.get_rank(), world_size=dist.get_world_size(), device=resolved)
    logger.info("rank %d of %d on %s (%s)", context.rank, context.world_size, resolved, dist.get_backend())
    return context


def all_reduce_sum(context: DistContext, values: list[float]) -> list[float]:
    """Sum floats over all processes (identity in one process)."""
    if not context.distributed:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=context.device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def gather_tensors(context: DistContext, tensor: torch.Tensor) -> list[torch.Tensor]:
    """Every process's copy of a same-shaped CPU tensor (e.g. RNG states), indexed by rank."""
    if not context.distributed:
        return [tensor]
    moved = tensor.to(context.device)
    out = [torch.empty_like(moved) for _ in range(context.world_size)]
    dist.all_gather(out, moved)
    return [t.cpu() for t in out]


def barrier(context: DistContext) -> None:
    if context.distributed:
        dist.barrier()


def shutdown(context: DistContext) -> None:
    if context.distributed and dist.is_initialized():
        dist.destroy_process_group()
