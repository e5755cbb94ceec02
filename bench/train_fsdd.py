"""Train a crnn on FSDD's official split (indices 0-4 of every speaker and digit = test) and report epochs, wall
time, parameters and greedy WER/CER on the test set.

    python bench/train_fsdd.py [--corpus ../shared/data/fsdd] [--work DIR] [--dev-speaker NAME] \
        [--config conf/train_fsdd.yaml] [-- extra `asr train` flags]

Stages: prepare (asr.prepare.fsdd), character units, `asr train` (features computed from wav.scp once at
start, then trained; timed as one wall-clock figure, as a user experiences it), greedy decoding of the test
set with the trained model directory, scoring with asr.scoring; then `asr average --last N` and the same
scoring of the averaged weights. Nothing is selected (the last epoch, and the fixed last N epochs), and the test
set is scored once, after training. `--dev-speaker NAME` holds one speaker's training utterances out as a dev set
for a per-epoch curve (training then has one speaker fewer); without it nothing is validated. `--work` defaults
to a new temporary folder.

Threads are pinned to 1 (see BENCHMARKING.md); the machine is shared, so wall times are noisy: the load
average is printed next to them.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(REPO.parent / "shared" / "data" / "fsdd"))
    parser.add_argument("--work", default=None, help="working folder [a new temporary one]")
    parser.add_argument("--dev-speaker", default=None, help="a training speaker held out as dev (a curve only)")
    parser.add_argument("--config", default=str(REPO / "conf" / "train_fsdd.yaml"))
    parser.add_argument("--average", type=int, default=5, help="also score the average of the last N epochs")
    parser.add_argument("extra", nargs="*", help="further `asr train` flags (after --)")
    args = parser.parse_args()

    import torch

    from asr.datadir import subset_data_dir
    from asr.prepare.fsdd import prepare_fsdd
    from asr.units import train_tokenizer

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="asr-bench-fsdd-"))
    shutil.rmtree(work, ignore_errors=True)
    train_dir, test_dir, lang, out = work / "data/train", work / "data/test", work / "data/lang_char", work / "exp/crnn"
    prepare_fsdd(args.corpus, train_dir, subset="train")
    prepare_fsdd(args.corpus, test_dir, subset="test")
    valid = []
    if args.dev_speaker:
        speakers = [line.split()[0] for line in (train_dir / "spk2utt").read_text().splitlines()]
        if args.dev_speaker not in speakers:
            sys.exit(f"--dev-speaker {args.dev_speaker}: not a speaker of {args.corpus} ({', '.join(speakers)})")
        rest = [s for s in speakers if s != args.dev_speaker]
        for name, chosen in (("dev", [args.dev_speaker]), ("train_nodev", rest)):
            (work / f"{name}.spk").write_text("".join(f"{s}\n" for s in chosen))
            subset_data_dir(train_dir, work / "data" / name, spk_list=work / f"{name}.spk")
        dev_dir = work / "data/dev"
        train_dir = work / "data/train_nodev"
        valid = ["--valid", str(dev_dir)]
    texts = [line.split(" ", 1)[1] for line in (train_dir / "text").read_text().splitlines()]
    train_tokenizer("char", texts).save(lang)

    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "asr", "train", "--config", args.config, "--train", str(train_dir),
                    *valid, "--lang", str(lang), "--out", str(out), "--no-progress", *args.extra],
                   check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    wall = time.perf_counter() - start
    load_after = os.getloadavg()[0]

    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    last = evaluate(out, test_dir)
    subprocess.run([sys.executable, "-m", "asr", "average", str(out), "--last", str(args.average)], check=True,
                   cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True)
    averaged = evaluate(out, test_dir)

    print(f"\n## FSDD official split, {last['model']} (torch {torch.__version__}, 1 thread, greedy)\n")
    print("| train utts | test utts | params | epochs | `asr train` wall (s) | training s (log) | load avg "
          "before/after | test WER %, last epoch | test WER %, average of last "
          f"{args.average} | test CER %, last / averaged |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {len(texts)} | {last['utts']} | {last['params']:,} | {len(log)} | {wall:.0f} | "
          f"{log[-1]['elapsed_s']:.0f} | {load_before:.1f}/{load_after:.1f} | {last['wer']:.2f} | "
          f"{averaged['wer']:.2f} | {last['cer']:.2f} / {averaged['cer']:.2f} |")
    if valid:
        print(f"\ndev ({args.dev_speaker}, held out) WER % per epoch: "
              + ", ".join(f"{r['epoch']}: {r.get('wer', float('nan')):.1f}" for r in log))
    for name, result in (("last epoch", last), ("averaged", averaged)):
        print(f"{name}: {result['summary']}; errors: " + "; ".join(result["errors"]))


def evaluate(model_dir: Path, test_dir: Path) -> dict:
    """Greedy WER/CER of the model directory's model.pt on `test_dir` (features as recorded in the model)."""
    from asr.decoding import greedy_search
    from asr.scoring import score_texts
    from asr.modeldir import load_model_dir
    from asr.training.dataset import FeatureSpec, load_dataset

    model = load_model_dir(model_dir)
    features = FeatureSpec(kind=model.feature_kind, options=model.feature_options, source="wav",
                           dim=int(model.cmvn_stats.shape[1] - 1), flavor=model.feature_flavor)
    test = load_dataset(test_dir, model.tokenizer, features, model.subsampling, progress=False,
                        keep_too_short=True)
    refs = {u.key: u.text for u in test.utterances}
    hyps = {}
    for i in range(0, len(test.utterances), 64):
        batch = test.utterances[i:i + 64]
        for utt, log_probs in zip(batch, model.log_probs([model.normalize(u.feats) for u in batch])):
            hyps[utt.key] = model.tokenizer.decode(greedy_search(log_probs))
    wer, cer = score_texts(refs, hyps), score_texts(refs, hyps, cer=True)
    return {"model": model.config.model, "params": sum(p.numel() for p in model.network.module.parameters()),
            "utts": len(refs), "wer": wer.error_rate, "cer": cer.error_rate, "summary": wer.summary(),
            "errors": [f"{u.utt}: {refs[u.utt]} -> {hyps[u.utt]}" for u in wer.utterances if u.counts.errors]}


if __name__ == "__main__":
    main()
