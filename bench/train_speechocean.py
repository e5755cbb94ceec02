"""speechocean762 (training half, 125 speakers, 2.9 h of read non-native English) with 10 speakers held out as
dev: for each unit type (char, phone, bpe) train a crnn and report dev error rates greedy and with the word LM,
seconds per epoch and parameters.

    python bench/train_speechocean.py [--corpus ../shared/data/speechocean762-train] [--work DIR]
        [--units char phone bpe] [--config recipes/speechocean762/conf/train.yaml] [-- extra `asr train` flags]

    # the GPU rows of recipes/speechocean762/RESULTS.md (sizes S / M / L; round 2: --epochs 20):
    python bench/train_speechocean.py --units char bpe --tag S -- --device cuda --epochs 40 --lr 0.004 \\
        --conv-channels 16 --hidden-size 128
    python bench/train_speechocean.py --units char --tag M -- --device cuda --epochs 40
    python bench/train_speechocean.py --units char --tag L -- --device cuda --epochs 40 --num-layers 3

Data, units and LM come from the recipe itself (`recipes/speechocean762/run.sh --stop-stage 4`: the same dev
speakers, fbank options, CMU phones without stress, BPE --bpe-vocab, word 3-gram), so the figures are the
recipe's. Then per unit type `asr train` with the recipe's conf/train.yaml (+ extra flags), and `asr decode` of
dev greedy (`--beam-size 1`) and with the LM (the recipe's conf/decode.yaml), each scored with `asr score --cer`
too. The "unit error" column is the training log's last validation CER of the units' spelling (for phone
units: the phone error rate); greedy phone strings make words only where they spell a lexicon word exactly.

Threads pinned to 1; the machine is shared and wall times are noisy (load average printed).
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
RECIPE = REPO / "recipes" / "speechocean762"


def asr(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "asr", *args], check=True, cwd=REPO, env=ENV,
                            capture_output=True, text=True)
    return result.stdout


def error_rate(output: str, kind: str) -> float:
    """The number after %WER / %CER in compute-wer style output."""
    found = re.search(rf"%{kind} ([\d.]+)", output)
    return float(found.group(1)) if found else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(REPO.parent / "shared" / "data" / "speechocean762-train"))
    parser.add_argument("--work", default=None, help="working folder [a new temporary one]")
    parser.add_argument("--units", nargs="+", default=["char", "phone", "bpe"])
    parser.add_argument("--bpe-vocab", type=int, default=150)
    parser.add_argument("--config", default=str(RECIPE / "conf" / "train.yaml"))
    parser.add_argument("--tag", default="", help="suffix of the model directories (exp/crnn_UNITS_TAG)")
    parser.add_argument("extra", nargs="*", help="further `asr train` flags (after --)")
    args = parser.parse_args()

    from asr.models import count_parameters
    from asr.modeldir import load_model_dir

    work = Path(args.work or tempfile.mkdtemp(prefix="asr-bench-so-")).absolute()
    subprocess.run(["bash", str(RECIPE / "run.sh"), "--corpus-dir", str(Path(args.corpus).absolute()), "--work-dir",
                    str(work), "--units", " ".join(args.units), "--bpe-vocab-size", str(args.bpe_vocab),
                    "--stop-stage", "4"], check=True, cwd=REPO, env=ENV)
    train_dir, dev_dir = work / "data/train", work / "data/dev"
    lm_dir = work / "data/local/lm"
    lm = lm_dir / f"{(lm_dir / 'lms').read_text().split()[-1]}.arpa"  # the recipe's last LM: the mixed one

    rows = []
    for units in args.units:
        out = work / "exp" / f"crnn_{units}{'_' + args.tag if args.tag else ''}"
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        asr("train", "--config", args.config, "--train", str(train_dir), "--valid", str(dev_dir), "--lang",
            str(work / f"data/lang_{units}"), "--out", str(out), "--no-progress", *args.extra)
        wall = time.perf_counter() - start
        scores = []
        for name, search in (("decode_dev", ["--beam-size", "1"]),
                             ("decode_dev_lm", ["--config", str(RECIPE / "conf/decode.yaml"), "--lm", str(lm)])):
            wer = error_rate(asr("decode", "--model", str(out), *search, "--out", str(out / name), "--no-progress",
                                 str(dev_dir)), "WER")
            cer = error_rate(asr("score", "--cer", str(dev_dir / "text"), str(out / name / "text")), "CER")
            scores += [wer, cer]
        log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
        epoch_s = [r["elapsed_s"] - (log[i - 1]["elapsed_s"] if i else 0.0) for i, r in enumerate(log)]
        model = load_model_dir(out)
        rows.append((units, len(model.tokenizer.tokens), count_parameters(model.network.module), len(log),
                     sorted(epoch_s)[len(epoch_s) // 2], wall, f"{load_before:.1f}/{os.getloadavg()[0]:.1f}",
                     log[-1].get("cer", float("nan")), *scores))
        print(rows[-1], flush=True)

    print(f"\n## speechocean762 train half, 10 held-out speakers as dev, `asr train {' '.join(args.extra)}`\n")
    print("| units | outputs | params | epochs | median s/epoch | `asr train` wall (s) | load avg | unit error % | "
          "greedy WER % | greedy CER % | LM WER % | LM CER % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for units, outputs, params, epochs, epoch_s, wall, load, unit_error, *scores in rows:
        print(f"| {units} | {outputs} | {params:,} | {epochs} | {epoch_s:.0f} | {wall:.0f} | {load} | "
              f"{unit_error:.1f} | " + " | ".join(f"{s:.1f}" for s in scores) + " |")


if __name__ == "__main__":
    main()
