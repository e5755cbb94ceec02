"""How `asr decode` and `asr transcribe` run: InferenceConfig (model and batching) beside DecodeOptions (the
search), both loaded from one conf/decode.yaml."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, Literal, Mapping

from asr.config import build_config, read_config_file
from asr.decoding import DecodeOptions
from asr.errors import AsrError


@dataclass
class InferenceConfig:
    """How `asr decode` and `asr transcribe` run the model and the search (what to search for: DecodeOptions)."""

    greedy: bool = False  # best unit per frame, no LM (also implied by beam_size 1)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    num_threads: int = 1  # torch intra-op threads
    max_batch_frames: int = 20000  # decode: cap on padded input frames per acoustic batch
    max_batch_size: int = 32  # decode: cap on utterances per acoustic batch
    nj: int = 1  # decode: search processes (the acoustic model runs in the main process)
    feats_source: Literal["auto", "feats", "wav"] = "auto"  # decode: auto = feats.scp when it matches the model
    allow_resample: bool = False  # decode: resample wav.scp audio at another rate than the model's
    chunk_length_s: float = 30.0  # transcribe: audio per chunk whose posteriors are kept
    chunk_context_s: float = 4.0  # transcribe: extra audio each side of a chunk, seen by the model, then dropped
    segment: Literal["energy", "none"] = "energy"  # transcribe: audio longer than a chunk is cut in its pauses
    #                                               (energy VAD, asr.inference.vad), or by the clock (none)
    # transcribe --stream: a stream is cut into utterances at endpoints (Kaldi's and sherpa-onnx's endpoint rules,
    # silence = output frames whose best unit is the blank); each utterance is final when it ends, and the search
    # and the network start afresh, so memory stays bounded however long the stream runs. 0 turns a rule off.
    endpoint_silence_s: float = 1.2  # rule 2: this much silence after words ends the utterance
    endpoint_idle_s: float = 2.4     # rule 1: this much silence with no word yet is dropped (no words)
    endpoint_max_s: float = 20.0     # rule 3: an utterance this long ends, whatever follows

    def __post_init__(self) -> None:
        for name in ("num_threads", "max_batch_frames", "max_batch_size", "nj"):
            if getattr(self, name) < 1:
                raise AsrError(f"{name}={getattr(self, name)}: must be at least 1")
        if self.chunk_length_s <= 0:
            raise AsrError(f"chunk_length_s={self.chunk_length_s}: must be positive, e.g. 30")
        if self.chunk_context_s < 0:
            raise AsrError(f"chunk_context_s={self.chunk_context_s}: must be >= 0, e.g. 4")
        for name in ("endpoint_silence_s", "endpoint_idle_s", "endpoint_max_s"):
            if getattr(self, name) < 0:
                raise AsrError(f"{name}={getattr(self, name)}: must be >= 0 seconds (0 turns the rule off)")


def field_names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def load_decode_config(path: str | os.PathLike | None = None, overrides: Mapping[str, Any] | None = None
                       ) -> tuple[DecodeOptions, InferenceConfig]:
    """DecodeOptions and InferenceConfig from their defaults, then one YAML/Kaldi conf file holding fields of
    either (conf/decode.yaml), then `overrides` (None values skipped)."""
    known = field_names(DecodeOptions) | field_names(InferenceConfig)
    for origin, values in ((os.fspath(path) if path else "", read_config_file(path) if path else {}),
                           ("options", overrides or {})):
        unknown = sorted(set(values) - known)
        if unknown:
            raise AsrError(f"{origin}: unknown decoding option(s) {', '.join(unknown)}; known: "
                           f"{', '.join(sorted(known))}")
    overrides = overrides or {}
    search = build_config(DecodeOptions, path, {k: v for k, v in overrides.items() if k in field_names(DecodeOptions)},
                          ignore_unknown=True)
    run = build_config(InferenceConfig, path,
                       {k: v for k, v in overrides.items() if k in field_names(InferenceConfig)}, ignore_unknown=True)
    return search, run
