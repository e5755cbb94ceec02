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
    causal: bool = False            # unidirectional RNN and convolutions that read no later frames: the network can
    #                                 stream (asr transcribe --stream), at some cost in accuracy
    chunk_frames: int = 0           # causal: > 0 adds a backward RNN layer on top that reads each chunk of this
    #                                 many output frames plus `right_context` frames after it (Kaldi's LC-BLSTM
    #                                 frames-per-chunk): a stream gives a chunk's words once those frames are in
    right_context: int = 0          # output frames after each chunk that its backward layer also reads
    end_padding: int = 0            # input frames of zeros (the features' mean, after CMVN) after every utterance:
    #                                 a causal model gets frames after the last word on which to emit its last units
    inter_ctc_layer: int = 0        # k > 0: an intermediate CTC head on RNN layer k (1 <= k < num_layers), trained
    #                                 with weight inter_ctc_weight (intermediate CTC); 0: none
    self_conditioning: bool = False  # feed that head's posteriors back into layer k's output (self-conditioned CTC)

    def __post_init__(self) -> None:
        if self.model == "crnn" and self.subsampling not in (2, 4):
            raise AsrError(f"subsampling={self.subsampling}: the crnn subsamples time by 2 or 4; set 2 or 4")
        for name in ("hidden_size", "num_layers", "conv_channels"):
            if getattr(self, name) < 1:
                raise AsrError(f"{name}={getattr(self, name)}: must be at least 1")
        if self.chunk_frames < 0 or (self.chunk_frames and not self.causal):
            raise AsrError(f"chunk_frames={self.chunk_frames}: the backward layer over chunks is for a causal model; "
                           f"set causal=true, or chunk_frames=0 (a bidirectional model reads the whole utterance)")
        if self.right_context < 0 or (self.right_context and not self.chunk_frames):
            raise AsrError(f"right_context={self.right_context}: output frames after each chunk that the backward "
                           f"layer reads, 0 or more; set chunk_frames too")
        if self.end_padding < 0:
            raise AsrError(f"end_padding={self.end_padding}: a number of frames, 0 or more")
        if not 0 <= self.inter_ctc_layer < self.num_layers:
            raise AsrError(f"inter_ctc_layer={self.inter_ctc_layer}: the intermediate CTC head reads an RNN layer "
                           f"below the last, 1 to {self.num_layers - 1} (num_layers={self.num_layers}); 0 turns it off")
        if self.self_conditioning and not self.inter_ctc_layer:
            raise AsrError("self_conditioning=true conditions on the intermediate CTC head: set inter_ctc_layer too, "
                           "e.g. inter_ctc_layer=1")
        if not 0.0 <= self.dropout < 1.0:
            raise AsrError(f"dropout={self.dropout}: must be in [0, 1)")
