"""Checkpoints load with weights_only=True, refuse pickled payloads, and are found in training order."""

from __future__ import annotations

import os

import pytest
import torch

from asr.errors import AsrError
from asr.training.checkpoint import (epoch_checkpoint_path, latest_checkpoint, load_checkpoint, prune_step_checkpoints,
                                     rng_state, save_checkpoint, set_rng_state, step_checkpoint_path)


def _state(step: int) -> dict:
    return {"model": {"w": torch.full((2,), float(step))}, "global_step": step, "rng": [torch.get_rng_state()],
            "config": {"speed_perturb": [0.9, 1.1], "feature_config": None}}


def test_round_trip_is_weights_only(tmp_path):
    path = step_checkpoint_path(tmp_path, 7)
    save_checkpoint(path, _state(7))
    plain = torch.load(path, weights_only=True)  # what any user can do with the file
    assert plain["global_step"] == 7 and torch.equal(plain["model"]["w"], torch.full((2,), 7.0))
    assert load_checkpoint(path)["config"]["speed_perturb"] == [0.9, 1.1]
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary left behind


class _Payload:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def test_a_pickle_payload_is_refused_not_executed(tmp_path):
    marker = tmp_path / "payload-ran"
    path = tmp_path / "checkpoints" / "epoch-0001.pt"
    path.parent.mkdir()
    torch.save({"format": "asr-checkpoint-1", "model": _Payload(str(marker))}, path)
    with pytest.raises(AsrError, match="epoch-0001.pt"):
        load_checkpoint(path)
    assert not marker.exists()


def test_truncated_and_foreign_files_are_user_errors(tmp_path):
    path = tmp_path / "epoch-0001.pt"
    save_checkpoint(path, _state(1))
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(AsrError, match="truncated"):
        load_checkpoint(path)
    torch.save({"w": torch.zeros(1)}, path)
    with pytest.raises(AsrError, match="not an asr checkpoint"):
        load_checkpoint(path)


def test_latest_is_the_furthest_into_training(tmp_path):
    assert latest_checkpoint(tmp_path) is None
    save_checkpoint(epoch_checkpoint_path(tmp_path, 1), _state(10))
    save_checkpoint(step_checkpoint_path(tmp_path, 8), _state(8))
    assert latest_checkpoint(tmp_path).name == "epoch-0001.pt"
    save_checkpoint(step_checkpoint_path(tmp_path, 14), _state(14))
    assert latest_checkpoint(tmp_path).name == "step-00000014.pt"
    save_checkpoint(step_checkpoint_path(tmp_path, 18), _state(18))
    prune_step_checkpoints(tmp_path, keep=1)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["epoch-0001.pt", "step-00000018.pt"]


def test_rng_state_restores_the_random_stream():
    state = rng_state(torch.device("cpu"))
    expected = torch.rand(5)
    torch.rand(3)
    set_rng_state(state, torch.device("cpu"))
    assert torch.equal(torch.rand(5), expected)
