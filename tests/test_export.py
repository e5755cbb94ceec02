"""asr export: the exported network computes what the trained one does, and an exported directory transcribes
like the original (an ONNX one without torch)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

pytest.importorskip("onnx", reason="the [onnx] extra (pip install 'asr[onnx]')")

import asr  # noqa: E402
from asr.errors import AsrError  # noqa: E402
from asr.export import export_model_dir  # noqa: E402
from asr.features import make_options, options_dict  # noqa: E402
from asr.modeldir import EXPORT_FILE, MODEL_FILE, load_model_dir, write_model_dir  # noqa: E402
from asr.models import build_model  # noqa: E402
from asr.training.config import TrainConfig  # noqa: E402
from asr.training.dataset import FeatureSpec  # noqa: E402
from asr.units import train_tokenizer  # noqa: E402
from tone_model import build_tone_model_dir, spell, synthesize, write_wav  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DIM = 20


def _random_crnn_dir(out: Path, subsampling: int, self_conditioning: bool = False) -> Path:
    """A crnn model directory with seeded random weights (batch norm statistics included): every layer counts."""
    torch.manual_seed(subsampling)
    tokenizer = train_tokenizer("char", ["the cat sat", "a dog ran"])
    config = TrainConfig(model="crnn", hidden_size=24, num_layers=2, conv_channels=4, subsampling=subsampling,
                         feature_type="fbank", cmvn="utterance", inter_ctc_layer=int(self_conditioning),
                         self_conditioning=self_conditioning, causal=self_conditioning,
                         end_padding=5 * self_conditioning)
    options = options_dict(make_options("fbank", {"sample_frequency": 8000, "num_mel_bins": DIM}))
    write_model_dir(out, config, FeatureSpec(kind="fbank", options=options, source="wav", dim=DIM, cmvn="utterance",
                                             norm_vars=True), None, tokenizer)
    model = build_model(config, DIM, len(tokenizer.tokens))
    for name, tensor in model.state_dict().items():
        if name.endswith("running_var"):
            tensor.uniform_(0.5, 2.0)
        elif name.endswith("running_mean"):
            tensor.normal_(0.0, 0.3)
    torch.save(model.state_dict(), out / MODEL_FILE)
    return out


def test_int8_quantizes_the_recurrent_and_linear_layers_and_keeps_convolutions_float(tmp_path) -> None:
    exported = export_model_dir(_random_crnn_dir(tmp_path / "exp", 2), tmp_path / "int8", quantize="int8")
    ops = {node.op_type for node in onnx.load(str(exported / "model.onnx")).graph.node}
    # float Conv ran faster than ConvInteger with its run-time activation quantization (bench/RESULTS.md)
    assert {"DynamicQuantizeLSTM", "Conv"} <= ops and "ConvInteger" not in ops, ops
    assert {"MatMulInteger", "DynamicQuantizeMatMul"} & ops, ops  # the output layer


@pytest.mark.parametrize("export_format", ["onnx", "torchscript"])
# the third network: causal, self-conditioned intermediate CTC, end padding
@pytest.mark.parametrize("subsampling,self_conditioning", [(2, False), (4, False), (2, True)])
def test_exported_log_posteriors_match_the_trained_network(tmp_path, export_format, subsampling,
                                                           self_conditioning) -> None:
    trained = _random_crnn_dir(tmp_path / "exp", subsampling, self_conditioning)
    exported = export_model_dir(trained, tmp_path / "exported", export_format=export_format)
    reference, loaded = load_model_dir(trained), load_model_dir(exported)
    rng = np.random.default_rng(1)
    feats = [rng.standard_normal((frames, DIM)).astype(np.float32) for frames in (1, 5, 33, 250)]
    for ours, theirs in zip(reference.log_probs(feats), loaded.log_probs(feats)):
        assert ours.shape == theirs.shape  # ceil(T / subsampling) frames, every unit
        np.testing.assert_allclose(theirs, ours, atol=1e-4)
    assert loaded.subsampling == subsampling and loaded.frame_shift_s == reference.frame_shift_s
    for name in ("config.yaml", "features.yaml", "lang/tokens.txt", EXPORT_FILE):
        assert (exported / name).is_file()
    assert not (exported / MODEL_FILE).exists()


@pytest.fixture(scope="module")
def tone_export(tmp_path_factory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("tone")
    trained = build_tone_model_dir(root / "exp")
    return trained, export_model_dir(trained, root / "onnx"), export_model_dir(trained, root / "int8",
                                                                               quantize="int8")


def test_an_exported_directory_transcribes_as_the_trained_one(tone_export, tmp_path) -> None:
    trained, onnx_dir, int8_dir = tone_export
    texts = ["ab ba", "dc cd a", "b"]
    wavs = [write_wav(tmp_path / f"{i}.wav", synthesize(trained, spell(trained, t), seed=i))
            for i, t in enumerate(texts)]
    for model_dir in (trained, onnx_dir, int8_dir):
        assert [t.text for t in asr.transcribe(model_dir, wavs, device="cpu")] == texts, model_dir
    assert (int8_dir / "model.onnx").stat().st_size < (onnx_dir / "model.onnx").stat().st_size


def test_transcribing_with_an_onnx_directory_never_imports_torch(tone_export, tmp_path) -> None:
    trained, onnx_dir, _ = tone_export
    wav = write_wav(tmp_path / "a.wav", synthesize(trained, spell(trained, "ab ba")))
    script = ("import sys, asr; print(next(iter(asr.transcribe(sys.argv[1], [sys.argv[2]]))).text); "
              "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script, str(onnx_dir), str(wav)], capture_output=True,
                            text=True, cwd=REPO, check=True)
    assert result.stdout.split("\n")[:2] == ["ab ba", "False"], result.stdout


def test_bad_exports_are_refused_with_the_file_and_the_fix(tone_export, tmp_path) -> None:
    _, onnx_dir, _ = tone_export
    with pytest.raises(AsrError, match="already an exported model directory"):
        export_model_dir(onnx_dir, tmp_path / "again")
    with pytest.raises(AsrError, match="needs --format onnx"):
        export_model_dir(tone_export[0], tmp_path / "ts8", export_format="torchscript", quantize="int8")
    import shutil

    damaged = Path(shutil.copytree(onnx_dir, tmp_path / "damaged"))
    (damaged / EXPORT_FILE).write_text((damaged / EXPORT_FILE).read_text().replace("format_version: 1",
                                                                                   "format_version: 9"))
    with pytest.raises(AsrError, match=f"{damaged / EXPORT_FILE}: format_version 9"):
        load_model_dir(damaged)
    (damaged / EXPORT_FILE).write_text((onnx_dir / EXPORT_FILE).read_text())
    (damaged / "model.onnx").write_bytes(b"not a graph")
    with pytest.raises(AsrError, match="not a loadable ONNX model"):
        load_model_dir(damaged)
