"""Bidirectional LSTM/GRU CTC model: the RNN stack shared by `rnn` and `crnn`, and the plain `rnn` model."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

RNN_TYPES = {"lstm": nn.LSTM, "gru": nn.GRU}


def valid_frames(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B, max_len) bool, true on each utterance's frames and false on its batch padding."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def pad_end(feats: torch.Tensor, lengths: torch.Tensor, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Append `frames` zero frames after each utterance's last frame (the batch padding is zeroed first)."""
    if not frames:
        return feats, lengths
    return (nn.functional.pad(feats * valid_frames(lengths, feats.shape[1])[:, :, None], (0, 0, 0, frames)),
            lengths + frames)


class RNNStack(nn.Module):
    """Bidirectional RNN layers over packed sequences, so padding never leaks into the valid frames.

    With `inter_ctc_layer = k` the stack is two RNNs, layers 1..k and k+1..n, and a linear CTC head reads the
    output of layer k (intermediate CTC, Lee & Watanabe 2021: a second CTC loss there regularises the lower
    layers). With `self_conditioning` that head's posteriors are also projected back and added to layer k's output
    before the upper layers read it (self-conditioned CTC, Nozaki & Komatsu 2021), so inference runs the head too.

    `pack_sequences = False` runs the layers on the tensor as it is: the same result for a batch of one unpadded
    utterance, and a graph that ONNX can express (asr.export sets it on the exported copy)."""

    pack_sequences = True

    def __init__(self, input_dim: int, hidden_size: int, num_layers: int, rnn_type: str = "lstm",
                 dropout: float = 0.0, inter_ctc_layer: int = 0, num_units: int = 0,
                 self_conditioning: bool = False, bidirectional: bool = True, chunk_frames: int = 0,
                 right_context: int = 0) -> None:
        super().__init__()
        if not 0 <= inter_ctc_layer < num_layers:
            raise ValueError(f"inter_ctc_layer must be in [0, {num_layers - 1}], got {inter_ctc_layer}")
        lower = inter_ctc_layer or num_layers
        self.bidirectional = bidirectional
        self.rnn = self._layers(rnn_type, input_dim, hidden_size, lower, dropout)
        self.output_dim = (2 if bidirectional else 1) * hidden_size
        self.upper = self.inter_output = self.condition = None
        if inter_ctc_layer:
            self.upper = self._layers(rnn_type, self.output_dim, hidden_size, num_layers - lower, dropout)
            self.dropout = nn.Dropout(dropout)
            self.inter_output = nn.Linear(self.output_dim, num_units)
            if self_conditioning:
                self.condition = nn.Linear(num_units, self.output_dim)
        self.lookahead = None
        if chunk_frames:
            self.lookahead = ChunkedBackwardRNN(rnn_type, self.output_dim, hidden_size, chunk_frames, right_context)
            self.output_dim += hidden_size

    def _layers(self, rnn_type: str, input_dim: int, hidden_size: int, num_layers: int, dropout: float) -> nn.Module:
        return RNN_TYPES[rnn_type](input_dim, hidden_size, num_layers=num_layers, batch_first=True,
                                   bidirectional=self.bidirectional, dropout=dropout if num_layers > 1 else 0.0)

    def _run(self, rnn: nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if not self.pack_sequences:
            return rnn(x)[0]
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (B, T, D) -> the stack's output (B, T, output_dim) and the intermediate head's log-probabilities
        (B, T, V), None without one."""
        out, inter = self._forward(x, lambda rnn, x: self._run(rnn, x, lengths))
        if self.lookahead is not None:
            out = self.lookahead(out * valid_frames(lengths, out.shape[1])[:, :, None])
        return out, inter

    def stream(self, x: torch.Tensor, state: list | None) -> tuple[torch.Tensor, torch.Tensor | None, list]:
        """A unidirectional stack on the next frames of one stream (B, T, D), carrying the RNNs' hidden states
        (`state`: None at the start) from call to call: the frames come out as `forward` on the whole stream, but
        for the `lookahead` layer, which the stream runs on each chunk once its right context is in."""
        new_state: list = []

        def run(rnn: nn.Module, x: torch.Tensor) -> torch.Tensor:
            out, h = rnn(x, state[len(new_state)] if state else None)
            new_state.append(h)
            return out

        out, inter = self._forward(x, run)
        return out, inter, new_state

    def _forward(self, x: torch.Tensor, run) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The layers, the head and the conditioning between them; `run(rnn, x)` runs one RNN."""
        out = run(self.rnn, x)
        if self.upper is None:
            return out, None
        inter_logits = self.inter_output(self.dropout(out))
        if self.condition is not None:
            out = out + self.condition(inter_logits.softmax(dim=-1))
        return run(self.upper, self.dropout(out)), inter_logits.log_softmax(dim=-1)


class ChunkedBackwardRNN(nn.Module):
    """A backward RNN layer over a causal stack's output, run on each chunk of `chunk_frames` frames plus the
    `right_context` frames after it, from a zero state (latency-controlled, as Kaldi's LC-BLSTM chunks with extra
    right context): every output frame reads at most chunk + right context frames ahead, so a stream gives it once
    they are in, and a causal model gets back part of what a bidirectional one reads from the future.

    Its output is the input with the backward layer's output appended. Frames past an utterance's end must be zero
    (they are read as right context of the last chunk, in a stream as in a batch)."""

    def __init__(self, rnn_type: str, input_dim: int, hidden_size: int, chunk_frames: int, right_context: int) -> None:
        super().__init__()
        self.chunk_frames, self.right_context = chunk_frames, right_context
        self.rnn = RNN_TYPES[rnn_type](input_dim, hidden_size, batch_first=True)
        # time reversal as a gather of constant indices (ONNX has no flip op)
        self.register_buffer("reverse", torch.arange(chunk_frames + right_context - 1, -1, -1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, D) -> (B, T, D + H)."""
        C, R = self.chunk_frames, self.right_context
        frames = x.shape[1]
        # window k: frames kC .. kC + C + R - 1, zeros past the end (index arithmetic, so ONNX keeps T dynamic)
        index = torch.arange(0, frames, C, device=x.device)[:, None] + torch.arange(C + R, device=x.device)[None]
        windows = nn.functional.pad(x, (0, 0, 0, C + R))[:, index]  # (B, N, C + R, D)
        out = self.window(windows.flatten(0, 1))
        return out.reshape(x.shape[0], -1, out.shape[-1])[:, :frames]

    def window(self, windows: torch.Tensor) -> torch.Tensor:
        """(N, C + R, D) chunks with their right context -> (N, C, D + H): the chunks' frames, each with the
        backward layer's output appended."""
        back = self.rnn(windows[:, self.reverse])[0][:, self.reverse]
        return torch.cat([windows, back], dim=2)[:, :self.chunk_frames]


class RNNModel(nn.Module):
    """`rnn`: features -> bidirectional (or, `causal`, unidirectional) RNN stack -> linear to units + blank ->
    log-softmax."""

    subsampling = 1
    causal_context = 0  # no front end: an output frame reads its own input frame and the RNN state

    def __init__(self, input_dim: int, num_units: int, hidden_size: int = 256, num_layers: int = 3,
                 rnn_type: str = "lstm", dropout: float = 0.1, inter_ctc_layer: int = 0,
                 self_conditioning: bool = False, causal: bool = False, end_padding: int = 0,
                 chunk_frames: int = 0, right_context: int = 0) -> None:
        super().__init__()
        self.causal, self.end_padding = causal, end_padding
        self.rnn = RNNStack(input_dim, hidden_size, num_layers, rnn_type, dropout, inter_ctc_layer, num_units,
                            self_conditioning, bidirectional=not causal, chunk_frames=chunk_frames,
                            right_context=right_context)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(self.rnn.output_dim, num_units)

    @classmethod
    def from_config(cls, config, input_dim: int, num_units: int) -> "RNNModel":
        return cls(input_dim, num_units, config.hidden_size, config.num_layers, config.rnn_type, config.dropout,
                   config.inter_ctc_layer, config.self_conditioning, config.causal, config.end_padding,
                   config.chunk_frames, config.right_context)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor, intermediate: bool = False) -> tuple:
        """feats (B, T, F), lengths (B,) -> log-probabilities (B, T, V), output lengths (B,); with `intermediate`,
        also the intermediate CTC head's log-probabilities (None without one)."""
        hidden, inter = self.rnn(*self.front_end(*pad_end(feats, lengths, self.end_padding)))
        log_probs = self.output(self.dropout(hidden)).log_softmax(dim=-1)
        return (log_probs, lengths, inter) if intermediate else (log_probs, lengths)

    def front_end(self, feats: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """No front end: the RNN reads the features."""
        return feats, lengths
