"""An exported model against the trained one on a data set: log-posterior differences, WER, size and decoding
time, for ONNX float32, ONNX int8 (as exported, and with every layer quantized, convolutions included) and TorchScript
(issue 14's parity figures).

    python bench/export.py --model exp/crnn --data data/test --lm data/local/lm/lm.arpa \
        --decode-config recipes/mini/conf/decode.yaml          # the demo's model and test set

Each network sees the same normalised features (the model's CMVN); decoding uses the same search options and LM
and one job (`nj` 1), so times compare the networks; the network time is the log-posteriors of every utterance
alone (torch in padded batches, the exports one utterance at a time), on one thread. Times are medians of --rounds
runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from asr.export import export_model_dir
from asr.inference.config import InferenceConfig, load_decode_config
from asr.inference.decode import decode_data_dir
from asr.modeldir import EXPORT_FILES, load_model_dir

VARIANTS = {"onnx": ("onnx", "none"), "onnx-int8": ("onnx", "int8"), "torchscript": ("torchscript", "none")}


def network_inputs(model_dir: Path, data_dir: Path) -> list[np.ndarray]:
    """Every utterance's normalised features (from its audio), as decoding computes them."""
    from asr.datadir import load_utterance_audio, read_data_dir
    from asr.features.cmvn import speaker_cmvn_stats, stats_of

    model, data = load_model_dir(model_dir), read_data_dir(data_dir)
    keys = sorted(data.segments or data.wav_scp)
    raw = {k: model.raw_features(*load_utterance_audio(data, k, sample_frequency=int(model.sample_frequency)))
           for k in keys}
    stats = None
    if model.cmvn == "speaker":
        from asr.features.cmvn import compute_cmvn_stats

        stats = speaker_cmvn_stats(((k, compute_cmvn_stats(f)) for k, f in raw.items()), data.utt2spk)
    return [model.normalize(raw[k], stats_of(stats, k, data.utt2spk) if stats is not None else None) for k in keys]


def quantize_every_layer(onnx_dir: Path, out_dir: Path) -> Path:
    """The float ONNX export with every layer onnxruntime can quantize dynamically in int8, convolutions included:
    what `asr export --quantize int8` did before it kept the convolutions float (asr.export.QUANTIZED_OPS)."""
    import shutil

    from onnxruntime.quantization import QuantType, quantize_dynamic

    shutil.copytree(onnx_dir, out_dir)
    quantize_dynamic(str(onnx_dir / EXPORT_FILES["onnx"]), str(out_dir / EXPORT_FILES["onnx"]),
                     weight_type=QuantType.QInt8)
    return out_dir


def _seconds(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="trained model directory")
    parser.add_argument("--data", type=Path, required=True, help="data directory with text")
    parser.add_argument("--lm", default=None)
    parser.add_argument("--decode-config", default=None, help="YAML of decoding options (a recipe's decode.yaml)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="asr-bench-export-"))
    dirs = {"torch": args.model}
    for name, (export_format, quantize) in VARIANTS.items():
        dirs[name] = export_model_dir(args.model, work / name, export_format=export_format, quantize=quantize)
    dirs["onnx-int8-all"] = quantize_every_layer(dirs["onnx"], work / "onnx-int8-all")
    feats = network_inputs(args.model, args.data)
    reference = load_model_dir(args.model).log_probs(feats)
    options, _ = load_decode_config(args.decode_config, {})
    config = InferenceConfig(device="cpu", num_threads=1, nj=1)
    print(f"{args.model} on {args.data} ({len(feats)} utterances), LM {args.lm}, {args.rounds} rounds\n")
    print("| network | file MB | max abs log-prob diff | frames with another best unit | WER % | same text as "
          "torch | decode s (median) | network s (median) | network time / torch's |")
    print("|---|---|---|---|---|---|---|---|---|")
    texts, network_s = {}, {}
    for name, model_dir in dirs.items():
        file = Path(model_dir) / ("model.pt" if name == "torch" else EXPORT_FILES[VARIANTS.get(name, ("onnx",))[0]])
        model = load_model_dir(model_dir, num_threads=1)
        lps = model.log_probs(feats)  # also the warm-up of the timing below
        network_s[name] = statistics.median(_seconds(lambda: model.log_probs(feats)) for _ in range(args.rounds))
        diff = max(float(np.abs(a - b).max(initial=0.0)) for a, b in zip(reference, lps))
        changed = sum(int((a.argmax(1) != b.argmax(1)).sum()) for a, b in zip(reference, lps))
        times = []
        for round_index in range(args.rounds):
            start = time.perf_counter()
            result = decode_data_dir(model_dir, args.data, work / f"decode_{name}_{round_index}", lm=args.lm,
                                     options=options, config=config, progress=False)
            times.append(time.perf_counter() - start)
        texts[name] = {k: h[0].text for k, h in result.hypotheses.items()}
        print(f"| {name} | {file.stat().st_size / 1e6:.2f} | {diff:.2e} | {changed} | "
              f"{result.report.error_rate:.2f} | {texts[name] == texts['torch']} | {statistics.median(times):.1f} | "
              f"{network_s[name]:.2f} | {network_s[name] / network_s['torch']:.2f} |")
    print(f"\n(work files in {work})")


if __name__ == "__main__":
    main()
