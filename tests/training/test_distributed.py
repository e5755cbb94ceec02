"""DDP over 2 CPU processes (gloo via torchrun) equals one process on the same global batches, whether torchrun
starts both on one machine or each "machine" starts one (--nnodes 2, c10d rendezvous on localhost, the multi-node
launch the trainer documents)."""

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


def launch(mode: str, corpus: Path, out_dir: Path) -> None:
    """torchrun with 2 processes on one node, or 2 torchrun "nodes" of one process each meeting at a c10d
    rendezvous (what every machine of a multi-node job runs)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    run = [sys.executable, "-m", "torch.distributed.run"]
    job = [str(WORKER), str(corpus), str(out_dir)]
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
