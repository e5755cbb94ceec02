"""The acoustic half of inference: a loaded model directory's (asr.modeldir) CTC log-posteriors and feature options.

A network is a callable from normalised feature matrices to (T', V) log-posteriors: `TorchNetwork` (model.pt, in
padded batches), or an exported one run one utterance at a time (`OnnxNetwork` through onnxruntime, without
torch; `TorchScriptNetwork`). Exported graphs take (1, T, F) float32 features and give (1, T', V).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml

from asr.errors import AsrError


class TorchNetwork:
    """A torch module on a device, run on padded batches."""

    def __init__(self, module: Any, device: Any) -> None:
        self.module, self.device = module, device

    def __call__(self, feats: Sequence[np.ndarray]) -> list[np.ndarray]:
        import torch

        from asr.batching import collate

        empty = [np.zeros(0, dtype=np.int64)] * len(feats)
        padded, lengths, _, _ = collate(feats, empty)
        with torch.no_grad():
            out, out_lengths = self.module(padded.to(self.device), lengths.to(self.device))
        out = out.cpu().numpy()
        return [out[i, :int(n)] for i, n in enumerate(out_lengths)]


class OnnxNetwork:
    """An exported ONNX graph in onnxruntime (CPU), one utterance per run; imports no torch."""

    def __init__(self, path: Path, num_threads: int | None = None) -> None:
        import onnxruntime as ort
        options = ort.SessionOptions()
        if num_threads is not None:
            options.intra_op_num_threads = options.inter_op_num_threads = num_threads
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own types for unreadable or invalid graphs
            first = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
            raise AsrError(f"{path}: not a loadable ONNX model ({first}); export it again (asr export)") from None
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, feats: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [self.session.run(None, {self.input_name: np.ascontiguousarray(f, dtype=np.float32)[None]})[0][0]
                for f in feats]


class OnnxStreamingNetwork:
    """A causal model's stream halves exported as ONNX (asr.inference.stream.StreamingNetwork), without torch: the
    front end, one step of the RNN layers whose flat state (export.yaml: `stream.state_shapes`) goes in and comes
    out, and with a backward layer over chunks (`stream.chunk_frames`) the head that runs it on a chunk."""

    def __init__(self, export_dir: Path, stream: dict, num_threads: int | None = None) -> None:
        self.front_end_graph = OnnxNetwork(export_dir / stream["front_end"], num_threads)
        self.step_graph = OnnxNetwork(export_dir / stream["step"], num_threads)
        self.subsampling, self.context = int(stream["subsampling"]), int(stream["context"])
        self.end_padding, self.num_units = int(stream["end_padding"]), int(stream["num_units"])
        self.state_shapes = [tuple(shape) for shape in stream["state_shapes"]]
        self.input_names = [i.name for i in self.step_graph.session.get_inputs()]
        self.chunk_frames, self.right_context = int(stream.get("chunk_frames", 0)), int(stream.get("right_context", 0))
        self.head_graph = OnnxNetwork(export_dir / stream["head"], num_threads) if self.chunk_frames else None

    def front_end(self, window: np.ndarray) -> np.ndarray:
        return self.front_end_graph([window])[0]

    def step(self, x: np.ndarray, state: list[np.ndarray] | None) -> tuple[np.ndarray, list[np.ndarray]]:
        state = state or [np.zeros(shape, dtype=np.float32) for shape in self.state_shapes]
        inputs = [np.ascontiguousarray(x, dtype=np.float32)[None], *state]
        out, *state = self.step_graph.session.run(None, dict(zip(self.input_names, inputs)))
        return out[0], state

    def head(self, window: np.ndarray) -> np.ndarray:
        return self.head_graph([window])[0]


class TorchScriptNetwork:
    """An exported TorchScript module, one utterance per run."""

    def __init__(self, path: Path, num_threads: int | None = None) -> None:
        import torch

        if num_threads is not None:
            torch.set_num_threads(num_threads)
        try:
            self.module = torch.jit.load(str(path), map_location="cpu").eval()
        except (RuntimeError, ValueError, OSError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
            raise AsrError(f"{path}: not a loadable TorchScript model ({first}); export it again (asr export)") \
                from None

    def __call__(self, feats: Sequence[np.ndarray]) -> list[np.ndarray]:
        import torch

        with torch.no_grad():
            return [self.module(torch.from_numpy(np.asarray(f, dtype=np.float32))[None])[0].numpy() for f in feats]


def read_export_info(export_yaml: Path) -> dict:
    """export.yaml (written by asr.export), checked for a format and version this asr reads."""
    from asr.modeldir import EXPORT_FILES, EXPORT_FORMAT_VERSION

    try:
        info = yaml.safe_load(export_yaml.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as e:
        raise AsrError(f"{export_yaml}: unreadable ({e.__class__.__name__}); export the model again") from None
    if not isinstance(info, dict) or info.get("format") not in EXPORT_FILES:
        raise AsrError(f"{export_yaml}: format must be one of {', '.join(EXPORT_FILES)}; export the model again")
    if info.get("format_version") != EXPORT_FORMAT_VERSION:
        raise AsrError(f"{export_yaml}: format_version {info.get('format_version')!r}, this asr reads "
                       f"{EXPORT_FORMAT_VERSION}; export the model again with this version")
    return info


def load_exported_network(export_yaml: Path, num_threads: int | None = None) -> Any:
    """The network an export.yaml describes (written by asr.export)."""
    from asr.modeldir import EXPORT_FILES

    info = read_export_info(export_yaml)
    file = export_yaml.parent / EXPORT_FILES[info["format"]]
    if not file.is_file():
        raise AsrError(f"{file}: missing; export the model again (asr export)")
    return OnnxNetwork(file, num_threads) if info["format"] == "onnx" else TorchScriptNetwork(file, num_threads)


def load_streaming_network(export_yaml: Path, num_threads: int | None = None) -> OnnxStreamingNetwork:
    """The stream halves of an exported causal model (`stream` in export.yaml, ONNX exports only)."""
    info = read_export_info(export_yaml)
    stream = info.get("stream")
    if not isinstance(stream, dict):
        raise AsrError(f"{export_yaml}: no streaming graphs in this export; export the causal model with --format onnx "
                       f"(this asr writes them beside model.onnx)")
    for name in ("front_end", "step", "head") if stream.get("chunk_frames") else ("front_end", "step"):
        if not (export_yaml.parent / str(stream.get(name))).is_file():
            raise AsrError(f"{export_yaml.parent / str(stream.get(name))}: missing; export the model again")
    return OnnxStreamingNetwork(export_yaml.parent, stream, num_threads)


def model_posteriors(model: Any, feats: Sequence[np.ndarray]) -> list[np.ndarray]:
    """(T', V) log-posteriors of normalised feature matrices, as one padded batch; an input too short for a
    single frame gives a (0, V) matrix (the network is not run on it)."""
    num_units = len(model.tokenizer.tokens)
    out = [np.zeros((0, num_units), dtype=np.float32)] * len(feats)
    nonempty = [i for i, f in enumerate(feats) if len(f)]
    if nonempty:
        for i, lp in zip(nonempty, model.log_probs([feats[i] for i in nonempty])):
            out[i] = lp
    return out


def model_feature_options(model: Any, path: str | os.PathLike | None = None) -> Any:
    """The model's feature options dataclass (kind and flavor as stored), or those of conf file `path` read as
    options of the model's kind (an option that kind does not have raises AsrError)."""
    from asr.features import make_options

    if path is not None:
        return make_options(model.feature_kind, path=os.fspath(path), flavor=model.feature_flavor)
    return make_options(model.feature_kind, model.feature_options, flavor=model.feature_flavor)


def input_dim(model: Any) -> int:
    from asr.features import feature_dim

    return feature_dim(model_feature_options(model))
