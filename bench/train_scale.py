"""Training memory and speed against corpus size: the in-memory and the streamed training-data paths on 1x, 4x and
16x copies of a data dir, a fixed number of steps each.

    python bench/train_scale.py --data data/train --lang data/lang_phone \
        --config recipes/speechocean762/conf/train.yaml --copies 1 4 16 --max-steps 20 --rounds 3 \
        -- --vtlp 0 --speed-perturb 1.0                                                           # issue 13

The copies are renamed replicas (`r3-` before every utterance and speaker id) whose feats.scp lines point at the
same arks, so they cost no disk. Each run is a fresh `asr train --max-steps N` process; printed per path and size
(medians over --rounds): peak RSS (the training process and its loader workers), training frames per second over
the steps, and start-up seconds (process start to the first step: reading the data dir, CMVN statistics, the
network). Extra `asr train` options go after `--`, e.g. `-- --num-workers 1`; `-- --vtlp 0 --speed-perturb 1.0`
measures the stored features alone (with them, every batch is recomputed from the audio on either path).
`--sharded` adds a third path: each replica written as tar shards (`asr data shard`, real copies on disk) and
streamed from them, batches dealt out by shard (the time to write the shards is printed beside).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from asr.datadir import read_data_dir
from asr.shards import shard_data_dir

RUN = """
import resource, sys
from asr.cli import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    if e.code:
        raise
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"PEAK_RSS_KB {own} {workers}", file=sys.stderr)
"""
STOP = re.compile(r"max_steps=\d+ reached in epoch \d+: (\d+) frames in ([\d.]+) s")


def replicate(data: Path, copies: int, out: Path) -> Path:
    """`copies` renamed replicas of data dir `data` in `out` (feats.scp, wav.scp, text, utt2spk, utt2num_frames,
    spk2utt; no segments)."""
    source = read_data_dir(data)
    out.mkdir(parents=True, exist_ok=True)
    files = {"feats.scp": source.feats_scp, "text": source.text, "utt2num_frames": source.utt2num_frames,
             "wav.scp": source.wav_scp}
    for name, table in files.items():
        (out / name).write_text("".join(f"r{i}-{k} {v}\n" for i in range(copies) for k, v in sorted(table.items())),
                                encoding="utf-8")
    (out / "utt2spk").write_text("".join(f"r{i}-{k} r{i}-{v}\n" for i in range(copies)
                                         for k, v in sorted(source.utt2spk.items())), encoding="utf-8")
    speakers: dict[str, list[str]] = {}
    for i in range(copies):
        for utt, spk in sorted(source.utt2spk.items()):
            speakers.setdefault(f"r{i}-{spk}", []).append(f"r{i}-{utt}")
    (out / "spk2utt").write_text("".join(f"{s} {' '.join(u)}\n" for s, u in sorted(speakers.items())),
                                 encoding="utf-8")
    if (data / "feats.conf").is_file():
        (out / "feats.conf").write_text((data / "feats.conf").read_text(encoding="utf-8"), encoding="utf-8")
    return out


def train_once(data: Path, args: argparse.Namespace, stream: str, out: Path) -> tuple[float, float, float]:
    """(peak RSS MB, frames/s, start-up s) of one `asr train --max-steps` process."""
    command = [sys.executable, "-c", RUN, "train", "--train", str(data), "--lang", str(args.lang), "--out", str(out),
               "--max-steps", str(args.max_steps), "--stream-data", stream, "--no-progress", "--device", "cpu",
               *(["--config", str(args.config)] if args.config else []), *args.train_options]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"asr train failed:\n{done.stderr[-2000:]}")
    own, workers = map(int, re.search(r"PEAK_RSS_KB (\d+) (\d+)", done.stderr).groups())
    frames, seconds = STOP.search(done.stderr).groups()
    return (own + workers) / 1024, int(frames) / float(seconds), wall - float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="training data dir with feats.scp and text")
    parser.add_argument("--lang", type=Path, required=True)
    parser.add_argument("--config", type=Path, default=None, help="asr train --config")
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sharded", action="store_true", help="also train streamed from tar shards of each replica")
    parser.add_argument("train_options", nargs="*", help="more asr train options (after --)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="asr-bench-scale-"))
    print(f"{args.data} x {args.copies}, {args.max_steps} steps, medians of {args.rounds} runs, work dir {work}\n")
    print("| copies | path | peak RSS MB | frames/s | start-up s |")
    print("|---|---|---|---|---|")
    for copies in args.copies:
        data = replicate(args.data, copies, work / f"x{copies}")
        paths = [("in memory", data, "never"), ("streamed", data, "always")]
        if args.sharded:
            start = time.perf_counter()
            shard_data_dir(data, work / f"x{copies}_shards", progress=False)
            paths.append((f"sharded, streamed (shards written in {time.perf_counter() - start:.0f} s)",
                          work / f"x{copies}_shards", "always"))
        for name, path, stream in paths:
            runs = [train_once(path, args, stream, work / f"exp_{path.name}_{stream}_{r}") for r in range(args.rounds)]
            rss, fps, startup = (median(column) for column in zip(*runs))
            print(f"| {copies} | {name} | {rss:.0f} | {fps:.0f} | {startup:.1f} |", flush=True)


if __name__ == "__main__":
    main()
