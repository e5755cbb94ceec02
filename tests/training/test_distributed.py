"""DDP over 2 CPU processes (gloo via torchrun) equals one process on the same global batches, whether torchrun
starts both on one machine or each "machine" starts one (--nnodes 2, c10d rendezvous on localhost, the multi-node
launch the trainer documents). On sharded data (asr data shard) the processes read disjoint shards, so no single
process sees the same batches: there the check is that each reads only its own shards, every shard is read by
one, and both end with the same weights."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ddp_worker import train
from synthetic_corpus import write_corpus

WORKER = Path(__file__).resolve().parent / "ddp_worker.py"
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def launch(mode: str, corpus: Path, out_dir: Path, *train_dir: str) -> None:
    """torchrun with 2 processes on one node, or 2 torchrun "nodes" of one process each meeting at a c10d
    rendezvous (what every machine of a multi-node job runs)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    run = [sys.executable, "-m", "torch.distributed.run"]
    job = [str(WORKER), str(corpus), str(out_dir), *train_dir]
    if mode == "one_node":
        subprocess.run([*run, "--standalone", "--nproc-per-node", "2", *job], check=True, env=env,
                       capture_output=True, timeout=300)
        return
    node = [*run, "--nnodes", "2", "--nproc-per-node", "1", "--rdzv-backend", "c10d",
            "--rdzv-endpoint", f"localhost:{free_port()}", "--rdzv-id", "asr-test", *job]
    nodes = [subprocess.Popen(node, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    for process in nodes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr.decode()[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["one_node", "two_nodes"])
def test_two_processes_match_one_on_the_same_global_batches(tmp_path, mode):
    (tmp_path / "corpus").mkdir()
    write_corpus(tmp_path / "corpus")
    launch(mode, tmp_path / "corpus", tmp_path / "ddp")
    rank0 = torch.load(tmp_path / "ddp" / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "ddp" / "rank1.pt", weights_only=True)
    assert all(torch.equal(rank0[name], rank1[name]) for name in rank0)
    assert all(torch.equal(rank0[name], value)
               for name, value in torch.load(tmp_path / "ddp" / "model.pt", weights_only=True).items())

    single = train(tmp_path / "corpus", tmp_path / "single")
    for name, value in single.model.state_dict().items():
        torch.testing.assert_close(rank0[name], value, rtol=1e-4, atol=1e-5)
    log = lambda d: [json.loads(line) for line in (d / "log.jsonl").read_text().splitlines()]  # noqa: E731
    ddp_log, single_log = log(tmp_path / "ddp"), log(tmp_path / "single")
    assert [r["global_step"] for r in ddp_log] == [r["global_step"] for r in single_log]
    assert [r["train_loss"] for r in ddp_log] == pytest.approx([r["train_loss"] for r in single_log], rel=1e-5)
    # validation runs on rank 0 with the whole valid set: the same figures as one process
    assert [r["valid_loss"] for r in ddp_log] == pytest.approx([r["valid_loss"] for r in single_log], rel=1e-4)
    assert [r["cer"] for r in ddp_log] == [r["cer"] for r in single_log]


@pytest.mark.slow
def test_two_processes_read_disjoint_shards(tmp_path):
    from asr.shards import shard_data_dir

    (tmp_path / "corpus").mkdir()
    write_corpus(tmp_path / "corpus")
    shard_data_dir(tmp_path / "corpus/data/train", tmp_path / "corpus/data/train_sharded", utts_per_shard=8,
                   progress=False)
    launch("one_node", tmp_path / "corpus", tmp_path / "ddp", "train_sharded")
    rank0 = torch.load(tmp_path / "ddp" / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "ddp" / "rank1.pt", weights_only=True)
    assert all(torch.equal(rank0[name], rank1[name]) for name in rank0)
    read = [json.loads((tmp_path / "ddp" / f"rank{r}_shards.json").read_text()) for r in (0, 1)]
    for epoch in range(2):
        assert len(read[0][epoch]) == len(read[1][epoch]) == 2 and not set(read[0][epoch]) & set(read[1][epoch])
    assert read[0][0] != read[0][1]  # a new deal every epoch
