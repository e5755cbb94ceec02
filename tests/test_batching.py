"""asr.batching: length-bucketed batches within the caps, reproducible per (seed, epoch); padded tensors."""

from __future__ import annotations

import numpy as np
import pytest

from asr.batching import collate, make_batches
from asr.errors import AsrError

LENGTHS = [int(n) for n in np.random.default_rng(0).integers(5, 100, 200)]


def test_batches_cover_every_utterance_once_within_the_caps():
    batches = make_batches(LENGTHS, max_frames=400, max_batch_size=8, seed=1, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(len(LENGTHS)))
    for batch in batches:
        assert len(batch) <= 8
        assert max(LENGTHS[i] for i in batch) * len(batch) <= 400


def test_batch_order_is_a_function_of_seed_and_epoch():
    first = make_batches(LENGTHS, 400, 8, seed=1, epoch=3)
    assert make_batches(LENGTHS, 400, 8, seed=1, epoch=3) == first
    assert make_batches(LENGTHS, 400, 8, seed=1, epoch=4) != first
    assert make_batches(LENGTHS, 400, 8, seed=2, epoch=3) != first


def test_unshuffled_batches_are_sorted_by_length_and_buckets_are_tight():
    batches = make_batches(LENGTHS, 400, 8, shuffle=False)
    flat = [LENGTHS[i] for b in batches for i in b]
    assert flat == sorted(LENGTHS)
    # bucketing keeps padding low: padded frames at most 25% above the real ones
    padded = sum(max(LENGTHS[i] for i in b) * len(b) for b in batches)
    assert padded <= 1.25 * sum(LENGTHS)


def test_an_overlong_utterance_gets_a_batch_of_its_own_and_min_batch_size_holds():
    batches = make_batches([10, 500, 12, 11], max_frames=100, max_batch_size=8, shuffle=False)
    assert [1] in batches
    for batch in make_batches(LENGTHS, 400, 8, seed=0, min_batch_size=3):
        assert len(batch) >= 3
    with pytest.raises(AsrError, match="processes"):
        make_batches([10, 12], 100, 8, min_batch_size=3)


def test_collate_pads_with_zeros_and_concatenates_targets():
    feats, lengths, targets, target_lengths = collate(
        [np.ones((3, 2), np.float32), np.full((5, 2), 2, np.float32)], [np.array([1, 2]), np.array([3])])
    assert feats.shape == (2, 5, 2) and lengths.tolist() == [3, 5]
    assert feats[0, 3:].abs().sum() == 0 and feats[1].min() == 2
    assert targets.tolist() == [1, 2, 3] and target_lengths.tolist() == [2, 1]
