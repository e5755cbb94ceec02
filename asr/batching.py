"""Utterances into batches for the network: length-bucketed index batches and padded tensors.

Training and decoding share it. Batch order is a pure function of (seed, epoch), which is what lets training's
`--resume` continue mid-epoch with the same data order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from asr.errors import AsrError

if TYPE_CHECKING:
    import torch


def make_batches(lengths: Sequence[int], max_frames: int, max_batch_size: int, *, seed: int | Sequence[int] = 0,
                 epoch: int = 0, shuffle: bool = True, min_batch_size: int = 1) -> list[list[int]]:
    """Group utterance indices into batches of similar length, each with at most `max_frames` padded frames
    (longest x count) and `max_batch_size` utterances, and at least `min_batch_size` (one per process).

    With `shuffle`, lengths are jittered by up to 10% before sorting (so batches differ between epochs) and the
    batch order is shuffled; both draw from a generator seeded by (seed, epoch) only.
    """
    if len(lengths) < min_batch_size:
        raise AsrError(f"{len(lengths)} utterances cannot fill one batch per process ({min_batch_size}); "
                       f"use fewer processes or more data")
    rng = np.random.default_rng([*np.atleast_1d(seed).tolist(), epoch])
    keys = np.asarray(lengths, dtype=np.float64)
    if shuffle:
        keys = keys * rng.uniform(0.9, 1.1, size=len(keys))
    order = np.argsort(keys, kind="stable")
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for index in order.tolist():
        longest_if_added = max(longest, lengths[index])
        if current and (longest_if_added * (len(current) + 1) > max_frames or len(current) >= max_batch_size) \
                and len(current) >= min_batch_size:
            batches.append(current)
            current, longest_if_added = [], lengths[index]
        current.append(index)
        longest = longest_if_added
    if len(current) < min_batch_size:
        batches[-1].extend(current)
    else:
        batches.append(current)
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def make_shard_batches(lengths: Sequence[int], shard_of: Sequence[int], max_frames: int, max_batch_size: int, *,
                       world_size: int = 1, shard_buffer: int = 4, seed: int = 0, epoch: int = 0
                       ) -> list[list[list[int]]]:
    """Each process's batches for an epoch of sharded data (`shard_of[i]`: the shard utterance i is in): the shards,
    in an order drawn from (seed, epoch), are dealt to the processes in turn, so no two read the same shard; each
    process reads its shards `shard_buffer` at a time and length-buckets and shuffles the utterances of those
    (`make_batches`). Every process gets as many batches as the one with fewest (the others' last ones wait for the
    next epoch's draw), since DDP steps together. Like `make_batches`, a pure function of its arguments, which every
    process computes in full."""
    shards = np.unique(np.asarray(shard_of))
    if len(shards) < world_size:
        raise AsrError(f"{len(shards)} shard(s) cannot give each of {world_size} processes its own; write more "
                       f"shards (asr data shard --utts-per-shard smaller) or use fewer processes")
    members: dict[int, list[int]] = {int(s): [] for s in shards}
    for index, shard in enumerate(shard_of):
        members[int(shard)].append(index)
    order = np.random.default_rng([seed, epoch, 1]).permutation(shards).tolist()
    plans = []
    for rank in range(world_size):
        mine, batches = order[rank::world_size], []
        for start in range(0, len(mine), shard_buffer):
            group = [i for shard in mine[start:start + shard_buffer] for i in members[shard]]
            batches += [[group[i] for i in batch] for batch in
                        make_batches([lengths[i] for i in group], max_frames, max_batch_size, seed=[seed, rank, start],
                                     epoch=epoch)]
        plans.append(batches)
    steps = min(len(batches) for batches in plans)
    return [batches[:steps] for batches in plans]


def collate(feats: Sequence[np.ndarray], targets: Sequence[np.ndarray]
            ) -> tuple["torch.Tensor", "torch.Tensor", "torch.Tensor", "torch.Tensor"]:
    """Pad features to (B, T, F); concatenate targets for CTCLoss. Returns feats, lengths, targets, target_lengths."""
    import torch  # here, so that batching for an exported (ONNX) network needs no torch

    lengths = torch.tensor([len(f) for f in feats], dtype=torch.long)
    padded = np.zeros((len(feats), int(lengths.max()), feats[0].shape[1]), dtype=np.float32)
    for i, f in enumerate(feats):
        padded[i, :len(f)] = f
    target_lengths = torch.tensor([len(t) for t in targets], dtype=torch.long)
    return torch.from_numpy(padded), lengths, torch.from_numpy(np.concatenate(targets)), target_lengths
