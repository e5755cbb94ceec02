"""Feature extraction jobs on a dask.distributed scheduler (`--cmd dask:ADDRESS`): the same archives as local jobs,
and a job whose worker dies is rerun rather than leaving a partial archive taken as complete."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from asr.datadir import DataDir, write_data_dir
from asr.errors import AsrError
from asr.features import make_options
from asr.features.extract import extract_data_dir
from asr.kaldi_io import read_scp_matrices
from tone_model import write_wav

distributed = pytest.importorskip("distributed", reason="the [cluster] extra (pip install 'asr[cluster]')")


def _data_dir(root: Path, count: int = 12) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    wavs = {f"spk{i % 3}-u{i:02d}": str(write_wav(root / f"{i}.wav", rng.normal(0, 2000, 4000 + 400 * i)
                                                  .astype(np.float32))) for i in range(count)}
    write_data_dir(root / "data", DataDir(wav_scp=wavs, utt2spk={k: k.split("-")[0] for k in wavs}))
    return root / "data"


def _features(data: Path) -> dict[str, np.ndarray]:
    return dict(read_scp_matrices(data / "feats.scp"))


def test_dask_jobs_write_what_local_jobs_write(cluster, tmp_path) -> None:
    opts = make_options("fbank", {"sample_frequency": 8000, "dither": 0.0})
    local, remote = _data_dir(tmp_path / "local"), _data_dir(tmp_path / "remote")
    extract_data_dir(local, "fbank", opts, nj=3, progress=False)
    summary = extract_data_dir(remote, "fbank", opts, nj=3, progress=False,
                               cmd=f"dask:{cluster.scheduler_address}")
    assert summary.utterances == 12
    ours, theirs = _features(local), _features(remote)
    assert ours.keys() == theirs.keys()
    assert all(np.array_equal(ours[k], theirs[k]) for k in ours)
    for name in ("feats.1.ark", "feats.2.ark", "feats.3.ark"):
        assert (local / name).read_bytes() == (remote / name).read_bytes()
    assert not list(remote.glob("*.partial"))


_KILLED = "ASR_TEST_KILL_ONCE"


def _dies_once_then_extracts(*args):
    """A job whose first run kills its worker process mid-archive (after writing part of it)."""
    from asr.features import extract

    marker = Path(os.environ[_KILLED])
    if not marker.exists():
        marker.write_text("killed")
        Path(args[1]).write_bytes(b"half an archive")
        os._exit(1)
    return extract._extract_job(*args)


@pytest.mark.slow
def test_a_worker_killed_mid_job_is_rerun_and_nothing_partial_is_kept(cluster, tmp_path, monkeypatch) -> None:
    from asr.features import extract

    opts = make_options("fbank", {"sample_frequency": 8000, "dither": 0.0})
    data = _data_dir(tmp_path / "killed")
    monkeypatch.setenv(_KILLED, str(tmp_path / "marker"))
    client = distributed.Client(cluster.scheduler_address)  # the workers started before this test: tell them
    client.run(lambda path: os.environ.__setitem__(_KILLED, path), str(tmp_path / "marker"))
    client.close()
    monkeypatch.setattr(extract, "_extract_job", _dies_once_then_extracts)
    extract_data_dir(data, "fbank", opts, nj=2, progress=False, cmd=f"dask:{cluster.scheduler_address}")
    assert (tmp_path / "marker").exists()  # a worker did die
    reference = _data_dir(tmp_path / "reference")
    monkeypatch.undo()
    extract_data_dir(reference, "fbank", opts, nj=2, progress=False)
    ours, theirs = _features(reference), _features(data)
    assert ours.keys() == theirs.keys() and all(np.array_equal(ours[k], theirs[k]) for k in ours)


def test_a_bad_cmd_is_a_one_line_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("asr.parallel.SCHEDULER_TIMEOUT_S", 2)  # nothing listens on port 9: no need to wait 30 s
    opts = make_options("fbank", {"sample_frequency": 8000})
    with pytest.raises(AsrError, match="give local, or dask:ADDRESS"):
        extract_data_dir(_data_dir(tmp_path), "fbank", opts, nj=2, progress=False, cmd="queue.pl")
    with pytest.raises(AsrError, match="no dask scheduler answers"):
        extract_data_dir(_data_dir(tmp_path / "b"), "fbank", opts, nj=2, progress=False,
                         cmd="dask:tcp://127.0.0.1:9")
