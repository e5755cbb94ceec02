"""speechocean762 (training half, 125 speakers, 2.9 h of read non-native English) with 10 speakers held out as
dev: for each unit type (char, phone, bpe) train a crnn and report dev CER/WER (greedy), seconds per epoch
and parameters.

    python bench/train_speechocean.py [--corpus ../shared/data/speechocean762-train] [--work /tmp/asr-bench-so]
        [--units char phone bpe] [--config recipes/speechocean762/conf/train.yaml] [-- extra `asr train` flags]

    python bench/train_speechocean.py --units char -- --device cuda --hidden-size 128 --conv-channels 16  # size

Stages: prepare (asr.prepare.speechocean), dev = every 12th speaker in sorted order (10 speakers), `asr features
fbank` once for both sets with the recipe's conf/fbank.conf, units per type (phone: CMU without stress; bpe:
sentencepiece unigram, --bpe-vocab units), `asr train` with the recipe's conf/train.yaml, then
`asr decode --beam-size 1` on dev (greedy; phone units decode to words through the lexicon) for the word
error rate. The "unit error rate" column is the training log's last validation CER, i.e. character errors of
the units' spelling (for phone units: of the phone string).

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
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
RECIPE_CONF = REPO / "recipes" / "speechocean762" / "conf"


def asr(*args: str, capture: bool = False) -> str:
    result = subprocess.run([sys.executable, "-m", "asr", *args], check=True, cwd=REPO, env=ENV,
                            capture_output=capture, text=True)
    return result.stdout if capture else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(REPO.parent / "shared" / "data" / "speechocean762-train"))
    parser.add_argument("--work", default="/tmp/asr-bench-so")
    parser.add_argument("--units", nargs="+", default=["char", "phone", "bpe"])
    parser.add_argument("--bpe-vocab", type=int, default=150)
    parser.add_argument("--config", default=str(RECIPE_CONF / "train.yaml"))
    parser.add_argument("extra", nargs="*", help="further `asr train` flags (after --)")
    args = parser.parse_args()

    from asr.datadir import read_data_dir, subset_data_dir
    from asr.models import count_parameters
    from asr.prepare.speechocean import prepare_speechocean
    from asr.training import load_model_dir
    from asr.units import train_tokenizer

    work = Path(args.work)
    data_all, train_dir, dev_dir = work / "data/all", work / "data/train", work / "data/dev"
    if not (train_dir / "feats.scp").is_file():
        prepare_speechocean(args.corpus, data_all)
        speakers = read_data_dir(data_all).speakers
        dev_speakers = speakers[::12][:10]
        (work / "dev_speakers").write_text("\n".join(dev_speakers) + "\n")
        (work / "train_speakers").write_text("\n".join(s for s in speakers if s not in dev_speakers) + "\n")
        subset_data_dir(data_all, dev_dir, spk_list=work / "dev_speakers")
        subset_data_dir(data_all, train_dir, spk_list=work / "train_speakers")
        for folder in (train_dir, dev_dir):
            asr("features", "fbank", "--config", str(RECIPE_CONF / "fbank.conf"), "--nj", "2", "--no-progress",
                str(folder))
    texts = list(read_data_dir(train_dir).text.values())
    dev_utts = len(read_data_dir(dev_dir).text)

    rows = []
    for units in args.units:
        lang, out = work / f"lang_{units}", work / f"exp/crnn_{units}"
        options = {"bpe": {"vocab_size": args.bpe_vocab}, "phone": {"stress": False}}.get(units, {})
        train_tokenizer(units, texts, options).save(lang)
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        asr("train", "--config", args.config, "--train", str(train_dir), "--valid", str(dev_dir), "--lang",
            str(lang), "--out", str(out), "--no-progress", *args.extra)
        wall = time.perf_counter() - start
        decoded = asr("decode", "--model", str(out), "--beam-size", "1", "--no-progress", str(dev_dir),
                      capture=True)
        wer = re.search(r"%WER ([\d.]+)", decoded)
        log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
        epoch_s = [r["elapsed_s"] - (log[i - 1]["elapsed_s"] if i else 0.0) for i, r in enumerate(log)]
        model = load_model_dir(out)
        rows.append((units, len(model.tokenizer.tokens), count_parameters(model.model), len(log),
                     sorted(epoch_s)[len(epoch_s) // 2], wall,
                     f"{load_before:.1f}/{os.getloadavg()[0]:.1f}", log[-1].get("cer"),
                     float(wer.group(1)) if wer else float("nan")))
        print(rows[-1], flush=True)

    print(f"\n## speechocean762 train half, 10 held-out speakers as dev ({dev_utts} utts), greedy\n")
    print("| units | outputs | params | epochs | median s/epoch | `asr train` wall (s) | load avg | "
          "dev unit CER % | dev WER % |")
    print("|---|---|---|---|---|---|---|---|---|")
    for units, outputs, params, epochs, epoch_s, wall, load, cer, wer in rows:
        print(f"| {units} | {outputs} | {params:,} | {epochs} | {epoch_s:.0f} | {wall:.0f} | {load} | {cer:.1f} | "
              f"{wer:.1f} |")


if __name__ == "__main__":
    main()
