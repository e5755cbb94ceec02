"""Cepstral mean and variance normalization with Kaldi's stats layout.

Stats are a (2, dim + 1) float64 matrix: row 0 holds the per-dimension sums and the frame count in its last
column, row 1 the sums of squares (last column 0). Stats of several utterances (a speaker, a whole set)
are just the sum of their stats, so per-utterance, per-speaker and global CMVN share one format, which
Kaldi's compute-cmvn-stats/apply-cmvn read and write.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Union

import numpy as np

from asr.errors import AsrError

# Kaldi's apply-cmvn floors variances here (and warns) instead of dividing by zero.
VARIANCE_FLOOR = 1.0e-20
CMVN_MODES = ("global", "speaker", "utterance", "none")  # what a model normalises its input with (TrainConfig.cmvn)


def compute_cmvn_stats(feats: np.ndarray) -> np.ndarray:
    """Kaldi stats (2, dim + 1) of one (frames, dim) feature matrix."""
    feats = np.asarray(feats, dtype=np.float64)
    if feats.ndim != 2:
        raise ValueError(f"features must be (frames, dim), got shape {feats.shape}")
    stats = np.zeros((2, feats.shape[1] + 1))
    stats[0, :-1] = feats.sum(axis=0)
    stats[1, :-1] = np.einsum("ij,ij->j", feats, feats)
    stats[0, -1] = feats.shape[0]
    return stats


def accumulate_cmvn_stats(feature_matrices: Iterable[np.ndarray]) -> np.ndarray:
    """Summed stats of several feature matrices (one speaker, or a global set)."""
    total = None
    for feats in feature_matrices:
        stats = compute_cmvn_stats(feats)
        if total is not None and total.shape != stats.shape:
            raise AsrError(f"feature dimension {stats.shape[1] - 1} differs from {total.shape[1] - 1} seen before")
        total = stats if total is None else total + stats
    if total is None:
        raise AsrError("no features to accumulate CMVN stats from")
    return total


def speaker_cmvn_stats(utterance_stats: Iterable[tuple[str, np.ndarray]], utt2spk: Mapping[str, str]
                       ) -> dict[str, np.ndarray]:
    """Kaldi's compute-cmvn-stats --spk2utt: per-utterance stats summed over each speaker's utterances (an
    utterance with no speaker in utt2spk is its own)."""
    by_speaker: dict[str, np.ndarray] = {}
    for utt, stats in utterance_stats:
        speaker = utt2spk.get(utt, utt)
        by_speaker[speaker] = by_speaker[speaker] + stats if speaker in by_speaker else stats
    return by_speaker


def apply_cmvn(feats: np.ndarray, stats: np.ndarray, norm_vars: bool = False) -> np.ndarray:
    """Subtract the stats' mean (and divide by their standard deviation when norm_vars), like apply-cmvn."""
    feats = np.asarray(feats, dtype=np.float64)
    stats = np.asarray(stats, dtype=np.float64)
    dim = feats.shape[1]
    if stats.shape != (2, dim + 1):
        raise AsrError(f"CMVN stats have shape {stats.shape}, features need (2, {dim + 1}); "
                       f"were the stats computed on these features?")
    count = stats[0, -1]
    if count < 1.0:
        raise AsrError(f"CMVN stats count {count} is below 1 frame; recompute the stats")
    mean = stats[0, :-1] / count
    if not norm_vars:
        return feats - mean
    variance = np.maximum(stats[1, :-1] / count - mean * mean, VARIANCE_FLOOR)
    scale = 1.0 / np.sqrt(variance)
    return feats * scale - mean * scale


def normalize_features(feats: np.ndarray, stats: np.ndarray | None, norm_vars: bool,
                       cmvn: str = "global") -> np.ndarray:
    """CMVN as the model was trained, as float32 (the network's input). `cmvn` global: with the training set's
    `stats` (a no-op without); speaker: with the stats of the utterance's speaker (Kaldi's apply-cmvn
    --utt2spk), or its own where no speaker's stats are given (a file transcribed alone is its own speaker);
    utterance: with its own stats, always; none: unchanged."""
    if cmvn == "utterance" or (cmvn == "speaker" and stats is None):
        stats = compute_cmvn_stats(feats)
    if stats is None or cmvn == "none":
        return np.asarray(feats, dtype=np.float32)
    return np.asarray(apply_cmvn(feats, stats, norm_vars=norm_vars), dtype=np.float32)


CmvnStats = Union[np.ndarray, Mapping[str, np.ndarray], None]  # global stats, stats per speaker, or none


def stats_of(stats: CmvnStats, key: str, utt2spk: Mapping[str, str]) -> np.ndarray | None:
    """The stats that normalise utterance `key`: its speaker's when `stats` is per speaker, else `stats`."""
    if isinstance(stats, Mapping):
        return stats.get(utt2spk.get(key, key))
    return stats
