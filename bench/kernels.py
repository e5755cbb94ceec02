"""Benchmark: the prefix-beam-search kernels as plain Python against numba-compiled, on a model's posteriors, and
what compiling costs: the figures behind `asr.decoding.kernels.COMPILE_AFTER_FRAMES`.

    python bench/kernels.py --model exp/crnn --data data/test [--lm data/local/lm/lm.arpa] [--beam 16] [--rounds 3]

The posteriors are the model's on the data dir (normalised as `bench/export.py` does). Each round decodes every
utterance with the plain kernels and with the compiled ones, in alternating order; the per-frame times are medians
over rounds. The cost of compiling is measured in fresh processes with a warm numba cache (what every process after
the first pays): importing numba, wrapping the kernels and the first decode, less that decode's compiled time.
The break-even is that cost over the per-frame saving. Threads pinned to 1.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

COMPILE = """
import sys, time
import numpy as np
from asr.decoding import CTCDecoder, kernels
from asr.units import load_tokenizer
lp = np.load(sys.argv[1])
decoder = CTCDecoder(load_tokenizer(sys.argv[2]), beam_size=int(sys.argv[3]))
start = time.perf_counter()
kernels.compile_kernels()
decoder.decode(lp)
first = time.perf_counter() - start
start = time.perf_counter()
decoder.decode(lp)
print(first - (time.perf_counter() - start))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--lm", default=None)
    parser.add_argument("--beam", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import numpy as np

    from asr.decoding import CTCDecoder, kernels
    from asr.modeldir import load_model_dir
    from asr.lm.arpa import read_arpa
    from export import network_inputs  # bench/export.py

    model = load_model_dir(args.model, num_threads=1)
    posteriors = model.log_probs(network_inputs(args.model, args.data))
    frames = sum(len(lp) for lp in posteriors)
    decoder = CTCDecoder(model.tokenizer, lm=read_arpa(args.lm) if args.lm else None,
                         beam_size=args.beam)
    kernels.COMPILE_AFTER_FRAMES = 10**12  # this process switches by hand
    plain = {name: getattr(kernels, name) for name in kernels.KERNELS}

    def seconds(compiled: bool) -> float:
        if compiled:
            kernels.compile_kernels()
        else:
            for name, function in plain.items():
                setattr(kernels, name, function)
        start = time.perf_counter()
        for lp in posteriors:
            decoder.decode(lp)
        return time.perf_counter() - start

    seconds(True)  # compiles (or loads the cache) outside the timing
    times: dict[bool, list[float]] = {False: [], True: []}
    for round_index in range(args.rounds):
        for compiled in ((False, True) if round_index % 2 == 0 else (True, False)):
            times[compiled].append(seconds(compiled))
    plain_ms, compiled_ms = (statistics.median(times[c]) / frames * 1000 for c in (False, True))

    sample = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-kernels-{os.getpid()}.npy"
    np.save(sample, posteriors[0])
    command = [sys.executable, "-c", COMPILE, str(sample), str(args.model / "lang"), str(args.beam)]
    subprocess.run(command, check=True, capture_output=True)  # fills the numba cache
    compile_s = statistics.median(float(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
                                  for _ in range(args.rounds))
    sample.unlink()
    print(f"{args.model} on {args.data}: {len(posteriors)} utterances, {frames} frames, beam {args.beam}, "
          f"LM {args.lm}, median of {args.rounds}\n")
    print("| kernels | ms per frame | compile from a warm cache s | break-even frames |")
    print("|---|---|---|---|")
    print(f"| plain Python | {plain_ms:.3f} | - | - |")
    saving = plain_ms - compiled_ms
    even = f"{compile_s * 1000 / saving:.0f}" if saving > 0 else "never"
    print(f"| numba | {compiled_ms:.3f} | {compile_s:.2f} | {even} |")


if __name__ == "__main__":
    main()
