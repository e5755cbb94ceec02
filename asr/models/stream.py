"""A causal network (`causal: true`) run on a stream: feature frames in blocks, log-posteriors out as soon as
they are final.

The convolutional front end of a causal crnn reads no later frames, so output frame j is final once input frame
s * j has arrived (s: the subsampling). Each block reruns the front end over the new frames plus
`causal_context` frames of left context (enough for every new output to see all the frames it reads), and the
RNN layers carry their hidden state from block to block. The result equals the network run once on all the
frames, whatever the block sizes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from asr.errors import AsrError


class NetworkStream:
    """One utterance through a causal network, a block of normalised feature frames at a time."""

    def __init__(self, model: nn.Module) -> None:
        if not getattr(model, "causal", False):
            raise AsrError("streaming needs a causal model (its RNN reads later frames otherwise); train one with "
                           "asr train --causal true")
        self.model = model.eval()
        self.subsampling: int = model.subsampling
        self.context: int = model.causal_context
        self.buffer: np.ndarray | None = None  # input frames from `start` on
        self.start = 0                          # input frame index of buffer[0]
        self.done = 0                           # output frames given out so far
        self.state: list | None = None          # the RNN layers' hidden states

    @torch.no_grad()
    def accept(self, feats: np.ndarray) -> np.ndarray:
        """Take the next (T, F) feature frames; return the (T', V) log-posteriors that became final."""
        feats = np.asarray(feats, dtype=np.float32)
        self.buffer = feats if self.buffer is None else np.concatenate([self.buffer, feats])
        total = self.start + len(self.buffer)
        ready = -(-total // self.subsampling)  # ceil: output j reads input frames up to s * j
        if ready == self.done:
            return np.zeros((0, self.model.output.out_features), dtype=np.float32)
        # rerun the front end from a multiple of s, `context` frames before the first new output's frames
        first = max(0, self.done * self.subsampling - self.context)
        window = torch.from_numpy(self.buffer[first - self.start:])[None]
        x, _ = self.model.front_end(window, torch.tensor([window.shape[1]]))
        x = x[:, x.shape[1] - (ready - self.done):]
        hidden, _, self.state = self.model.rnn.stream(x, self.state)
        log_probs = self.model.output(hidden).log_softmax(dim=-1)[0].numpy()
        keep = max(0, ready * self.subsampling - self.context)
        self.buffer, self.start, self.done = self.buffer[keep - self.start:], keep, ready
        return log_probs

    def finish(self) -> np.ndarray:
        """The end of the utterance: the posteriors of the model's `end_padding` frames of zeros, if any."""
        frames = getattr(self.model, "end_padding", 0)
        if not frames or self.buffer is None:
            return np.zeros((0, self.model.output.out_features), dtype=np.float32)
        return self.accept(np.zeros((frames, self.buffer.shape[1]), dtype=np.float32))
