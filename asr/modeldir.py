"""The self-describing model directory: `write_model_dir` (training) and `load_model_dir` (inference), which
rebuilds everything from it without importing the training package.

exp/NAME/
  config.yaml     resolved TrainConfig (the network is rebuilt from its ModelConfig fields)
  features.yaml   feature kind, options, dim, CMVN mode, frame shift (what transcription must compute)
  cmvn.ark        global CMVN stats (Kaldi (2, dim+1) matrix, key "global"), when cmvn=global
  lang/           copy of the units (tokens.txt, units.yaml, lexicon.txt or bpe.model)
  model.pt        state_dict, loadable with torch.load(weights_only=True)
  checkpoints/    epoch-NNNN.pt, step-NNNNNNNN.pt (weights-only loadable as well)
  log.jsonl       one JSON record per epoch

An exported directory (`asr export`) holds the same config.yaml, features.yaml, cmvn.ark and lang/, with
export.yaml and model.onnx (or model.torchscript.pt) in place of model.pt; `load_model_dir` reads either kind,
and an ONNX one without importing torch.
"""

from __future__ import annotations

import logging
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence, TypeVar

import numpy as np
import yaml

from asr.config import build_config, config_to_dict
from asr.errors import AsrError
from asr.fileio import write_text_atomic
from asr.models.config import ModelConfig

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.yaml"
FEATURES_FILE = "features.yaml"
CMVN_FILE = "cmvn.ark"
LANG_DIR = "lang"
MODEL_FILE = "model.pt"
EXPORT_FILE = "export.yaml"
EXPORT_FORMAT_VERSION = 1      # of export.yaml and the exported network's inputs/outputs
EXPORT_FILES = {"onnx": "model.onnx", "torchscript": "model.torchscript.pt"}


def plain(value: Any) -> Any:
    """Tuples -> lists (recursively), so configs dump to safe_load-able YAML and load with weights_only."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def dump_yaml(data: dict[str, Any]) -> str:
    """YAML of plain data; tuples become lists so the file stays safe_load-able."""
    return yaml.safe_dump(plain(data), sort_keys=False)


def write_model_dir(out_dir: str | os.PathLike, config: ModelConfig, feature_spec, cmvn_stats: np.ndarray | None,
                    tokenizer) -> None:
    """Everything but the weights: config.yaml, features.yaml, cmvn.ark, lang/."""
    from asr.kaldi_io import ArkWriter

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_dir / CONFIG_FILE, dump_yaml(config_to_dict(config)))
    write_text_atomic(out_dir / FEATURES_FILE, dump_yaml(feature_spec.to_dict()))
    if cmvn_stats is not None:
        with ArkWriter(out_dir / CMVN_FILE) as writer:
            writer.write("global", np.asarray(cmvn_stats, dtype=np.float64))
    tokenizer.save(out_dir / LANG_DIR)
    logger.info("wrote %s, %s%s and %s/ into %s", CONFIG_FILE, FEATURES_FILE,
                f", {CMVN_FILE}" if cmvn_stats is not None else "", LANG_DIR, out_dir)


ConfigType = TypeVar("ConfigType", bound=ModelConfig)


def read_model_config(model_dir: str | os.PathLike, cls: type[ConfigType] = ModelConfig) -> ConfigType:
    """config.yaml as `cls`: the network's ModelConfig (the training keys are skipped), or a TrainConfig."""
    path = Path(model_dir) / CONFIG_FILE
    if not path.is_file():
        raise AsrError(f"{path}: missing; {model_dir} is not a model directory written by `asr train`")
    try:
        return build_config(cls, path, ignore_unknown=cls is ModelConfig)
    except AsrError as e:  # the config's own checks do not know the file
        if str(path) in str(e):
            raise
        raise AsrError(f"{path}: {e}") from None


@dataclass
class ModelDir:
    """A trained model ready for inference: its network (torch, ONNX or TorchScript; asr.inference.network) plus
    everything needed to feed it."""

    path: Path
    network: Any                   # (features list) -> log-posteriors list; see asr.inference.network
    config: ModelConfig
    feature_kind: str
    feature_options: dict[str, Any]
    feature_flavor: str
    cmvn_stats: np.ndarray | None
    norm_vars: bool
    tokenizer: Any
    subsampling: int               # input frames per output frame
    frame_shift_s: float           # seconds per OUTPUT frame (subsampling included)
    cmvn: str                      # global | speaker | utterance | none (TrainConfig.cmvn)

    @property
    def sample_frequency(self) -> float:
        return float(self.feature_options.get("sample_frequency", 16000.0))

    def normalize(self, feats: np.ndarray, speaker_stats: np.ndarray | None = None) -> np.ndarray:
        """Apply the model's CMVN to raw features (e.g. from feats.scp): the training set's stats (global), the
        given stats of the utterance's speaker (speaker; without them, its own), or its own (utterance)."""
        from asr.features.cmvn import normalize_features

        stats = speaker_stats if self.cmvn == "speaker" else self.cmvn_stats
        return normalize_features(feats, stats, self.norm_vars, self.cmvn)

    def raw_features(self, waveform: np.ndarray, sample_frequency: float) -> np.ndarray:
        """The model's features of a waveform (int16 range, at the model's sample rate), before CMVN."""
        from asr.features import compute_features

        return compute_features(self.feature_kind, waveform, sample_frequency, self.feature_options,
                                flavor=self.feature_flavor)

    def network_input(self, waveform: np.ndarray, sample_frequency: float) -> np.ndarray:
        """Network input for a waveform (int16 range, at the model's sample rate): features, then CMVN (a waveform
        alone is its own speaker)."""
        return self.normalize(self.raw_features(waveform, sample_frequency))

    def log_probs(self, feats: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Per-utterance (T', V) log-posteriors for a batch of normalised feature matrices."""
        return self.network(feats)


def load_state_dict(path: str | os.PathLike) -> dict[str, Any]:
    """torch.load(weights_only=True): a file carrying pickled objects is refused, never executed."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise AsrError(f"{path}: missing; train the model (asr train) or average checkpoints (asr average)") \
            from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
        raise AsrError(f"{path}: not a loadable weights-only file ({first}); it may be truncated or carry "
                       f"pickled objects, which are refused") from None


def load_model_dir(path: str | os.PathLike, device: Any = "cpu", num_threads: int | None = None) -> ModelDir:
    """A trained (model.pt) or exported (export.yaml) model directory ready for inference, its network on `device`
    with `num_threads` intra-op threads where given; errors name the missing or broken file."""
    from asr.kaldi_io import read_ark
    from asr.units import load_tokenizer

    path = Path(path)
    if not path.is_dir():
        raise AsrError(f"{path}: no such model directory; pass the --out of `asr train` or `asr export`")
    config = read_model_config(path)
    features_path = path / FEATURES_FILE
    try:
        features = yaml.safe_load(features_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AsrError(f"{features_path}: missing; the model directory is incomplete (rerun asr train)") from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise AsrError(f"{features_path}: invalid YAML ({e.__class__.__name__}); rerun asr train") from None
    _check_features(features, features_path)
    cmvn_stats = None
    if features.get("cmvn", "none") == "global":
        entries = list(read_ark(path / CMVN_FILE))
        if len(entries) != 1 or entries[0][1].shape != (2, int(features["dim"]) + 1):
            raise AsrError(f"{path / CMVN_FILE}: expected one (2, {int(features['dim']) + 1}) stats matrix")
        cmvn_stats = np.asarray(entries[0][1], dtype=np.float64)
    tokenizer = load_tokenizer(path / LANG_DIR)
    if (path / EXPORT_FILE).is_file():
        from asr.inference.network import load_exported_network

        network = load_exported_network(path / EXPORT_FILE, num_threads)
    else:
        network = _torch_network(path, config, int(features["dim"]), len(tokenizer.tokens), device, num_threads)
    subsampling = config.subsampling if config.model == "crnn" else 1
    return ModelDir(path, network, config, features["kind"], dict(features["options"]),
                    str(features.get("flavor", "kaldi")), cmvn_stats, bool(features.get("norm_vars", True)),
                    tokenizer, subsampling, float(features.get("frame_shift_s", 0.01)) * subsampling,
                    str(features.get("cmvn", "none")))


def first_shape_difference(shapes: dict[str, tuple], state: dict[str, Any]) -> str | None:
    """The first weight name whose presence or shape differs between a network's `shapes` and a state_dict."""
    stored = {k: tuple(v.shape) for k, v in state.items() if hasattr(v, "shape")}
    differing = sorted(set(shapes) ^ set(stored)) or sorted(k for k in shapes if shapes[k] != stored[k])
    return differing[0] if differing else None


def _torch_network(path: Path, config: ModelConfig, input_dim: int, num_units: int, device: Any,
                   num_threads: int | None) -> Any:
    """model.pt into the network config.yaml describes, checked against it before anything is allocated."""
    import torch

    from asr.inference.network import TorchNetwork
    from asr.models import build_model, resolve_device

    if num_threads is not None:
        torch.set_num_threads(num_threads)
    resolved = device if isinstance(device, torch.device) else _device(device, resolve_device)
    state = load_state_dict(path / MODEL_FILE)
    try:
        with torch.device("meta"):  # shapes only: a hostile config.yaml cannot make us allocate its network
            shapes = {k: tuple(v.shape) for k, v in build_model(config, input_dim, num_units).state_dict().items()}
    except (RuntimeError, ValueError, TypeError, OverflowError) as e:
        raise AsrError(f"{path / CONFIG_FILE}: the network it describes cannot be built "
                       f"({str(e).splitlines()[0]}); use the config.yaml of this directory") from None
    differing = first_shape_difference(shapes, state)
    if differing is not None:
        raise AsrError(f"{path / MODEL_FILE}: weights do not fit {CONFIG_FILE} (first difference: "
                       f"{differing}); use the model.pt of this directory")
    model = build_model(config, input_dim, num_units)
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError) as e:
        raise AsrError(f"{path / MODEL_FILE}: weights do not fit {CONFIG_FILE} "
                       f"({str(e).splitlines()[0]}); use the model.pt of this directory") from None
    return TorchNetwork(model.to(resolved).eval(), resolved)


def _check_features(features: Any, features_path: Path) -> None:
    """features.yaml must hold what inference needs with the right types, so a damaged file is a user error
    here rather than a TypeError deep in feature extraction."""
    from asr.features import make_options
    from asr.features.cmvn import CMVN_MODES

    if not isinstance(features, dict) or not {"kind", "options", "dim"} <= set(features):
        raise AsrError(f"{features_path}: expected kind, options and dim; rerun asr train")
    dim, shift = features["dim"], features.get("frame_shift_s", 0.01)
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1 or not isinstance(features["options"], dict) \
            or not isinstance(shift, (int, float)) or isinstance(shift, bool) or not 0 < shift < float("inf"):
        raise AsrError(f"{features_path}: dim must be a positive integer, options a mapping and frame_shift_s a "
                       f"positive number; rerun asr train")
    if features.get("cmvn", "none") not in CMVN_MODES:
        raise AsrError(f"{features_path}: cmvn must be one of {', '.join(CMVN_MODES)}; rerun asr train")
    flavor = features.get("flavor", "kaldi")
    if not isinstance(features["kind"], str) or not isinstance(flavor, str):
        raise AsrError(f"{features_path}: kind must be mfcc, fbank or spectrogram and flavor kaldi or librosa; "
                       f"rerun asr train")
    if any(value is None for value in features["options"].values()):  # build_config would skip them silently
        raise AsrError(f"{features_path}: options without a value; rerun asr train")
    try:
        make_options(features["kind"], features["options"], flavor=flavor)
    except AsrError as e:
        raise AsrError(f"{features_path}: {e}; rerun asr train") from None


def _device(name: str, resolve) -> Any:
    import torch

    return resolve(name) if name in {"auto", "cpu", "cuda"} else torch.device(name)
