"""A trained model directory -> an exported one: the network as ONNX (optionally int8) or TorchScript, beside the
same config.yaml, features.yaml, cmvn.ark and lang/, plus export.yaml saying what is inside. `asr transcribe` and
`asr decode` take either kind of directory (asr.modeldir.load_model_dir); an ONNX one runs without torch.

The exported graph takes one utterance, (1, T, F) float32 features after CMVN, and gives (1, T', V)
log-posteriors; its RNN runs unpacked, which for a single unpadded utterance is what the packed training graph
computes. ONNX goes through torch's TorchScript-based exporter (`dynamo=False`): the dynamo exporter of torch
2.14 fails on a bidirectional LSTM with a dynamic time axis.

A causal model (`--causal true`) also gets its two stream halves as ONNX (stream_front_end.onnx, stream_step.onnx;
asr.models.stream), so `asr transcribe --stream` runs it without torch.
"""

from __future__ import annotations

import copy
import logging
import os
import shutil
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from asr.errors import AsrError, import_extra
from asr.inference.network import OnnxNetwork, TorchScriptNetwork, input_dim
from asr.modeldir import (CMVN_FILE, CONFIG_FILE, EXPORT_FILE, EXPORT_FILES, EXPORT_FORMAT_VERSION, FEATURES_FILE,
                          LANG_DIR, dump_yaml, load_model_dir)

logger = logging.getLogger(__name__)

EXPORT_FORMATS = tuple(EXPORT_FILES)
QUANTIZATIONS = ("none", "int8")
# int8 weights for the recurrent and linear layers only: the convolutions stay float, since onnxruntime's
# ConvInteger, quantizing its activations at run time, was slower than the float Conv (bench/RESULTS.md, int8)
QUANTIZED_OPS = ("LSTM", "GRU", "MatMul", "Gemm")
ONNX_OPSET = 17               # onnxruntime >= 1.14 runs it; LSTM, Conv and LogSoftmax need nothing newer
TRACE_FRAMES = 64             # length of the example utterance the graph is traced with (any length runs)
CHECK_FRAMES = (7, 64, 301)   # lengths of the random utterances the export is checked on
CHECK_BLOCK = 37              # frames per block of the stream check (odd: no block aligns with the subsampling)
MAX_FLOAT_DIFF = 1e-4         # largest log-posterior difference accepted from a float32 export
STREAM_FILES = {"front_end": "stream_front_end.onnx", "step": "stream_step.onnx"}  # a causal model's stream halves
STREAM_HEAD_FILE = "stream_head.onnx"  # and, with a backward layer over chunks, that layer and the output layer


class SingleUtterance(nn.Module):
    """The network on one unpadded utterance: (1, T, F) -> (1, T', V); lengths are the time axis itself."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = copy.deepcopy(model).eval()
        for module in self.model.modules():
            if hasattr(module, "pack_sequences"):
                module.pack_sequences = False

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        lengths = torch.ones_like(feats[:, :, 0], dtype=torch.int64).sum(dim=1)  # traced, so T stays dynamic
        return self.model(feats, lengths)[0]


def export_model_dir(model_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
                     export_format: Literal["onnx", "torchscript"] = "onnx",
                     quantize: Literal["none", "int8"] = "none") -> Path:
    """Write the exported directory into `out_dir` (replaced only once complete) and return it.

    `quantize="int8"` (ONNX only): dynamic quantization of the weights of the linear and recurrent layers
    (onnxruntime.quantization.quantize_dynamic), a smaller file at some accuracy cost that must be measured."""
    if export_format not in EXPORT_FORMATS:
        raise AsrError(f"--format {export_format}: choose one of {', '.join(EXPORT_FORMATS)}")
    if quantize not in QUANTIZATIONS:
        raise AsrError(f"--quantize {quantize}: choose one of {', '.join(QUANTIZATIONS)}")
    if quantize != "none" and export_format != "onnx":
        raise AsrError(f"--quantize {quantize} needs --format onnx (TorchScript is exported in float32)")
    source = Path(model_dir)
    model = load_model_dir(source, "cpu")
    if not hasattr(model.network, "module"):
        raise AsrError(f"{source}: already an exported model directory; export the trained one (with model.pt)")
    out = Path(out_dir)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in (CONFIG_FILE, FEATURES_FILE, CMVN_FILE):
        if (source / name).is_file():
            shutil.copy2(source / name, tmp / name)
    shutil.copytree(source / LANG_DIR, tmp / LANG_DIR)
    network = SingleUtterance(model.network.module.cpu())
    dim = input_dim(model)
    example = torch.randn(1, TRACE_FRAMES, dim, generator=torch.Generator().manual_seed(0))
    file = tmp / EXPORT_FILES[export_format]
    if export_format == "onnx":
        _export_onnx(network, (example,), file, quantize, ["feats"], ["log_probs"],
                     {"feats": {1: "frames"}, "log_probs": {1: "out_frames"}})
    else:
        with torch.no_grad():
            torch.jit.save(torch.jit.trace(network, example), str(file))
    _check_parity(model, file, export_format, quantize, dim)
    info = {"format_version": EXPORT_FORMAT_VERSION, "format": export_format, "file": file.name,
            "quantize": quantize, "input": f"feats: (1, frames, {dim}) float32 after CMVN",
            "output": f"log_probs: (1, ceil(frames / {model.subsampling}), {len(model.tokenizer.tokens)})",
            "exported_from": str(source), "torch": str(torch.__version__)}
    if export_format == "onnx" and model.config.causal:
        info["stream"] = _export_stream(model.network.module.cpu(), tmp, quantize, dim)
    (tmp / EXPORT_FILE).write_text(dump_yaml(info), encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    logger.info("exported %s as %s (%s, quantize %s) into %s", source, file.name, export_format, quantize, out)
    return out


def _export_onnx(network: nn.Module, example: tuple[torch.Tensor, ...], file: Path, quantize: str,
                 input_names: list[str], output_names: list[str], dynamic_axes: dict[str, dict[int, str]]) -> None:
    import_extra("onnx", "onnx", "asr export --format onnx")
    float_file = file.with_name("float32.onnx") if quantize != "none" else file
    with torch.no_grad():
        torch.onnx.export(network, example, str(float_file), input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=ONNX_OPSET, dynamo=False)
    if quantize == "int8":
        quantization = import_extra("onnxruntime.quantization", "onnx", "asr export --quantize int8")
        quantization.quantize_dynamic(str(float_file), str(file), weight_type=quantization.QuantType.QInt8,
                                      op_types_to_quantize=list(QUANTIZED_OPS))
        float_file.unlink()


def _export_stream(module: nn.Module, out_dir: Path, quantize: str, dim: int) -> dict[str, Any]:
    """A causal network's stream halves (asr.models.stream) as ONNX graphs, checked against the torch stream on a
    random utterance in odd-sized blocks; returns export.yaml's `stream` entry (asr.inference.network reads it)."""
    from asr.inference.network import OnnxStreamingNetwork
    from asr.inference.stream import NetworkStream
    from asr.models.stream import StreamFrontEnd, StreamHead, StreamStep, TorchStreamingNetwork, initial_state

    torch_stream = TorchStreamingNetwork(module)
    state = initial_state(module)
    example = torch.randn(1, TRACE_FRAMES, dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        front = StreamFrontEnd(module)(example)
    state_names = [f"state{i}" for i in range(len(state))]
    _export_onnx(StreamFrontEnd(module), (example,), out_dir / STREAM_FILES["front_end"], quantize, ["feats"],
                 ["frames"], {"feats": {1: "frames"}, "frames": {1: "out_frames"}})
    chunked = bool(torch_stream.chunk_frames)
    step_output = "forward" if chunked else "log_probs"
    _export_onnx(StreamStep(module), (front, *state), out_dir / STREAM_FILES["step"], quantize, ["x", *state_names],
                 [step_output, *(f"next_{n}" for n in state_names)], {"x": {1: "frames"}, step_output: {1: "frames"}})
    entry = {**STREAM_FILES, "subsampling": torch_stream.subsampling, "context": torch_stream.context,
             "end_padding": torch_stream.end_padding, "num_units": torch_stream.num_units,
             "state_shapes": [list(t.shape) for t in state]}
    if chunked:  # a window is always chunk + right context frames long, however long the trace example
        lookahead = module.rnn.lookahead
        window = torch.randn(1, lookahead.chunk_frames + lookahead.right_context, lookahead.rnn.input_size,
                             generator=torch.Generator().manual_seed(0))
        _export_onnx(StreamHead(module), (window,), out_dir / STREAM_HEAD_FILE, quantize, ["forward"], ["log_probs"],
                     {})
        entry.update(head=STREAM_HEAD_FILE, chunk_frames=torch_stream.chunk_frames,
                     right_context=torch_stream.right_context)
    feats = np.random.default_rng(0).standard_normal((CHECK_FRAMES[-1], dim)).astype(np.float32)
    streamed = []
    for network in (torch_stream, OnnxStreamingNetwork(out_dir, entry)):
        stream = NetworkStream(network)
        blocks = [stream.accept(feats[a:a + CHECK_BLOCK]) for a in range(0, len(feats), CHECK_BLOCK)]
        streamed.append(np.concatenate(blocks + [stream.finish()]))
    diff = float(np.abs(streamed[0] - streamed[1]).max())
    logger.info("exported the stream graphs: largest log-posterior difference from the torch stream %.2e", diff)
    _require_faithful(diff, quantize, f"{out_dir / STREAM_FILES['step']}: the exported stream", "streamed from ONNX")
    return entry


def _check_parity(model: Any, file: Path, export_format: str, quantize: str, dim: int) -> float:
    """Run the trained and the exported network on random utterances of several lengths; a float32 export that
    differs by more than MAX_FLOAT_DIFF is an exporter fault, reported rather than shipped."""
    exported = OnnxNetwork(file) if export_format == "onnx" else TorchScriptNetwork(file)
    rng = np.random.default_rng(0)
    feats = [rng.standard_normal((frames, dim)).astype(np.float32) for frames in CHECK_FRAMES]
    diff = max(float(np.abs(a - b).max()) for a, b in zip(model.log_probs(feats), exported(feats)))
    logger.info("exported %s: largest log-posterior difference from the trained network %.2e (%s frames)",
                file.name, diff, "/".join(map(str, CHECK_FRAMES)))
    _require_faithful(diff, quantize, f"{file}: the export", f"exported faithfully as {export_format}")
    return diff


def _require_faithful(diff: float, quantize: str, what: str, cannot: str) -> None:
    """A float32 export whose log-posteriors differ by more than MAX_FLOAT_DIFF is an exporter fault: refused."""
    if quantize == "none" and diff > MAX_FLOAT_DIFF:
        raise AsrError(f"{what}'s log-posteriors differ from the trained network's by {diff:.3g} (more than "
                       f"{MAX_FLOAT_DIFF}); this model cannot be {cannot}")
