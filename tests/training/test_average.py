"""Checkpoint averaging: the element-wise mean, over the last N or the best N by validation loss."""

from __future__ import annotations

import pytest
import torch

from asr.errors import AsrError
from asr.training.average import average_checkpoints, average_state_dicts, select_checkpoints
from asr.training.checkpoint import epoch_checkpoint_path, save_checkpoint


def _write_epochs(out_dir, losses):
    for epoch, loss in enumerate(losses, 1):
        model = {"w": torch.full((3,), float(epoch)), "bn.num_batches_tracked": torch.tensor(epoch * 10)}
        save_checkpoint(epoch_checkpoint_path(out_dir, epoch), {"model": model, "global_step": epoch * 10,
                                                                "valid_loss": loss})


def test_last_n_is_the_mean_and_integer_buffers_come_from_the_last(tmp_path):
    _write_epochs(tmp_path, [4.0, 3.0, 2.0, 2.5])
    output = average_checkpoints(tmp_path, last=3)
    averaged = torch.load(output, weights_only=True)
    assert output == tmp_path / "model.pt"
    assert torch.equal(averaged["w"], torch.full((3,), (2 + 3 + 4) / 3))
    assert averaged["bn.num_batches_tracked"].item() == 40


def test_best_n_picks_the_lowest_validation_losses(tmp_path):
    _write_epochs(tmp_path, [4.0, 1.0, 3.0, 2.0])
    assert [p.name for p in select_checkpoints(tmp_path, best=2)] == ["epoch-0002.pt", "epoch-0004.pt"]
    averaged = torch.load(average_checkpoints(tmp_path, best=2, output=tmp_path / "avg.pt"), weights_only=True)
    assert torch.equal(averaged["w"], torch.full((3,), 3.0))


def test_average_keeps_each_tensor_dtype():
    states = [{"w": torch.tensor([1.0, 40000.0], dtype=torch.float16)},
              {"w": torch.tensor([2.0, 48000.0], dtype=torch.float16)}]
    averaged = average_state_dicts(states)["w"]
    assert averaged.dtype == torch.float16
    assert averaged.tolist() == [1.5, 44000.0]  # the sum, 88000, would overflow float16 (max 65504)


def test_selection_errors_are_actionable(tmp_path):
    with pytest.raises(AsrError, match="no epoch checkpoints"):
        select_checkpoints(tmp_path, last=1)
    _write_epochs(tmp_path, [None, 2.0])
    with pytest.raises(AsrError, match="only 2"):
        select_checkpoints(tmp_path, last=3)
    with pytest.raises(AsrError, match="use --last"):
        select_checkpoints(tmp_path, best=1)
    with pytest.raises(AsrError, match="exactly one"):
        select_checkpoints(tmp_path, last=1, best=1)
