"""Bidirectional LSTM/GRU CTC model: the RNN stack shared by `rnn` and `crnn`, and the plain `rnn` model."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

RNN_TYPES = {"lstm": nn.LSTM, "gru": nn.GRU}


class RNNStack(nn.Module):
    """Bidirectional RNN layers over packed sequences, so padding never leaks into the valid frames.

    `pack_sequences = False` runs the layers on the tensor as it is: the same result for a batch of one unpadded
    utterance, and a graph that ONNX can express (asr.export sets it on the exported copy)."""

    pack_sequences = True

    def __init__(self, input_dim: int, hidden_size: int, num_layers: int, rnn_type: str = "lstm",
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.rnn = RNN_TYPES[rnn_type](input_dim, hidden_size, num_layers=num_layers, batch_first=True,
                                       bidirectional=True, dropout=dropout if num_layers > 1 else 0.0)
        self.output_dim = 2 * hidden_size

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if not self.pack_sequences:
            return self.rnn(x)[0]
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out


class RNNModel(nn.Module):
    """`rnn`: features -> bidirectional RNN stack -> linear to units + blank -> log-softmax."""

    subsampling = 1

    def __init__(self, input_dim: int, num_units: int, hidden_size: int = 256, num_layers: int = 3,
                 rnn_type: str = "lstm", dropout: float = 0.1) -> None:
        super().__init__()
        self.rnn = RNNStack(input_dim, hidden_size, num_layers, rnn_type, dropout)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(self.rnn.output_dim, num_units)

    @classmethod
    def from_config(cls, config, input_dim: int, num_units: int) -> "RNNModel":
        return cls(input_dim, num_units, config.hidden_size, config.num_layers, config.rnn_type, config.dropout)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """feats (B, T, F), lengths (B,) -> log-probabilities (B, T, V), output lengths (B,)."""
        hidden = self.dropout(self.rnn(feats, lengths))
        return self.output(hidden).log_softmax(dim=-1), lengths
