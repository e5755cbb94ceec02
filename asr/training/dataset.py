"""Training data: utterances (normalised features + unit ids) in memory (batching: `asr.batching`).

Features come from the data directory's `feats.scp` (precomputed by `asr features`) or are computed from
`wav.scp` with the feature options recorded in the model directory, so that `transcribe` computes exactly
the same thing. Batch order is a pure function of (seed, epoch), which is what lets `--resume` continue
mid-epoch with the same data order.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from asr.datadir import FEATS_CONF  # "# asr features KIND (FLAVOR flavor)" + the options
from asr.errors import AsrError
from asr.features.cmvn import CmvnStats, normalize_features, stats_of

logger = logging.getLogger(__name__)

DEFAULT_FEATURE_TYPE = "fbank"  # when neither --feature-type nor the data dir's feats.conf names one


@dataclass
class FeatureSpec:
    """How the network's input features are made: what `features.yaml` in the model directory records."""

    kind: str                      # mfcc | fbank | spectrogram
    options: dict[str, Any]        # resolved options of that kind (Kaldi names, underscored)
    source: str                    # feats (feats.scp) | wav (computed from wav.scp)
    dim: int                       # feature dimension
    flavor: str = "kaldi"          # kaldi | librosa (asr.features flavors)
    frame_shift_s: float = 0.01    # seconds per input frame
    cmvn: str = "global"
    norm_vars: bool = True

    @property
    def sample_frequency(self) -> float:
        return float(self.options["sample_frequency"])

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "flavor": self.flavor, "options": dict(self.options), "source": self.source,
                "dim": self.dim, "cmvn": self.cmvn, "norm_vars": self.norm_vars,
                "sample_frequency": self.sample_frequency, "frame_shift_s": self.frame_shift_s}


@dataclass
class TrainingExample:
    """One training utterance as the trainer holds it: features and the unit ids CTC learns to emit."""

    key: str
    feats: np.ndarray              # (T, F) float32, CMVN applied once stats are known
    targets: np.ndarray            # int64 unit ids, never 0 (blank)
    text: str


@dataclass
class DataSet:
    name: str                      # the data directory, for messages
    utterances: list[TrainingExample]
    data_dir: Any = None           # asr.datadir.DataDir, kept for on-the-fly (speed-perturbed) features
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def lengths(self) -> list[int]:
        return [len(u.feats) for u in self.utterances]


_FEATS_CONF_HEADER = re.compile(r"^#\s*asr features (?P<kind>\w+) \((?P<flavor>\w+) flavor\)")


def resolve_feature_spec(config, data_dir: str | os.PathLike) -> FeatureSpec:
    """Decide the feature source (feats.scp or wav.scp) and resolve the feature options: from --feature-config
    when given, else (for feats.scp) from the feats.conf that `asr features` wrote beside it, else the
    defaults of --feature-type. They are recorded in the model directory so transcription redoes them."""
    from asr.datadir import read_data_dir
    from asr.features import feature_dim, make_options, options_dict
    from asr.features.extract import frame_shift_seconds

    datadir = read_data_dir(data_dir)
    source = config.feats_source
    if source == "auto":
        source = "feats" if datadir.feats_scp else "wav"
    kind, flavor, conf = config.feature_type or DEFAULT_FEATURE_TYPE, config.feature_flavor, config.feature_config
    if source == "feats":
        if not datadir.feats_scp:
            raise AsrError(f"{Path(data_dir) / 'feats.scp'}: missing; run `asr features {kind} {data_dir}` "
                           f"or use --feats-source wav")
        recorded = Path(data_dir) / FEATS_CONF
        header = _FEATS_CONF_HEADER.match(recorded.read_text(encoding="utf-8")) if recorded.is_file() else None
        if conf is None and header:
            kind, flavor, conf = header["kind"], header["flavor"], str(recorded)
            if config.feature_type not in (None, kind):
                raise AsrError(f"{recorded}: the features are {kind}, not feature_type={config.feature_type}; "
                               f"drop --feature-type or recompute the features")
        elif conf is None:
            logger.warning("%s: features from feats.scp with no %s and no --feature-config saying how they "
                           "were computed; recording the default %s options in the model directory",
                           data_dir, FEATS_CONF, kind)
    options = make_options(kind, path=conf, flavor=flavor)
    perturbed = [name for name in ("speed_perturb", "vtlp", "noise_prob", "reverb_prob") if getattr(config, name)]
    if perturbed and not datadir.wav_scp:
        raise AsrError(f"{Path(data_dir) / 'wav.scp'}: missing; {' and '.join(perturbed)} recompute features from "
                       f"the audio; give a data dir with wav.scp or drop them")
    if config.vtlp and (kind not in ("mfcc", "fbank") or flavor != "kaldi"):
        raise AsrError(f"vtlp warps Kaldi mel banks: use kaldi mfcc or fbank features, not {flavor} {kind}")
    logger.info("features: %s (%s flavor) from %s, options from %s", kind, flavor,
                "feats.scp" if source == "feats" else "wav.scp", conf or "defaults")
    return FeatureSpec(kind=kind, options=options_dict(options), source=source, dim=feature_dim(options),
                       flavor=flavor, frame_shift_s=frame_shift_seconds(options), cmvn=config.cmvn,
                       norm_vars=config.norm_vars)


def compute_utterance_features(datadir, key: str, spec: FeatureSpec, speed: float = 1.0,
                               vtln_warp: float = 1.0, augment=None) -> np.ndarray:
    """Features of one utterance from its audio (segments honoured), optionally speed-perturbed, augmented
    (`augment(wave, rate)`: noise, reverberation) and with its mel banks warped (VTLP)."""
    from asr.datadir import load_utterance_audio
    from asr.features import compute_features
    from asr.models.specaugment import speed_perturb

    wave, rate = load_utterance_audio(datadir, key, sample_frequency=int(spec.sample_frequency))
    options = spec.options if vtln_warp == 1.0 else {**spec.options, "vtln_warp": vtln_warp}
    wave = speed_perturb(wave, speed)
    if augment is not None:
        wave = augment(wave, rate)
    feats = compute_features(spec.kind, wave, rate, options, flavor=spec.flavor)
    return np.asarray(feats, dtype=np.float32)


def load_dataset(data_dir: str | os.PathLike, tokenizer, spec: FeatureSpec, subsampling: int = 1,
                 progress: bool = True, keep_too_short: bool = False) -> DataSet:
    """Read every utterance with both features and text; skip (and count) those CTC cannot learn from:
    no text, no units after encoding, or (unless `keep_too_short`, as for scoring, where they count as errors)
    fewer output frames than the targets need."""
    from tqdm import tqdm

    from asr.datadir import read_data_dir

    datadir = read_data_dir(data_dir)
    if not datadir.text:
        raise AsrError(f"{Path(data_dir) / 'text'}: missing or empty; training needs transcripts")
    skipped = {"no_text": 0, "no_units": 0, "too_short": 0}
    keys = sorted(datadir.feats_scp if spec.source == "feats" else datadir.segments or datadir.wav_scp)

    def load(key: str) -> np.ndarray:
        if spec.source == "feats":
            from asr.kaldi_io import read_matrix

            return np.asarray(read_matrix(datadir.feats_scp[key]), dtype=np.float32)
        return compute_utterance_features(datadir, key, spec)

    utterances: list[TrainingExample] = []
    for key in tqdm(keys, desc=f"reading {data_dir}", unit="utt", disable=not progress,
                    leave=False):
        text = datadir.text.get(key)
        if text is None or not text.strip():
            skipped["no_text"] += 1
            continue
        targets = np.asarray(tokenizer.encode(text), dtype=np.int64)
        if targets.size == 0:
            skipped["no_units"] += 1
            continue
        feats = load(key)
        if feats.ndim != 2 or feats.shape[1] != spec.dim:
            raise AsrError(f"{data_dir}: utterance {key} has features of shape {feats.shape}, but the "
                           f"{spec.kind} options give {spec.dim} dims; pass the --feature-config the features "
                           f"were computed with, or recompute them")
        repeats = int(np.sum(targets[1:] == targets[:-1]))
        if -(-len(feats) // subsampling) < len(targets) + repeats and not keep_too_short:
            skipped["too_short"] += 1
            continue
        utterances.append(TrainingExample(key, feats, targets, text))
    if not utterances:
        raise AsrError(f"{data_dir}: no usable utterance (skipped: {skipped}); check text and features")
    if any(skipped.values()):
        logger.warning("%s: skipped %s", data_dir, ", ".join(f"{n} {k}" for k, n in skipped.items() if n))
    logger.info("%s: %d utterances, %d frames", data_dir, len(utterances), sum(len(u.feats) for u in utterances))
    return DataSet(str(data_dir), utterances, datadir, skipped)


def global_cmvn_stats(utterances: Sequence[TrainingExample]) -> np.ndarray:
    """Global Kaldi-format CMVN stats (2, dim+1) over all utterances: what transcription normalises with."""
    from asr.features.cmvn import accumulate_cmvn_stats

    return accumulate_cmvn_stats(u.feats for u in utterances)


def normalize(utterances: Sequence[TrainingExample], stats: CmvnStats, norm_vars: bool, cmvn: str = "global",
              utt2spk: Mapping[str, str] | None = None) -> None:
    """Apply CMVN in place (see normalize_features); per-speaker `stats` are looked up through utt2spk."""
    for u in utterances:
        u.feats = normalize_features(u.feats, stats_of(stats, u.key, utt2spk or {}), norm_vars, cmvn)


def cmvn_stats_of(utterances: Sequence[TrainingExample], cmvn: str, utt2spk: Mapping[str, str]) -> CmvnStats:
    """The stats `cmvn` normalises a set with: global over all of it, per speaker, or none (utterance: each
    utterance's own, computed when applied)."""
    if cmvn == "global":
        return global_cmvn_stats(utterances)
    if cmvn == "speaker":
        from asr.features.cmvn import compute_cmvn_stats, speaker_cmvn_stats

        return speaker_cmvn_stats(((u.key, compute_cmvn_stats(u.feats)) for u in utterances), utt2spk)
    return None
