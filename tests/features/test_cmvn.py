"""CMVN stats in Kaldi's (2, dim+1) layout; per utterance, per speaker, global; against numpy by hand."""

from __future__ import annotations

import numpy as np
import pytest

from asr.errors import AsrError
from asr.features import accumulate_cmvn_stats, apply_cmvn, compute_cmvn_stats


def test_stats_layout_is_kaldis():
    feats = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 1.0]])
    stats = compute_cmvn_stats(feats)
    np.testing.assert_array_equal(stats, [[9.0, 9.0, 3.0], [35.0, 41.0, 0.0]])


def test_per_utterance_mean_and_variance_normalization():
    feats = np.random.default_rng(0).normal(5.0, 3.0, size=(50, 4))
    stats = compute_cmvn_stats(feats)
    np.testing.assert_allclose(apply_cmvn(feats, stats), feats - feats.mean(axis=0), atol=1e-12)
    normalized = apply_cmvn(feats, stats, norm_vars=True)
    np.testing.assert_allclose(normalized, (feats - feats.mean(axis=0)) / feats.std(axis=0), atol=1e-10)


def test_speaker_stats_are_summed_utterance_stats():
    rng = np.random.default_rng(1)
    utterances = [rng.normal(i, 1.0 + i, size=(10 + 7 * i, 3)) for i in range(3)]
    speaker = accumulate_cmvn_stats(utterances)
    pooled = np.concatenate(utterances)
    np.testing.assert_allclose(speaker[0, :-1] / speaker[0, -1], pooled.mean(axis=0))
    normalized = apply_cmvn(utterances[2], speaker, norm_vars=True)
    np.testing.assert_allclose(normalized, (utterances[2] - pooled.mean(axis=0)) / pooled.std(axis=0), atol=1e-10)


def test_constant_dimension_is_floored_not_divided_by_zero():
    feats = np.column_stack([np.full(5, 2.0), np.arange(5.0)])
    normalized = apply_cmvn(feats, compute_cmvn_stats(feats), norm_vars=True)
    assert np.all(np.isfinite(normalized))
    np.testing.assert_allclose(normalized[:, 0], 0.0, atol=1e-6)


def test_mismatched_stats_are_a_user_error():
    with pytest.raises(AsrError, match="shape"):
        apply_cmvn(np.zeros((4, 3)), compute_cmvn_stats(np.zeros((4, 5))))
    with pytest.raises(AsrError, match="count"):
        apply_cmvn(np.zeros((4, 3)), np.zeros((2, 4)))
