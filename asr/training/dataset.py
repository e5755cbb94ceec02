"""Training data: utterances (normalised features + unit ids), in memory or streamed (batching: `asr.batching`).

Features come from the data directory's `feats.scp` (precomputed by `asr features`) or are computed from
`wav.scp` with the feature options recorded in the model directory, so that `transcribe` computes exactly
the same thing. Batch order is a pure function of (seed, epoch), which is what lets `--resume` continue
mid-epoch with the same data order.

A corpus whose features would not fit in memory is streamed: only each utterance's length, units and `feats.scp`
location are held, its features are read (by ark offset), or computed from its audio (features from `wav.scp`;
lengths from `utt2dur`), and normalised when its batch is made, and CMVN statistics come from one pass over the
features that keeps nothing. Both ways share `DataSet.features`, so batching and normalisation are one code path.
Features in tar shards (`asr data shard`) are read through feats.scp too; the set records each utterance's shard, so
that training deals batches out by shard (`asr.batching.make_shard_batches`), whether streamed or held.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from asr.datadir import FEATS_CONF  # "# asr features KIND (FLAVOR flavor)" + the options
from asr.errors import AsrError
from asr.features.cmvn import CmvnStats, normalize_features, stats_of
from asr.shards import SHARD_SUFFIX, check_feature_files, feature_files

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
    feats: np.ndarray | None       # (T, F) float32, CMVN applied once stats are known; None: streamed
    targets: np.ndarray            # int64 unit ids, never 0 (blank)
    text: str
    num_frames: int = -1           # T (-1: len(feats))

    def __post_init__(self) -> None:
        if self.num_frames < 0:
            self.num_frames = len(self.feats)


@dataclass
class Normalization:
    """How a set's raw features are normalised (asr.features.cmvn.normalize_features)."""

    stats: CmvnStats
    norm_vars: bool
    cmvn: str


@dataclass
class DataSet:
    name: str                      # the data directory, for messages
    utterances: list[TrainingExample]
    data_dir: Any = None           # asr.datadir.DataDir, kept for on-the-fly (speed-perturbed) features
    skipped: dict[str, int] = field(default_factory=dict)
    streamed: bool = False         # features read from feats.scp (or computed from wav.scp) when a batch needs them
    normalization: Normalization | None = None  # set by `normalize`; in memory the stored features already have it
    spec: FeatureSpec | None = None  # how the features are made (a streamed set reads or computes them with it)
    shard_of: list[int] | None = None  # sharded features (asr data shard): the index of each utterance's shard

    @property
    def lengths(self) -> list[int]:
        return [u.num_frames for u in self.utterances]

    def features(self, u: TrainingExample) -> np.ndarray:
        """An utterance's normalised features."""
        if u.feats is not None:
            return u.feats
        return self.normalized(u.key, self.raw_features(u))

    def normalized(self, key: str, feats: np.ndarray) -> np.ndarray:
        """Raw features of utterance `key` (stored, or recomputed with perturbation) under the set's CMVN."""
        if self.normalization is None:
            return feats
        n = self.normalization
        utt2spk = self.data_dir.utt2spk if self.data_dir is not None else {}
        return normalize_features(feats, stats_of(n.stats, key, utt2spk), n.norm_vars, n.cmvn)

    def raw_features(self, u: TrainingExample) -> np.ndarray:
        """A streamed utterance's features before CMVN (`utterance_features`); those read from feats.scp are checked
        against the length the set planned with (computed ones may differ by a frame from utt2dur's estimate)."""
        feats = utterance_features(self.data_dir, u.key, self.spec)
        if self.spec.source == "feats" and feats.shape[0] != u.num_frames:
            raise AsrError(f"{self.name}/feats.scp: utterance {u.key} has {feats.shape[0]} frames, utt2num_frames "
                           f"says {u.num_frames}; recompute the features (asr features) to make them agree")
        return feats

    def all_raw_features(self) -> Iterator[np.ndarray]:
        """Every utterance's features before normalisation, one at a time (streamed: read, never kept)."""
        for u in self.utterances:
            yield u.feats if u.feats is not None else self.raw_features(u)


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


def utterance_features(datadir, key: str, spec: FeatureSpec) -> np.ndarray:
    """One utterance's features before CMVN: read from feats.scp, or computed from its audio (`spec.source`)."""
    if spec.source == "wav":
        return compute_utterance_features(datadir, key, spec)
    from asr.kaldi_io import read_matrix

    return np.asarray(read_matrix(datadir.feats_scp[key]), dtype=np.float32)


def load_dataset(data_dir: str | os.PathLike, tokenizer, spec: FeatureSpec, subsampling: int = 1,
                 progress: bool = True, keep_too_short: bool = False, streamed: bool = False) -> DataSet:
    """Read every utterance with both features and text; skip (and count) those CTC cannot learn from:
    no text, no units after encoding, or (unless `keep_too_short`, as for scoring, where they count as errors)
    fewer output frames than the targets need. `streamed`: keep only lengths (utt2num_frames, else read once; from
    wav.scp: utt2dur, else the audio headers) and units; the features stay in feats.scp's arks, or are computed
    from the audio when a batch needs them."""
    from tqdm import tqdm

    from asr.datadir import read_data_dir

    datadir = read_data_dir(data_dir)
    if not datadir.text:
        raise AsrError(f"{Path(data_dir) / 'text'}: missing or empty; training needs transcripts")
    wav_frames = _wav_frames(datadir, spec) if streamed and spec.source == "wav" else {}
    skipped = {"no_text": 0, "no_units": 0, "too_short": 0}
    keys = sorted(datadir.feats_scp if spec.source == "feats" else datadir.segments or datadir.wav_scp)

    utterances: list[TrainingExample] = []
    checked = False
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
        known = wav_frames if spec.source == "wav" else datadir.utt2num_frames
        feats = None if streamed and checked and key in known else utterance_features(datadir, key, spec)
        if feats is not None and (feats.ndim != 2 or feats.shape[1] != spec.dim):
            raise AsrError(f"{data_dir}: utterance {key} has features of shape {feats.shape}, but the "
                           f"{spec.kind} options give {spec.dim} dims; pass the --feature-config the features "
                           f"were computed with, or recompute them")
        checked = True
        num_frames = len(feats) if feats is not None else known[key]
        repeats = int(np.sum(targets[1:] == targets[:-1]))
        if -(-num_frames // subsampling) < len(targets) + repeats and not keep_too_short:
            skipped["too_short"] += 1
            continue
        utterances.append(TrainingExample(key, None if streamed else feats, targets, text, num_frames))
    if not utterances:
        raise AsrError(f"{data_dir}: no usable utterance (skipped: {skipped}); check text and features")
    if any(skipped.values()):
        logger.warning("%s: skipped %s", data_dir, ", ".join(f"{n} {k}" for k, n in skipped.items() if n))
    dataset = DataSet(str(data_dir), utterances, datadir, skipped, streamed, spec=spec)
    if spec.source == "feats":
        files, index = feature_files(datadir.feats_scp, [u.key for u in utterances])
        if streamed:
            check_feature_files(str(data_dir), datadir.feats_scp)
        if any(path.endswith(SHARD_SUFFIX) for path in files):
            dataset.shard_of = index
    logger.info("%s: %d utterances, %d frames%s%s", data_dir, len(utterances), sum(u.num_frames for u in utterances),
                f" in {len(set(dataset.shard_of))} shards" if dataset.shard_of is not None else "",
                f" (streamed from {'feats.scp' if spec.source == 'feats' else 'wav.scp'})" if streamed else "")
    return dataset


def _wav_frames(datadir, spec: FeatureSpec) -> dict[str, int]:
    """Each utterance's feature frames from its duration (utt2dur, else the audio headers), without its audio: the
    lengths a streamed set from wav.scp plans its batches with."""
    from asr.datadir import compute_utt2dur
    from asr.features import feature_frames, make_options

    durations = datadir.utt2dur or compute_utt2dur(datadir)
    options = make_options(spec.kind, spec.options, flavor=spec.flavor)
    return {key: feature_frames(int(round(seconds * spec.sample_frequency)), options)
            for key, seconds in durations.items()}


def feature_bytes(data_dir: str | os.PathLike, spec: FeatureSpec) -> float:
    """Estimated bytes of a data dir's features as float32 in memory: from utt2num_frames, else from the size of
    the arks feats.scp points into (compressed arks hold a quarter of that); from wav.scp, from utt2dur (else 0)."""
    from asr.datadir import read_data_dir
    from asr.kaldi_io import archive_of

    datadir = read_data_dir(data_dir)
    if spec.source == "wav":
        return 4.0 * spec.dim * sum(datadir.utt2dur.values()) / spec.frame_shift_s
    if datadir.utt2num_frames:
        return 4.0 * spec.dim * sum(datadir.utt2num_frames.values())
    arks = {archive_of(entry)[0] for entry in datadir.feats_scp.values()}
    return float(sum(os.path.getsize(ark) for ark in arks if os.path.isfile(ark)))


def global_cmvn_stats(dataset: DataSet) -> np.ndarray:
    """Global Kaldi-format CMVN stats (2, dim+1) over all utterances: what transcription normalises with."""
    from asr.features.cmvn import accumulate_cmvn_stats

    return accumulate_cmvn_stats(dataset.all_raw_features())


def normalize(dataset: DataSet, stats: CmvnStats, norm_vars: bool, cmvn: str = "global") -> None:
    """Apply CMVN (see normalize_features; per-speaker `stats` through utt2spk): in place in memory, or on
    reading for a streamed set."""
    dataset.normalization = Normalization(stats, norm_vars, cmvn)
    if not dataset.streamed:
        for u in dataset.utterances:
            u.feats = dataset.normalized(u.key, u.feats)


def cmvn_stats_of(dataset: DataSet, cmvn: str) -> CmvnStats:
    """The stats `cmvn` normalises a set with: global over all of it, per speaker, or none (utterance: each
    utterance's own, computed when applied). One pass over the features, none kept."""
    if cmvn == "global":
        return global_cmvn_stats(dataset)
    if cmvn == "speaker":
        from asr.features.cmvn import compute_cmvn_stats, speaker_cmvn_stats

        return speaker_cmvn_stats(((u.key, compute_cmvn_stats(f)) for u, f in
                                   zip(dataset.utterances, dataset.all_raw_features())), dataset.data_dir.utt2spk)
    return None
