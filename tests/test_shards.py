"""asr.shards (`asr data shard`): WebDataset tar shards that feats.scp points into, readable by kaldiio and
webdataset, identical whatever the jobs, complete or absent; a missing or truncated shard is named before
training."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import kaldiio
import numpy as np
import pytest

from asr.cli import main
from asr.datadir import read_data_dir, validate_data_dir
from asr.errors import AsrError
from asr.kaldi_io import read_matrix
from asr.shards import shard_data_dir
from synthetic_corpus import write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("shard-corpus")
    write_corpus(root)
    return root


def _shard_bytes(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((data_dir / "shards").iterdir())}


def test_shards_hold_every_utterance_for_kaldiio_and_webdataset(corpus, tmp_path):
    wds = pytest.importorskip("webdataset", reason="the [dev] extra")
    src = read_data_dir(corpus / "data/train")
    main(["data", "shard", str(corpus / "data/train"), str(tmp_path / "sharded"), "--utts-per-shard", "10",
          "--no-progress"])
    dst = read_data_dir(tmp_path / "sharded")
    assert validate_data_dir(tmp_path / "sharded") == []
    assert sorted(p.name for p in (tmp_path / "sharded/shards").iterdir()) == [f"shard-00000{i}.tar" for i in range(4)]
    assert dst.text == src.text and dst.utt2spk == src.utt2spk and dst.feats_scp.keys() == src.feats_scp.keys()
    for utt, spec in src.feats_scp.items():
        expected = read_matrix(spec)
        assert np.array_equal(kaldiio.load_mat(dst.feats_scp[utt]), expected)  # feats.scp into the tars, for Kaldi
        assert dst.utt2num_frames[utt] == len(expected)
    # each tar is a WebDataset shard: one sample per utterance, a one-utterance Kaldi ark with its text and speaker
    samples = list(wds.WebDataset(str(tmp_path / "sharded/shards/shard-{000000..000003}.tar"), shardshuffle=False))
    assert len(samples) == len(src.feats_scp)
    for sample in samples:
        (utt, matrix), = kaldiio.load_ark(io.BytesIO(sample["ark"]))
        assert np.array_equal(matrix, read_matrix(src.feats_scp[utt]))
        assert sample["txt"].decode() == src.text[utt] and sample["spk"].decode() == src.utt2spk[utt]


def test_compressed_shards_hold_kaldi_compressed_matrices(corpus, tmp_path):
    main(["data", "shard", str(corpus / "data/train"), str(tmp_path / "plain"), "--no-progress"])
    main(["data", "shard", str(corpus / "data/train"), str(tmp_path / "compressed"), "--compress", "--no-progress"])
    plain, compressed = (read_data_dir(tmp_path / name).feats_scp for name in ("plain", "compressed"))
    for utt, spec in compressed.items():
        ours, theirs, exact = read_matrix(spec), kaldiio.load_mat(spec), read_matrix(plain[utt])
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)  # Kaldi's decompression, as kaldiio has it
        assert np.abs(ours - exact).max() <= 0.01 * (exact.max() - exact.min())  # 8 bits a value, about
    def matrix_bytes(name: str) -> int:  # the tars pad every member to 512 bytes, more than these tiny matrices
        return sum(member.size for shard in (tmp_path / name / "shards").iterdir()
                   for member in tarfile.open(shard) if member.name.endswith(".ark"))

    assert matrix_bytes("compressed") < 0.6 * matrix_bytes("plain")


def test_parallel_jobs_write_the_same_shards(corpus, tmp_path, cluster):
    shard_data_dir(corpus / "data/train", tmp_path / "one", utts_per_shard=5, progress=False)
    shard_data_dir(corpus / "data/train", tmp_path / "three", utts_per_shard=5, nj=3, progress=False)
    shard_data_dir(corpus / "data/train", tmp_path / "dask", utts_per_shard=5, nj=2,
                   cmd=f"dask:{cluster.scheduler_address}", progress=False)
    assert _shard_bytes(tmp_path / "one") == _shard_bytes(tmp_path / "three") == _shard_bytes(tmp_path / "dask")
    scp = lambda name: (tmp_path / name / "feats.scp").read_text().replace(str(tmp_path / name), "")  # noqa: E731
    assert scp("one") == scp("three") == scp("dask")


def test_a_failing_job_leaves_the_previous_output_as_it_was(corpus, tmp_path):
    shard_data_dir(corpus / "data/train", tmp_path / "out", utts_per_shard=10, progress=False)
    before = _shard_bytes(tmp_path / "out")
    broken = tmp_path / "broken"
    shutil.copytree(corpus / "data/train", broken)
    (broken / "feats.scp").write_text((broken / "feats.scp").read_text().replace("feats.ark", "gone.ark", 1))
    with pytest.raises(AsrError, match="gone.ark: archive not found"):
        shard_data_dir(broken, tmp_path / "out", utts_per_shard=10, nj=2, progress=False)
    assert _shard_bytes(tmp_path / "out") == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_training_names_a_missing_or_truncated_shard_before_it_starts(corpus, tmp_path, capsys, damage):
    shard_data_dir(corpus / "data/train", tmp_path / "sharded", utts_per_shard=10, progress=False)
    shard = tmp_path / "sharded/shards/shard-000002.tar"
    if damage == "missing":
        shard.unlink()
    else:
        shard.write_bytes(shard.read_bytes()[:4000])
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--train", str(tmp_path / "sharded"), "--lang", str(corpus / "lang"), "--feature-config",
              str(corpus / "mfcc.conf"), "--feature-type", "mfcc", "--stream-data", "always", "--no-progress",
              "--out", str(tmp_path / "exp")])
    assert exit_info.value.code != 0
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert str(shard) in message and ("missing" if damage == "missing" else "truncated") in message
    assert not (tmp_path / "exp" / "model.pt").exists()


def test_sharding_needs_features(corpus, tmp_path):
    shutil.copytree(corpus / "data/train", tmp_path / "nofeats")
    (tmp_path / "nofeats/feats.scp").unlink()
    with pytest.raises(AsrError, match="feats.scp: missing; compute the features first"):
        shard_data_dir(tmp_path / "nofeats", tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
