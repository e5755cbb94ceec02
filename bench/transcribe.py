"""Benchmark: `asr.transcribe` speed (real-time factor) on real speech, short files and one long file.

Inputs: a trained model directory (`--model`, e.g. the speechocean762 recipe's exp/crnn_phone) and the first
`--files` FLAC files of speechocean762's wav.scp; the long file is those files end to end (written once as a
16 kHz WAV under --work), so that chunked transcription (`chunk_length_s` 30 s, 4 s context) is what runs.
Search modes: greedy, prefix beam search (beam 32), and beam 32 with a word trigram (`--lm`, e.g. the recipe's
data/local/lm/text.arpa).

Timing follows the shared benchmarking guide (BENCHMARKING.md): threads pinned to 1, one untimed warm-up per mode,
then `--rounds` rounds; in each every mode (of every variant) transcribes the short files and the long file once,
in an order that rotates between rounds. The real-time factor (seconds of compute per second of audio, lower is
faster) is the median over rounds; each call includes reading and resampling the audio, features, CMVN, the network
and the search. There is no peer: no other offline toolkit installable here transcribes with a model we can train;
the feature stage is compared with its peers in bench/features.py and the search in bench/decode.py.

    python bench/transcribe.py --model exp/crnn_phone --lm data/local/lm/text.arpa [--files 50] [--rounds 3]

With `--export`, the model is also exported (ONNX float32 and int8, into --work) and the three run side by side
(issue 14): the RTF table per variant, then, each in fresh processes (medians of --rounds): start-up to the first
word of one file (`python -m asr transcribe`, with the numba cache warm, and cold: an empty NUMBA_CACHE_DIR), peak
RSS transcribing the long file, and with `--data` (a data dir with text) the WER of `asr decode` greedy and beam +
LM. The demo: `--model exp/crnn --lm data/local/lm/lm.arpa --corpus data/test --data data/test --export`.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CORPUS = REPO.parent / "shared" / "data" / "speechocean762-train"
MODES = {"greedy": {"greedy": True}, "beam 32": {"beam_size": 32}, "beam 32 + LM": {"beam_size": 32}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="model directory written by `asr train`")
    parser.add_argument("--lm", default=None, help="ARPA word LM for the third mode (skipped without it)")
    parser.add_argument("--corpus", default=str(CORPUS))
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", default=None, help="working folder [a new temporary one]")
    parser.add_argument("--export", action="store_true", help="also ONNX float32 and int8 exports, side by side")
    parser.add_argument("--data", default=None, help="with --export: a data dir (with text) for the WER column")
    args = parser.parse_args()

    import torch

    import asr
    from asr.kaldi_io import read_kaldi_map
    from asr.lm import read_arpa

    torch.set_num_threads(1)
    corpus = Path(args.corpus)
    files = [str(corpus / path) for path in list(read_kaldi_map(corpus / "wav.scp").values())[:args.files]]
    waves = [sf.read(path, dtype="float32") for path in files]
    short_seconds = sum(len(wave) / rate for wave, rate in waves)
    work = Path(args.work or tempfile.mkdtemp(prefix="asr-bench-transcribe-"))
    long_path = work / "long.wav"
    long_path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(long_path, np.concatenate([wave for wave, _ in waves]), waves[0][1], subtype="PCM_16")
    lm = read_arpa(args.lm) if args.lm else None
    modes = {name: extra for name, extra in MODES.items() if lm is not None or "LM" not in name}

    variants = {"torch fp32": args.model}
    if args.export:
        from asr.export import export_model_dir

        variants["onnx fp32"] = str(export_model_dir(args.model, work / "onnx"))
        variants["onnx int8"] = str(export_model_dir(args.model, work / "onnx_int8", quantize="int8"))

    def run(model: str, mode: str, inputs: list[str]) -> float:
        start = time.perf_counter()
        asr.transcribe(model, inputs, lm=lm if "LM" in mode else None, **modes[mode])
        return time.perf_counter() - start

    for model in variants.values():
        for mode in modes:  # warm-up: model load, imports, caches
            run(model, mode, files[:2])
    rtf: dict[tuple[str, str, str], list[float]] = {}
    runs = [(variant, mode) for variant in variants for mode in modes]
    for round_index in range(args.rounds):
        for variant, mode in runs[round_index % len(runs):] + runs[:round_index % len(runs)]:
            rtf.setdefault((variant, mode, "short"), []).append(run(variants[variant], mode, files) / short_seconds)
            rtf.setdefault((variant, mode, "long"), []).append(run(variants[variant], mode, [str(long_path)])
                                                               / short_seconds)
        print(f"round {round_index + 1} done", flush=True)

    print(f"\n## asr.transcribe, {Path(args.model).name}, torch {torch.__version__}, 1 thread, "
          f"median of {args.rounds} rounds\n")
    print(f"short: {len(files)} files, {short_seconds:.0f} s of audio; long: the same audio as one "
          f"{short_seconds / 60:.1f}-minute file\n")
    print("| variant | mode | RTF short files | RTF long file | x real time (short) |")
    print("|---|---|---|---|---|")
    for variant, mode in runs:
        short, long = statistics.median(rtf[(variant, mode, "short")]), statistics.median(rtf[(variant, mode, "long")])
        print(f"| {variant} | {mode} | {short:.3f} | {long:.3f} | {1 / short:.0f}x |")
    if args.export:
        print_processes(variants, files[0], long_path, args, work)


def startup_seconds(model: str, audio: str, numba_cache: Path) -> float:
    """Wall time from process start to the first word of one file through the CLI."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "asr", "transcribe", "--model", model, "--no-progress", audio], check=True,
                   capture_output=True, env=env)
    return time.perf_counter() - start


def peak_rss_mb(model: str, audio: str) -> tuple[float, bool]:
    """Peak resident memory of a fresh process that transcribes `audio`, and whether it imported torch. VmHWM, not
    ru_maxrss: Linux carries the forking parent's peak over the child's exec into ru_maxrss."""
    script = ("import re, sys, asr; list(asr.transcribe(sys.argv[1], [sys.argv[2]])); "
              "status = open('/proc/self/status').read(); "
              "print(int(re.search(r'VmHWM:\\s+(\\d+)', status)[1]) / 1024, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script, model, audio], check=True, capture_output=True, text=True)
    rss, torch_imported = out.stdout.split()
    return float(rss), torch_imported == "True"


def print_processes(variants: dict[str, str], audio: str, long_path: Path, args, work: Path) -> None:
    """Start-up, peak RSS and WER per variant, each measured in fresh processes."""
    from asr.inference.config import load_decode_config
    from asr.inference.decode import decode_data_dir

    warm = work / "numba-warm"
    beam_mode = "beam 32 + LM" if args.lm else "beam 32"  # the WER column says whether an LM was given
    rows = []
    for variant, model in variants.items():
        startup_seconds(model, audio, warm)  # fills the warm cache
        warm_s = statistics.median(startup_seconds(model, audio, warm) for _ in range(args.rounds))
        cold_s = statistics.median(startup_seconds(model, audio, Path(tempfile.mkdtemp(dir=work)))
                                   for _ in range(args.rounds))
        wer = []
        if args.data:
            for mode, lm_path in (("greedy", None), (beam_mode, args.lm)):
                options, config = load_decode_config(None, {"device": "cpu", **MODES[mode]})
                result = decode_data_dir(model, args.data, work / f"decode-{variant}-{mode}".replace(" ", "_"),
                                         lm=lm_path, options=options, config=config, progress=False)
                wer.append(f"{result.report.error_rate:.2f}")
        rss, torch_imported = peak_rss_mb(model, str(long_path))
        rows.append(f"| {variant} | {warm_s:.2f} | {cold_s:.2f} | {rss:.0f} | {'yes' if torch_imported else 'no'} | "
                    f"{' | '.join(wer) if wer else '- | -'} |")
    print("\n| variant | start-up to first word, numba cache warm s | cold s | peak RSS, long file MB | "
          f"imports torch | WER % greedy | WER % {beam_mode} |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
