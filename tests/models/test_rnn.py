"""The `rnn` and `crnn` networks: shapes, output lengths, probability rows, padding independence."""

from __future__ import annotations

import pytest
import torch

from asr.errors import AsrError
from asr.models import build_model, count_parameters
from asr.training.config import TrainConfig


def _config(**overrides) -> TrainConfig:
    return TrainConfig(**{"hidden_size": 8, "num_layers": 2, "conv_channels": 4, **overrides})


@pytest.mark.parametrize("model,subsampling,rnn_type", [("rnn", 2, "lstm"), ("rnn", 2, "gru"), ("crnn", 2, "lstm"),
                                                         ("crnn", 4, "gru")])
def test_output_lengths_and_log_probabilities(model, subsampling, rnn_type):
    torch.manual_seed(0)
    net = build_model(_config(model=model, subsampling=subsampling, rnn_type=rnn_type), 13, 7).eval()
    lengths = torch.tensor([21, 9, 1])
    log_probs, out_lengths = net(torch.randn(3, 21, 13), lengths)
    factor = 1 if model == "rnn" else subsampling
    assert net.subsampling == factor
    assert out_lengths.tolist() == [-(-n // factor) for n in lengths.tolist()]  # ceil(T / s)
    assert log_probs.shape == (3, -(-21 // factor), 7)
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(log_probs.shape[:2]))


@pytest.mark.parametrize("model,subsampling", [("rnn", 2), ("crnn", 2), ("crnn", 4)])
def test_padding_does_not_change_valid_frames(model, subsampling):
    """In eval mode an utterance's posteriors are the same alone or padded inside a longer batch."""
    torch.manual_seed(0)
    net = build_model(_config(model=model, subsampling=subsampling), 10, 5).eval()
    feats = torch.randn(2, 30, 10)
    batch, out_lengths = net(feats, torch.tensor([30, 13]))
    alone, alone_lengths = net(feats[1:, :13], torch.tensor([13]))
    assert alone_lengths.item() == out_lengths[1].item()
    torch.testing.assert_close(batch[1, :out_lengths[1]], alone[0], atol=1e-5, rtol=0)


def test_sizes_come_from_the_config():
    small = build_model(_config(model="rnn", hidden_size=8, num_layers=1), 13, 7)
    # one BiLSTM layer: 2 directions x 4 gates x (input + hidden + 2 biases) x hidden; then linear 16 -> 7
    assert count_parameters(small) == 2 * 4 * 8 * (13 + 8 + 2) + 16 * 7 + 7
    assert count_parameters(build_model(_config(model="rnn", hidden_size=16), 13, 7)) > count_parameters(small)


def test_unknown_model_and_bad_subsampling_are_user_errors():
    with pytest.raises(AsrError, match="model="):
        build_model(_config(model="transformer"), 13, 7)
    with pytest.raises(AsrError, match="subsampling"):
        _config(model="crnn", subsampling=3)
