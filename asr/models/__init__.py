"""CTC acoustic models and a registry from the config's `model` name to the class.

Every model maps (feats (B, T, F), lengths (B,)) to (log_probs (B, T', V), out_lengths (B,)) and has a
`subsampling` attribute (T / T'), used to turn output frames into seconds. torch is imported by the functions
and model modules, not here, so that `asr.models.config` (what a model directory's config.yaml holds) is readable
without it (an exported ONNX model runs without torch).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from asr.errors import AsrError

if TYPE_CHECKING:
    import torch
    from torch import nn

# config name -> "module:class"; imported on use
MODELS: dict[str, str] = {
    "rnn": "asr.models.rnn:RNNModel",
    "crnn": "asr.models.crnn:CRNNModel",
}


def build_model(config, input_dim: int, num_units: int) -> "nn.Module":
    """Instantiate the network named by `config.model` (a TrainConfig) for `input_dim` features and
    `num_units` outputs (blank included)."""
    if config.model not in MODELS:
        raise AsrError(f"model={config.model!r} is unknown; choose one of {', '.join(sorted(MODELS))}")
    module, name = MODELS[config.model].split(":")
    return getattr(importlib.import_module(module), name).from_config(config, input_dim, num_units)


def count_parameters(model: "nn.Module") -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def resolve_device(device: str, local_rank: int = 0) -> "torch.device":
    """`auto` -> CUDA when available, else CPU; `cuda` without a GPU is a user error."""
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise AsrError("device=cuda but torch sees no CUDA device; use --device cpu or auto")
        return torch.device("cuda", local_rank)
    return torch.device("cpu")
