"""The model directory is self-describing: load_model_dir rebuilds the trained network and its inputs."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
import yaml

from asr.errors import AsrError
from asr.kaldi_io import read_matrix, read_scp
from asr.modeldir import load_model_dir
from asr.training import TrainConfig
from asr.training.trainer import run_training


@pytest.fixture(scope="module")
def model_dir(corpus, tmp_path_factory):
    train, valid, lang, conf = corpus
    out = tmp_path_factory.mktemp("exp") / "crnn"
    config = TrainConfig(model="crnn", hidden_size=8, num_layers=1, conv_channels=2, epochs=2, max_frames=200,
                         feature_type="mfcc", feature_config=str(conf))
    run_training(config, train, valid, lang, out, progress=False)
    return out


def test_everything_needed_for_inference_is_inside(model_dir, corpus):
    train, _, lang, _ = corpus
    loaded = load_model_dir(model_dir)
    assert not loaded.network.module.training
    assert loaded.feature_kind == "mfcc" and loaded.feature_options["num_ceps"] == 6
    assert loaded.frame_shift_s == pytest.approx(0.02)  # 10 ms frames, subsampled by 2
    assert loaded.tokenizer.tokens == (lang / "tokens.txt").read_text().split()[::2]
    # the CMVN stats are the training set's: normalised training features have zero mean, unit variance
    feats = np.concatenate([read_matrix(spec) for spec in read_scp(train / "feats.scp").values()])
    normalised = loaded.normalize(feats)
    np.testing.assert_allclose(normalised.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(normalised.std(axis=0), 1.0, atol=1e-3)
    # model.pt is a plain state_dict for torch.load(weights_only=True), and the log has the epochs
    state = torch.load(model_dir / "model.pt", weights_only=True)
    assert state.keys() == loaded.network.module.state_dict().keys()
    assert [yaml.safe_load(line)["epoch"] for line in (model_dir / "log.jsonl").read_text().splitlines()] == [1, 2]


def test_posteriors_follow_the_subsampled_lengths(model_dir):
    loaded = load_model_dir(model_dir)
    out = loaded.log_probs([np.zeros((9, 6), np.float32), np.zeros((4, 6), np.float32)])
    assert [o.shape for o in out] == [(5, 7), (2, 7)]
    np.testing.assert_allclose(np.exp(out[0]).sum(axis=1), 1.0, rtol=1e-5)


def test_features_from_audio_use_the_recorded_options(model_dir):
    loaded = load_model_dir(model_dir)
    wave = np.random.default_rng(0).normal(0, 1000, 8000).astype(np.float32)
    feats = loaded.network_input(wave, 8000)
    assert feats.shape == (98, 6) and feats.dtype == np.float32  # 1 s at 10 ms shift, 25 ms window


def test_broken_directories_name_the_file(model_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / "model.pt").unlink()
    with pytest.raises(AsrError, match="model.pt: missing"):
        load_model_dir(broken)
    torch.save({"w": torch.zeros(2)}, broken / "model.pt")
    with pytest.raises(AsrError, match="do not fit config.yaml"):
        load_model_dir(broken)
    (broken / "features.yaml").unlink()
    with pytest.raises(AsrError, match="features.yaml: missing"):
        load_model_dir(broken)
    with pytest.raises(AsrError, match="no such model directory"):
        load_model_dir(tmp_path / "nowhere")
