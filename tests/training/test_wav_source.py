"""Features computed on the fly from wav.scp: the same as transcription computes, and speed perturbation."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from asr.datadir import DataDir, write_data_dir
from asr.features import compute_features
from asr.models import build_model
from asr.training.config import TrainConfig
from asr.features.cmvn import normalize_features
from asr.training.dataset import (compute_utterance_features, global_cmvn_stats, load_dataset, normalize,
                                  resolve_feature_spec)
from asr.training.trainer import Trainer
from asr.units import train_tokenizer

RATE = 8000


@pytest.fixture(scope="module")
def wav_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("wavs")
    rng = np.random.default_rng(0)
    wav_scp, text = {}, {}
    for i, (word, hz) in enumerate([("ab", 300), ("ba", 500), ("a", 700), ("b", 900)]):
        t = np.arange(int(RATE * (0.4 + 0.1 * i))) / RATE
        wave = 3000 * np.sin(2 * np.pi * hz * t) + rng.normal(0, 100, t.size)
        path = root / f"u{i}.wav"
        soundfile.write(path, wave.astype(np.int16), RATE)
        wav_scp[f"s-u{i}"], text[f"s-u{i}"] = str(path), word
    data = root / "data"
    write_data_dir(data, DataDir(path=data, wav_scp=wav_scp, text=text, utt2spk={k: "s" for k in text}))
    (root / "fbank.conf").write_text("--sample-frequency=8000\n--num-mel-bins=10\n--dither=0\n")
    train_tokenizer("char", text.values()).save(root / "lang")
    return data, root / "fbank.conf", train_tokenizer("char", text.values())


def _spec(wav_corpus, **overrides):
    data, conf, _ = wav_corpus
    return resolve_feature_spec(TrainConfig(feature_type="fbank", feature_config=str(conf), **overrides), data)


def test_wav_source_computes_the_recorded_features(wav_corpus):
    data, _, tokenizer = wav_corpus
    spec = _spec(wav_corpus)
    assert spec.source == "wav" and spec.dim == 10
    dataset = load_dataset(data, tokenizer, spec, progress=False)
    wave, rate = soundfile.read(data.parent / "u1.wav", dtype="int16")
    expected = compute_features("fbank", wave.astype(np.float32), rate, spec.options)
    np.testing.assert_allclose(dataset.utterances[1].feats, expected, rtol=1e-6)


def test_speed_perturbation_changes_length_reproducibly(wav_corpus):
    data, _, tokenizer = wav_corpus
    spec = _spec(wav_corpus)
    dataset = load_dataset(data, tokenizer, spec, progress=False)
    plain = compute_utterance_features(dataset.data_dir, "s-u3", spec)
    faster = compute_utterance_features(dataset.data_dir, "s-u3", spec, speed=1.25)
    assert abs(len(faster) - len(plain) / 1.25) <= 2
    stats = global_cmvn_stats(dataset)
    normalize(dataset, stats, True)
    config = TrainConfig(model="rnn", hidden_size=4, num_layers=1, speed_perturb=(0.8, 1.25), feature_type="fbank")
    trainer = Trainer(config, build_model(config, 10, len(tokenizer.tokens)), dataset, None, data.parent / "exp",
                      feature_spec=spec, progress=False)
    first = trainer._batch_features([0, 1, 2, 3], epoch=0, batch_index=0)
    assert [len(f) for f in first] != [len(u.feats) for u in dataset.utterances]
    again = trainer._batch_features([0, 1, 2, 3], epoch=0, batch_index=0)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert abs(float(np.concatenate(first).mean())) < 0.5  # normalised with the training stats


def test_vtlp_warps_each_utterance_reproducibly_within_its_range(wav_corpus):
    data, _, tokenizer = wav_corpus
    spec = _spec(wav_corpus, vtlp=0.1)
    dataset = load_dataset(data, tokenizer, spec, progress=False)
    stats = global_cmvn_stats(dataset)
    normalize(dataset, stats, True)
    config = TrainConfig(model="rnn", hidden_size=4, num_layers=1, vtlp=0.1, feature_type="fbank", seed=5)
    trainer = Trainer(config, build_model(config, 10, len(tokenizer.tokens)), dataset, None, data.parent / "exp",
                      feature_spec=spec, progress=False)
    first = trainer._batch_features([0, 1, 2, 3], epoch=0, batch_index=0)
    again = trainer._batch_features([0, 1, 2, 3], epoch=0, batch_index=0)
    other_epoch = trainer._batch_features([0, 1, 2, 3], epoch=1, batch_index=0)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))  # the same (seed, epoch, batch): same warps
    assert not all(np.array_equal(a, b) for a, b in zip(first, other_epoch))
    assert [len(f) for f in first] == [len(u.feats) for u in dataset.utterances]  # a warp keeps the frames
    # every warped utterance equals the features at some factor in [0.9, 1.1] (found on a fine grid)
    for utt, feats in zip(dataset.utterances, first):
        candidates = [normalize_features(compute_utterance_features(dataset.data_dir, utt.key, spec, vtln_warp=w),
                                         stats, True) for w in np.linspace(0.9, 1.1, 81)]
        assert min(float(np.abs(c - feats).max()) for c in candidates) < 0.05
        assert not np.allclose(feats, utt.feats)


def test_utterance_cmvn_normalizes_each_utterance_by_itself(wav_corpus):
    data, _, tokenizer = wav_corpus
    spec = _spec(wav_corpus, cmvn="utterance")
    dataset = load_dataset(data, tokenizer, spec, progress=False)
    raw = [u.feats.copy() for u in dataset.utterances]
    normalize(dataset, None, True, "utterance")
    for before, after in zip(raw, dataset.utterances):
        np.testing.assert_allclose(after.feats.mean(axis=0), 0.0, atol=1e-4)
        np.testing.assert_allclose(after.feats.std(axis=0), 1.0, atol=1e-3)
        # a louder copy of the utterance (a constant in log-mel) gives the same network input
        np.testing.assert_allclose(normalize_features(before + 3.0, None, True, "utterance"), after.feats, atol=1e-4)


def test_vtlp_needs_kaldi_mel_features(wav_corpus):
    from asr.errors import AsrError

    data, _, _ = wav_corpus
    with pytest.raises(AsrError, match="vtlp warps Kaldi mel banks"):
        resolve_feature_spec(TrainConfig(feature_type="spectrogram", vtlp=0.1), data)
