"""The `rnn` and `crnn` networks: shapes, output lengths, probability rows, padding independence."""

from __future__ import annotations

import numpy as np
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


@pytest.mark.parametrize("model,subsampling,extra", [("rnn", 2, {}), ("crnn", 2, {}), ("crnn", 4, {}),
                                                     ("crnn", 2, {"causal": True, "chunk_frames": 4,
                                                                  "right_context": 3})])
def test_padding_does_not_change_valid_frames(model, subsampling, extra):
    """In eval mode an utterance's posteriors are the same alone or padded inside a longer batch (a backward
    layer over chunks reads zeros after the end either way)."""
    torch.manual_seed(0)
    net = build_model(_config(model=model, subsampling=subsampling, **extra), 10, 5).eval()
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


def test_an_intermediate_ctc_head_splits_the_stack_without_changing_what_it_computes():
    """inter_ctc_layer=1 runs layer 1, the head, then layer 2 as a second RNN: given the same weights, the last
    layer's output is the one-piece stack's, and the head gives a probability row per output frame."""
    torch.manual_seed(0)
    whole = build_model(_config(model="crnn", num_layers=2), 10, 5).eval()
    split = build_model(_config(model="crnn", num_layers=2, inter_ctc_layer=1), 10, 5).eval()
    weights = {}
    for key, value in whole.state_dict().items():
        if key.startswith("rnn.rnn.") and "_l1" in key:  # layer 2 of the one-piece stack is layer 1 of the upper
            key = key.replace("rnn.rnn.", "rnn.upper.").replace("_l1", "_l0")
        weights[key] = value
    missing, unexpected = split.load_state_dict(weights, strict=False)
    assert sorted(missing) == ["rnn.inter_output.bias", "rnn.inter_output.weight"] and not unexpected
    feats, lengths = torch.randn(2, 30, 10), torch.tensor([30, 13])
    expected, expected_lengths = whole(feats, lengths)
    log_probs, out_lengths, inter = split(feats, lengths, intermediate=True)
    torch.testing.assert_close(log_probs, expected)
    assert out_lengths.tolist() == expected_lengths.tolist()
    assert inter.shape == log_probs.shape
    torch.testing.assert_close(inter.exp().sum(-1), torch.ones(inter.shape[:2]))
    assert whole(feats, lengths, intermediate=True)[2] is None


@pytest.mark.parametrize("model", ["rnn", "crnn"])
def test_self_conditioning_feeds_the_intermediate_posteriors_to_the_upper_layers(model):
    torch.manual_seed(0)
    net = build_model(_config(model=model, num_layers=3, inter_ctc_layer=2, self_conditioning=True), 10, 5).eval()
    feats, lengths = torch.randn(2, 30, 10), torch.tensor([30, 13])
    conditioned = net(feats, lengths)[0]
    batch = net(feats, lengths)[0]
    alone = net(feats[1:, :13], torch.tensor([13]))[0]
    torch.testing.assert_close(batch[1, :alone.shape[1]], alone[0], atol=1e-5, rtol=0)  # padding stays out
    with torch.no_grad():  # a zero projection conditions on nothing: the plain intermediate-CTC network
        net.rnn.condition.weight.zero_()
        net.rnn.condition.bias.zero_()
    plain = net(feats, lengths)[0]
    net.rnn.condition = None
    torch.testing.assert_close(net(feats, lengths)[0], plain)
    assert not torch.allclose(conditioned, plain)


def test_intermediate_ctc_options_are_checked():
    with pytest.raises(AsrError, match="inter_ctc_layer=2: .* 1 to 1"):
        _config(num_layers=2, inter_ctc_layer=2)
    with pytest.raises(AsrError, match="self_conditioning=true .* set inter_ctc_layer"):
        _config(self_conditioning=True)
    with pytest.raises(AsrError, match="inter_ctc_weight=1.0"):
        _config(inter_ctc_layer=1, inter_ctc_weight=1.0)


@pytest.mark.parametrize("model,subsampling,extra", [("crnn", 2, {}), ("crnn", 4, {}), ("rnn", 2, {}),
                                                     ("crnn", 2, {"inter_ctc_layer": 1, "self_conditioning": True}),
                                                     ("crnn", 4, {"end_padding": 7}), ("rnn", 2, {"end_padding": 3}),
                                                     ("crnn", 4, {"chunk_frames": 3, "right_context": 2}),
                                                     ("rnn", 2, {"chunk_frames": 4, "right_context": 9,
                                                                 "end_padding": 2, "rnn_type": "gru"})])
def test_a_causal_network_gives_the_same_posteriors_streamed_in_blocks(model, subsampling, extra):
    """Every output frame of a causal network reads only earlier frames: run on blocks of any size (the state
    carried between them), it gives the frames of one run on the whole utterance."""
    from asr.inference.stream import NetworkStream
    from asr.models.stream import TorchStreamingNetwork

    torch.manual_seed(0)
    net = build_model(_config(model=model, subsampling=subsampling, causal=True, **extra), 10, 5).eval()
    for name, tensor in net.state_dict().items():  # batch norm statistics that matter
        if name.endswith("running_var"):
            tensor.uniform_(0.5, 2.0)
        elif name.endswith("running_mean"):
            tensor.normal_(0.0, 0.3)
    feats = torch.randn(1, 77, 10)
    whole = net(feats, torch.tensor([77]))[0][0].detach().numpy()
    assert not any(k.endswith("_reverse") for k in net.state_dict())  # one direction only
    padding = extra.get("end_padding", 0)  # zero frames after the last, in the frame count too
    assert whole.shape[0] == -(-(77 + padding) // net.subsampling)
    for sizes in ([1], [3, 32], [5, 1, 9], [77]):
        stream, pieces, start, i = NetworkStream(TorchStreamingNetwork(net)), [], 0, 0
        while start < 77:
            pieces.append(stream.accept(feats[0, start:start + sizes[i % len(sizes)]].numpy()))
            start, i = start + sizes[i % len(sizes)], i + 1
        streamed = np.concatenate(pieces + [stream.finish()])
        assert streamed.shape == whole.shape
        np.testing.assert_allclose(streamed, whole, atol=1e-5)
    # a bidirectional network cannot stream
    with pytest.raises(AsrError, match="causal"):
        TorchStreamingNetwork(build_model(_config(model=model), 10, 5))


@pytest.mark.parametrize("right_context", [0, 2, 6])
def test_a_chunk_reads_its_right_context_and_nothing_later(right_context):
    """With chunk_frames=4, output frames 4..7 (the second chunk) change when input frame 7 + right_context
    changes, and not when any later frame does: the look-ahead is the chunk and its right context."""
    torch.manual_seed(0)
    net = build_model(_config(model="rnn", causal=True, chunk_frames=4, right_context=right_context), 6, 5).eval()
    feats = torch.randn(1, 24, 6)
    base = net(feats, torch.tensor([24]))[0][0]
    last_read = 7 + right_context
    for frame, changes in ((last_read, True), (last_read + 1, False), (23, False)):
        moved = feats.clone()
        moved[0, frame] += 3.0
        out = net(moved, torch.tensor([24]))[0][0]
        torch.testing.assert_close(out[:4], base[:4])  # the first chunk reads up to 3 + right_context, before it
        assert (out[4:8] - base[4:8]).abs().max().item() > 1e-4 if changes else torch.equal(out[4:8], base[4:8])


def test_chunk_options_are_checked():
    with pytest.raises(AsrError, match="chunk_frames=4: .* set causal=true"):
        _config(chunk_frames=4)
    with pytest.raises(AsrError, match="right_context=2: .* set chunk_frames too"):
        _config(causal=True, right_context=2)
    with pytest.raises(AsrError, match="right_context=-1"):
        _config(causal=True, chunk_frames=4, right_context=-1)
