"""The network's hyperparameters: what a model directory's config.yaml must say to rebuild the network.

`asr.training.TrainConfig` extends it with everything else training needs, so config.yaml stays one flat file;
inference reads only these fields from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from asr.errors import AsrError


@dataclass
class ModelConfig:
    model: Literal["rnn", "crnn"] = "crnn"
    rnn_type: Literal["lstm", "gru"] = "lstm"
    hidden_size: int = 256          # per direction
    num_layers: int = 3             # bidirectional RNN layers
    dropout: float = 0.1
    conv_channels: int = 32         # crnn front end
    subsampling: int = 2            # crnn: time subsampling, 2 or 4 (rnn: always 1)

    def __post_init__(self) -> None:
        if self.model == "crnn" and self.subsampling not in (2, 4):
            raise AsrError(f"subsampling={self.subsampling}: the crnn subsamples time by 2 or 4; set 2 or 4")
        for name in ("hidden_size", "num_layers", "conv_channels"):
            if getattr(self, name) < 1:
                raise AsrError(f"{name}={getattr(self, name)}: must be at least 1")
        if not 0.0 <= self.dropout < 1.0:
            raise AsrError(f"dropout={self.dropout}: must be in [0, 1)")
