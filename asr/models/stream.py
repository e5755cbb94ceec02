"""A causal torch network (`causal: true`) as the parts a stream runs (asr.inference.stream.NetworkStream): the
convolutional front end, rerun on each block with its left context; one step of the RNN layers and the output
layer, which carry their hidden state from block to block; and, with a backward layer over chunks, `StreamHead`:
that layer and the output layer on one chunk and its right context. `StreamStep` is the step with the state as
flat tensors, the form `asr export` writes as ONNX for the torch-free runtime.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from asr.errors import AsrError


class TorchStreamingNetwork:
    """A causal network's stream halves in torch (asr.inference.stream.StreamingNetwork)."""

    def __init__(self, model: nn.Module) -> None:
        if not getattr(model, "causal", False):
            raise AsrError("streaming needs a causal model (its RNN reads later frames otherwise); train one with "
                           "asr train --causal true")
        self.model = model.eval()
        self.subsampling: int = model.subsampling
        self.context: int = model.causal_context
        self.end_padding: int = getattr(model, "end_padding", 0)
        self.num_units: int = model.output.out_features
        lookahead = model.rnn.lookahead
        self.chunk_frames: int = lookahead.chunk_frames if lookahead is not None else 0
        self.right_context: int = lookahead.right_context if lookahead is not None else 0

    @torch.no_grad()
    def front_end(self, window: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(window, dtype=np.float32))[None]
        return self.model.front_end(x, torch.tensor([x.shape[1]]))[0][0].numpy()

    @torch.no_grad()
    def step(self, x: np.ndarray, state: list | None) -> tuple[np.ndarray, list]:
        hidden, _, state = self.model.rnn.stream(torch.from_numpy(np.ascontiguousarray(x))[None], state)
        return step_output(self.model, hidden)[0].numpy(), state

    @torch.no_grad()
    def head(self, window: np.ndarray) -> np.ndarray:
        return chunk_posteriors(self.model, torch.from_numpy(np.ascontiguousarray(window))[None])[0].numpy()


def step_output(model: nn.Module, hidden: torch.Tensor) -> torch.Tensor:
    """What one stream step gives for the RNN stack's new frames: their log-posteriors, or with a backward layer
    over chunks the frames themselves, which `chunk_posteriors` reads once a chunk's right context is in."""
    if model.rnn.lookahead is not None:
        return hidden
    return model.output(hidden).log_softmax(dim=-1)


def chunk_posteriors(model: nn.Module, window: torch.Tensor) -> torch.Tensor:
    """(1, C + R, H) RNN-stack frames of a chunk and its right context -> (1, C, V) log-posteriors of the chunk."""
    return model.output(model.rnn.lookahead.window(window)).log_softmax(dim=-1)


def rnn_modules(model: nn.Module) -> list[nn.Module]:
    """The torch RNNs of a model's stack, in order (their states are the stream's state)."""
    return [m for m in (model.rnn.rnn, model.rnn.upper) if m is not None]


def initial_state(model: nn.Module) -> list[torch.Tensor]:
    """The flat zero state: (h, c) per LSTM, h per GRU, each (layers, 1, hidden)."""
    flat = []
    for rnn in rnn_modules(model):
        zeros = torch.zeros(rnn.num_layers, 1, rnn.hidden_size)
        flat += [zeros, zeros.clone()] if isinstance(rnn, nn.LSTM) else [zeros]
    return flat


class _OnCopy(nn.Module):
    """A stream part run on a copy of the model, in eval mode: the ONNX exporter changes the module it traces."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = copy.deepcopy(model).eval()


class StreamFrontEnd(_OnCopy):
    """(1, T, F) normalised features -> (1, T', D) front-end frames."""

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        lengths = torch.ones_like(feats[:, :, 0], dtype=torch.int64).sum(dim=1)  # traced, so T stays dynamic
        return self.model.front_end(feats, lengths)[0]


class StreamStep(_OnCopy):
    """(1, N, D) new front-end frames and the flat state -> `step_output` of them and the next flat state."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__(model)
        self.is_lstm = [isinstance(rnn, nn.LSTM) for rnn in rnn_modules(model)]

    def forward(self, x: torch.Tensor, *flat: torch.Tensor) -> tuple[torch.Tensor, ...]:
        state, i = [], 0
        for lstm in self.is_lstm:
            state.append((flat[i], flat[i + 1]) if lstm else flat[i])
            i += 2 if lstm else 1
        hidden, _, state = self.model.rnn.stream(x, state)
        out = [t for s in state for t in (s if isinstance(s, tuple) else (s,))]
        return (step_output(self.model, hidden), *out)


class StreamHead(_OnCopy):
    """`chunk_posteriors`: the backward layer and the output layer on one chunk and its right context."""

    def forward(self, window: torch.Tensor) -> torch.Tensor:
        return chunk_posteriors(self.model, window)
