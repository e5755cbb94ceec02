"""asr.batching: length-bucketed batches within the caps, reproducible per (seed, epoch); sharded data dealt out to
processes by shard; padded tensors."""

from __future__ import annotations

import numpy as np
import pytest

from asr.batching import collate, make_batches, make_shard_batches
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


SHARD_OF = [i // 20 for i in range(len(LENGTHS))]  # 10 shards of 20 utterances


@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_processes_read_disjoint_shards_and_step_together(world_size):
    plans = make_shard_batches(LENGTHS, SHARD_OF, 400, 8, world_size=world_size, shard_buffer=2, seed=1, epoch=0)
    assert len(plans) == world_size and len({len(plan) for plan in plans}) == 1
    shards = [{SHARD_OF[i] for batch in plan for i in batch} for plan in plans]
    assert all(not a & b for n, a in enumerate(shards) for b in shards[n + 1:])
    used = [i for plan in plans for batch in plan for i in batch]
    assert len(used) == len(set(used))
    if world_size == 1:
        assert sorted(used) == list(range(len(LENGTHS)))
    else:  # only the batches beyond the shortest process's count wait; most of the epoch is trained
        assert len(used) > 0.8 * len(LENGTHS)
    for plan in plans:
        for batch in plan:
            assert len(batch) <= 8 and max(LENGTHS[i] for i in batch) * len(batch) <= 400


def test_a_process_holds_shard_buffer_shards_at_a_time():
    plan, = make_shard_batches(LENGTHS, SHARD_OF, 400, 8, shard_buffer=2, seed=1, epoch=0)
    # the shards batched together: every batch lies within one group of at most two, and a group's batches come
    # one after another (its shards are read, bucketed and shuffled, then the next group's)
    group_of: dict[int, int] = {}
    runs = []
    for batch in plan:
        shards = {SHARD_OF[i] for i in batch}
        groups = {group_of[s] for s in shards if s in group_of}
        assert len(groups) <= 1
        group = groups.pop() if groups else len(set(group_of.values()))
        group_of.update({s: group for s in shards})
        if not runs or runs[-1] != group:
            runs.append(group)
    assert len(runs) == len(set(runs)) == 5
    assert all(list(group_of.values()).count(g) == 2 for g in range(5))


def test_the_shard_plan_is_a_function_of_seed_and_epoch():
    plan = lambda seed, epoch: make_shard_batches(LENGTHS, SHARD_OF, 400, 8, world_size=2, seed=seed,  # noqa: E731
                                                  epoch=epoch)
    assert plan(1, 3) == plan(1, 3)
    assert plan(1, 4) != plan(1, 3) and plan(2, 3) != plan(1, 3)


def test_fewer_shards_than_processes_is_refused_with_the_fix():
    with pytest.raises(AsrError, match="2 shard.* 3 processes.*--utts-per-shard"):
        make_shard_batches(LENGTHS, [i % 2 for i in range(len(LENGTHS))], 400, 8, world_size=3)
