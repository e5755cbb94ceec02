"""Benchmark: `asr.transcribe` speed (real-time factor) on real speech, short files and one long file.

Inputs: a trained model directory (`--model`, e.g. the speechocean762 recipe's exp/crnn_phone) and the first
`--files` FLAC files of speechocean762's wav.scp; the long file is those files end to end (written once as a
16 kHz WAV under --work), so that chunked transcription (`chunk_length_s` 30 s, 4 s context) is what runs.
Search modes: greedy, prefix beam search (beam 32), and beam 32 with a word trigram (`--lm`, e.g. the recipe's
data/local/lm/text.arpa).

Timing follows the shared benchmarking guide (BENCHMARKING.md): threads pinned to 1, one untimed warm-up per mode, then `--rounds`
rounds; in each every mode transcribes the short files and the long file once, in an order that rotates between
rounds. The real-time factor (seconds of compute per second of audio, lower is faster) is the median over rounds;
each call includes reading and resampling the audio, features, CMVN, the network and the search. There is no
peer: no other offline toolkit installable here transcribes with a model we can train; the feature stage is
compared with its peers in bench/features.py and the search in bench/decode.py.

    python bench/transcribe.py --model exp/crnn_phone --lm data/local/lm/text.arpa [--files 50] [--rounds 3]
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
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
    long_path = Path(args.work or tempfile.mkdtemp(prefix="asr-bench-transcribe-")) / "long.wav"
    long_path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(long_path, np.concatenate([wave for wave, _ in waves]), waves[0][1], subtype="PCM_16")
    lm = read_arpa(args.lm) if args.lm else None
    modes = {name: extra for name, extra in MODES.items() if lm is not None or "LM" not in name}

    def run(mode: str, inputs: list[str]) -> float:
        start = time.perf_counter()
        asr.transcribe(args.model, inputs, lm=lm if "LM" in mode else None, **modes[mode])
        return time.perf_counter() - start

    for mode in modes:  # warm-up: model load, imports, caches
        run(mode, files[:2])
    rtf: dict[tuple[str, str], list[float]] = {}
    names = list(modes)
    for round_index in range(args.rounds):
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        for mode in order:
            rtf.setdefault((mode, "short"), []).append(run(mode, files) / short_seconds)
            rtf.setdefault((mode, "long"), []).append(run(mode, [str(long_path)]) / short_seconds)
        print(f"round {round_index + 1}: " + ", ".join(f"{m}/{k} {v[-1]:.3f}" for (m, k), v in rtf.items()),
              flush=True)

    print(f"\n## asr.transcribe, {Path(args.model).name}, torch {torch.__version__}, 1 thread, "
          f"median of {args.rounds} rounds\n")
    print(f"short: {len(files)} files, {short_seconds:.0f} s of audio; long: the same audio as one "
          f"{short_seconds / 60:.1f}-minute file (chunked)\n")
    print("| mode | RTF short files | RTF long file | x real time (short) |")
    print("|---|---|---|---|")
    for mode in modes:
        short, long = statistics.median(rtf[(mode, "short")]), statistics.median(rtf[(mode, "long")])
        print(f"| {mode} | {short:.3f} | {long:.3f} | {1 / short:.0f}x |")


if __name__ == "__main__":
    main()
