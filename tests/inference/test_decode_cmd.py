"""`asr decode --cmd dask:ADDRESS`: the data split by speaker, each part decoded by a scheduler task that loads the
model itself, merged into the decode directory `local` writes."""

from __future__ import annotations

from asr.decoding import DecodeOptions
from asr.inference.config import InferenceConfig
from asr.inference.decode import decode_data_dir
from tone_model import build_tone_model_dir
from test_decode import TEXTS, write_tone_data


def test_dask_decoding_writes_what_local_decoding_writes(cluster, tmp_path) -> None:
    model_dir = build_tone_model_dir(tmp_path / "exp" / "tone")
    data = write_tone_data(tmp_path, model_dir, TEXTS)
    options = DecodeOptions(nbest=2)
    local = decode_data_dir(model_dir, data, tmp_path / "local", options=options,
                            config=InferenceConfig(device="cpu"), progress=False)
    remote = decode_data_dir(model_dir, data, tmp_path / "remote", options=options,
                             config=InferenceConfig(device="cpu", nj=2), progress=False,
                             cmd=f"dask:{cluster.scheduler_address}")
    assert (data / "split2" / "1" / "utt2spk").is_file()  # split per speaker, as Kaldi's decode.sh
    assert remote.summary().split()[:3] == local.summary().split()[:3]
    for name in ("text", "ctm", "nbest", "nbest_scores", "wer", "per_utt", "confidence"):
        assert (tmp_path / "remote" / name).read_text() == (tmp_path / "local" / name).read_text(), name
