"""Reading data directories into training utterances: features, units, the checks that name the fix."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from asr.errors import AsrError
from asr.training.config import TrainConfig
from asr.training.dataset import load_dataset, resolve_feature_spec
from asr.units import load_tokenizer

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
    from asr.features.extract import conf_text

    train, *_ = corpus
    data = tmp_path / "train"
    shutil.copytree(train, data)
    (data / "feats.conf").write_text(conf_text("mfcc", "kaldi", make_options("mfcc", {"num_ceps": 6,
                                                                                      "sample_frequency": 8000})))
    spec = resolve_feature_spec(TrainConfig(), data)
    assert (spec.kind, spec.dim, spec.sample_frequency, spec.frame_shift_s) == ("mfcc", 6, 8000, 0.01)
    with pytest.raises(AsrError, match="not feature_type=fbank"):
        resolve_feature_spec(TrainConfig(feature_type="fbank"), data)
