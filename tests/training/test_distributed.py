"""DDP over 2 CPU processes (gloo via torchrun) equals one process on the same global batches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ddp_worker import train
from synthetic_corpus import write_corpus

WORKER = Path(__file__).resolve().parent / "ddp_worker.py"
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_processes_match_one_on_the_same_global_batches(tmp_path):
    (tmp_path / "corpus").mkdir()
    write_corpus(tmp_path / "corpus")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                    str(WORKER), str(tmp_path / "corpus"), str(tmp_path / "ddp")], check=True, env=env,
                   capture_output=True, timeout=300)
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
