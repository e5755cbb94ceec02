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


def make_batches(lengths: Sequence[int], max_frames: int, max_batch_size: int, *, seed: int = 0, epoch: int = 0,
                 shuffle: bool = True, min_batch_size: int = 1) -> list[list[int]]:
    """Group utterance indices into batches of similar length, each with at most `max_frames` padded frames
    (longest x count) and `max_batch_size` utterances, and at least `min_batch_size` (one per process).

    With `shuffle`, lengths are jittered by up to 10% before sorting (so batches differ between epochs) and the
    batch order is shuffled; both draw from a generator seeded by (seed, epoch) only.
    """
    if len(lengths) < min_batch_size:
        raise AsrError(f"{len(lengths)} utterances cannot fill one batch per process ({min_batch_size}); "
                       f"use fewer processes or more data")
    rng = np.random.default_rng([seed, epoch])
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
