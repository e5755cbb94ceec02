"""Length-bucketed batching, padding, and reading data directories into training utterances."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from asr.errors import AsrError
from asr.training.config import TrainConfig
from asr.training.dataset import collate, load_dataset, make_batches, resolve_feature_spec
from asr.units import load_tokenizer

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


def test_load_dataset_reads_feats_and_encodes_text(corpus):
    train, _, lang, conf = corpus
    tokenizer = load_tokenizer(lang)
    spec = resolve_feature_spec(TrainConfig(feature_type="mfcc", feature_config=str(conf)), train)
    assert spec.source == "feats" and spec.dim == 6 and spec.sample_frequency == 8000
    data = load_dataset(train, tokenizer, spec, subsampling=2, progress=False)
    text = dict(line.split(" ", 1) for line in (train / "text").read_text().splitlines())
    assert len(data.utterances) == len(text)
    for utt in data.utterances:
        assert tokenizer.decode(utt.targets.tolist()) == text[utt.key]
        assert utt.feats.dtype == np.float32 and utt.feats.shape[1] == 6


def test_utterances_ctc_cannot_learn_are_skipped(corpus, tmp_path):
    train, _, lang, conf = corpus
    tokenizer = load_tokenizer(lang)
    spec = resolve_feature_spec(TrainConfig(feature_type="mfcc", feature_config=str(conf)), train)
    # with 16x subsampling most utterances have fewer output frames than units: they are counted, not kept
    data = load_dataset(train, tokenizer, spec, subsampling=16, progress=False)
    assert data.skipped["too_short"] > 0
    assert len(data.utterances) + data.skipped["too_short"] == len((train / "text").read_text().splitlines())
    # validation and scoring keep them: there they are errors, not noise
    kept = load_dataset(train, tokenizer, spec, subsampling=16, progress=False, keep_too_short=True)
    assert len(kept.utterances) == len(data.utterances) + data.skipped["too_short"]


def test_features_of_another_dimension_name_the_fix(corpus):
    train, _, lang, _ = corpus
    spec = resolve_feature_spec(TrainConfig(feature_type="fbank"), train)  # 23 dims; the corpus has 6
    with pytest.raises(AsrError, match="--feature-config"):
        load_dataset(train, load_tokenizer(lang), spec, progress=False)


def test_speed_perturbation_needs_audio(corpus):
    train, *_ = corpus  # feats.scp only, no wav.scp
    with pytest.raises(AsrError, match="wav.scp: missing; speed_perturb and vtlp recompute features"):
        resolve_feature_spec(TrainConfig(speed_perturb=(0.9, 1.1), vtlp=0.1), train)


def test_feature_options_come_from_the_feats_conf_asr_features_wrote(corpus, tmp_path):
    from asr.features import make_options
    from asr.features.runner import conf_text

    train, *_ = corpus
    data = tmp_path / "train"
    shutil.copytree(train, data)
    (data / "feats.conf").write_text(conf_text("mfcc", "kaldi", make_options("mfcc", {"num_ceps": 6,
                                                                                      "sample_frequency": 8000})))
    spec = resolve_feature_spec(TrainConfig(), data)
    assert (spec.kind, spec.dim, spec.sample_frequency, spec.frame_shift_s) == ("mfcc", 6, 8000, 0.01)
    with pytest.raises(AsrError, match="not feature_type=fbank"):
        resolve_feature_spec(TrainConfig(feature_type="fbank"), data)
