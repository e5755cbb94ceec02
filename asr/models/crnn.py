"""`crnn`: a 2-D convolutional front end that subsamples time by 2 or 4, then the RNN stack of `rnn`."""

from __future__ import annotations

import torch
from torch import nn

from asr.models.rnn import RNNStack, pad_end, valid_frames


def _time_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B, 1, T, 1) float mask, 1 on valid frames: padded frames are zeroed after every layer so that a
    frame's output does not depend on how much padding its batch happened to carry (in eval mode)."""
    return valid_frames(lengths, max_len).float()[:, None, :, None]


def _halve(lengths: torch.Tensor) -> torch.Tensor:
    """Output length of a kernel-3, stride-2, padding-1 convolution: ceil(L / 2)."""
    return torch.div(lengths + 1, 2, rounding_mode="floor")


def _conv(in_channels: int, channels: int, stride: int, causal: bool) -> list[nn.Module]:
    """A 3x3 convolution (stride in time and frequency), padded to keep ceil(T / stride) frames: on both sides,
    or, causal, only before the first frame, so output frame t reads input frames up to stride * t."""
    if not causal:
        return [nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)]
    return [nn.ZeroPad2d((0, 0, 2, 0)), nn.Conv2d(in_channels, channels, 3, stride=stride, padding=(0, 1), bias=False)]


class ResidualStage(nn.Module):
    """Strided conv + BN + ReLU (halves time and frequency), then a residual block of two 3x3 convs."""

    def __init__(self, in_channels: int, channels: int, causal: bool = False) -> None:
        super().__init__()
        self.down = nn.Sequential(*_conv(in_channels, channels, 2, causal), nn.BatchNorm2d(channels), nn.ReLU())
        self.conv1 = nn.Sequential(*_conv(channels, channels, 1, causal), nn.BatchNorm2d(channels), nn.ReLU())
        self.conv2 = nn.Sequential(*_conv(channels, channels, 1, causal), nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lengths = _halve(lengths)
        y = self.down(x)
        mask = _time_mask(lengths, y.shape[2])
        y = y * mask
        return torch.relu(y + self.conv2(self.conv1(y) * mask)) * mask, lengths


class CRNNModel(nn.Module):
    """Conv front end (one ResidualStage per factor 2 of subsampling) -> BiRNN stack -> linear -> log-softmax.

    `causal`: convolutions that read no later frames and a unidirectional RNN, so that every output frame depends
    only on the input so far and the network can run on a stream (asr.models.stream)."""

    # input frames of left context that decide one output frame of the causal conv front end, with margin
    # (2 stages: 4t-22..4t)
    causal_context = 32

    def __init__(self, input_dim: int, num_units: int, hidden_size: int = 256, num_layers: int = 3,
                 rnn_type: str = "lstm", dropout: float = 0.1, conv_channels: int = 32, subsampling: int = 2,
                 inter_ctc_layer: int = 0, self_conditioning: bool = False, causal: bool = False,
                 end_padding: int = 0, chunk_frames: int = 0, right_context: int = 0) -> None:
        super().__init__()
        self.end_padding = end_padding
        if subsampling not in (2, 4):
            raise ValueError(f"subsampling must be 2 or 4, got {subsampling}")
        self.subsampling = subsampling
        self.causal = causal
        stages = [ResidualStage(1, conv_channels, causal)]
        if subsampling == 4:
            stages.append(ResidualStage(conv_channels, conv_channels, causal))
        self.stages = nn.ModuleList(stages)
        freq = input_dim
        for _ in stages:
            freq = (freq + 1) // 2
        self.rnn = RNNStack(conv_channels * freq, hidden_size, num_layers, rnn_type, dropout, inter_ctc_layer,
                            num_units, self_conditioning, bidirectional=not causal, chunk_frames=chunk_frames,
                            right_context=right_context)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(self.rnn.output_dim, num_units)

    @classmethod
    def from_config(cls, config, input_dim: int, num_units: int) -> "CRNNModel":
        return cls(input_dim, num_units, config.hidden_size, config.num_layers, config.rnn_type, config.dropout,
                   config.conv_channels, config.subsampling, config.inter_ctc_layer, config.self_conditioning,
                   config.causal, config.end_padding, config.chunk_frames, config.right_context)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor, intermediate: bool = False) -> tuple:
        """feats (B, T, F), lengths (B,) -> log-probabilities (B, T', V), output lengths (B,), T' = ceil(T/s); with
        `intermediate`, also the intermediate CTC head's log-probabilities (None without one)."""
        x, lengths = self.front_end(*pad_end(feats, lengths.to(feats.device), self.end_padding))
        hidden, inter = self.rnn(self.dropout(x), lengths)
        log_probs = self.output(self.dropout(hidden)).log_softmax(dim=-1)
        return (log_probs, lengths, inter) if intermediate else (log_probs, lengths)

    def front_end(self, feats: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The conv stages: feats (B, T, F) -> (B, T', C * F') and output lengths."""
        x = feats[:, None] * _time_mask(lengths, feats.shape[1])  # (B, 1, T, F)
        for stage in self.stages:
            x, lengths = stage(x, lengths)
        batch, channels, frames, freq = x.shape
        return x.permute(0, 2, 1, 3).reshape(batch, frames, channels * freq), lengths
