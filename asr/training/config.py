"""The one dataclass holding every training tunable; its field defaults are the named defaults.

`asr train` builds it with `asr.config.build_config(TrainConfig, --config file, flag overrides)` and writes the
resolved result to `exp/NAME/config.yaml`; its network fields (`asr.models.config.ModelConfig`, which it
extends) are what `asr.modeldir.load_model_dir` rebuilds the network from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal, Optional

from asr.errors import AsrError
from asr.models.config import ModelConfig


@dataclass
class TrainConfig(ModelConfig):
    # --- network: the fields of ModelConfig ---
    # --- input features ---
    feats_source: Literal["auto", "feats", "wav"] = "auto"  # auto: feats.scp if the data dir has one, else wav.scp
    feature_type: Optional[str] = None  # mfcc | fbank | spectrogram; None: the data dir's feats.conf, else fbank
    feature_flavor: Literal["kaldi", "librosa"] = "kaldi"
    feature_config: Optional[str] = None  # Kaldi conf or YAML of feature options (default: the data dir's
    #                                       feats.conf written by `asr features`, else the kind's defaults)
    cmvn: Literal["global", "speaker", "utterance", "none"] = "global"  # global: stats of the whole training set;
    #                                 speaker: each speaker's own stats (utt2spk; in decoding, the decoded set's
    #                                 speakers; a file transcribed alone is its own speaker); utterance: its own
    norm_vars: bool = True

    # --- augmentation ---
    spec_augment: bool = True
    num_freq_masks: int = 2
    freq_mask_width: int = 8        # max bins per mask
    num_time_masks: int = 2
    time_mask_width: int = 20       # max frames per mask
    time_mask_ratio: float = 0.2    # and at most this fraction of the utterance
    time_warp: int = 0              # max frames a point of the utterance moves in time warping (0: off; paper: 80)
    speed_perturb: tuple[float, ...] = ()  # e.g. 0.9,1.0,1.1: a factor drawn per utterance and epoch (needs wav.scp)
    vtlp: float = 0.0               # VTLP: a VTLN warp factor per utterance and epoch, uniform in [1 - vtlp, 1 + vtlp]
    #                                 (Jaitly & Hinton 2013 use 0.1); 0: off (needs wav.scp, Kaldi mfcc or fbank)
    noise_prob: float = 0.0         # share of training utterances given additive noise, drawn per epoch (0: off)
    noise_snr: tuple[float, ...] = (5.0, 20.0)  # that noise's SNR range in dB (uniform)
    noise_scp: Optional[str] = None  # a wav.scp of noise recordings (e.g. MUSAN's); None: synthetic coloured noise
    reverb_prob: float = 0.0        # share given synthetic room reverberation (RT60 0.2-0.8 s), drawn per epoch

    # --- objective ---
    inter_ctc_weight: float = 0.3   # with inter_ctc_layer: loss = (1 - w) CTC(last layer) + w CTC(layer k) (Lee &
    #                                 Watanabe 2021 use 0.3)
    label_smoothing: float = 0.0    # e: loss = (1 - e) CTC + e KL(uniform || posterior) summed over output frames
    #                                 (0: off; 0.1 is usual)

    # --- optimisation ---
    optimizer: Literal["sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw"] = "adam"
    lr: float = 1e-3
    momentum: float = 0.9           # momentum and rmsprop
    weight_decay: float = 1e-4
    grad_clip: float = 5.0          # max global gradient norm; <= 0 disables
    warmup_steps: int = 200         # linear warm-up from lr/warmup_steps
    lr_schedule: Literal["constant", "exponential", "cosine", "inverse_sqrt"] = "exponential"
    lr_decay: float = 0.9           # exponential: lr *= lr_decay every epoch
    min_lr: float = 1e-5            # floor for every schedule
    epochs: int = 20
    max_frames: int = 20000         # cap on padded input frames per (global) batch
    max_batch_size: int = 64        # cap on utterances per (global) batch
    max_steps: int = 0              # stop after this many optimizer steps (0: train all `epochs`)

    # --- data loading ---
    stream_data: Literal["auto", "never", "always"] = "auto"  # read features from feats.scp (or compute them from
    #                                 wav.scp) as batches need them instead of holding them all; auto: when they
    #                                 would take over memory_budget_gb
    memory_budget_gb: float = 4.0   # auto: training features (float32) above this are streamed
    shard_buffer: int = 4           # sharded data (asr data shard): shards a process reads at a time, whose
    #                                 utterances it length-buckets and shuffles together (more: batches closer to
    #                                 a shuffle of the whole set, more memory in the loader)
    num_workers: int = 0            # processes that read, perturb and augment batches ahead of the step (torch
    #                                 DataLoader workers; 0: the training process itself)

    # --- bookkeeping ---
    init_model: Optional[str] = None  # a model directory whose weights start training (fine-tuning, or transfer
    #                                   from another corpus: the same network options; units it shares keep its
    #                                   output weights, new ones start at random); None: random init from `seed`
    checkpoint_every: int = 0       # also checkpoint every N optimizer steps (0: only at epoch ends)
    keep_step_checkpoints: int = 2  # step checkpoints kept (epoch checkpoints are all kept for averaging)
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    num_threads: int = 1            # torch intra-op threads (2 threads on a busy 2-core box is 20-35x slower)
    valid_every_epoch: bool = True

    def __post_init__(self) -> None:
        for f in fields(self):  # inf (and nan from Python; parsing refuses it) would train on nan weights
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise AsrError(f"{f.name}={value}: must be a finite number")
        super().__post_init__()
        if self.time_warp < 0:
            raise AsrError(f"time_warp={self.time_warp}: must be 0 (off) or a number of frames")
        for name in ("max_steps", "num_workers"):
            if getattr(self, name) < 0:
                raise AsrError(f"{name}={getattr(self, name)}: must be 0 or more")
        if self.memory_budget_gb <= 0:
            raise AsrError(f"memory_budget_gb={self.memory_budget_gb}: must be positive, e.g. 4")
        for name in ("epochs", "max_frames", "max_batch_size", "num_threads", "shard_buffer"):
            if getattr(self, name) < 1:
                raise AsrError(f"{name}={getattr(self, name)}: must be at least 1")
        if self.lr <= 0:
            raise AsrError(f"lr={self.lr}: must be positive")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise AsrError(f"label_smoothing={self.label_smoothing}: the smoothing term's share, in [0, 1), e.g. 0.1")
        if not 0.0 <= self.inter_ctc_weight < 1.0:
            raise AsrError(f"inter_ctc_weight={self.inter_ctc_weight}: the intermediate loss's share, in [0, 1), "
                           f"e.g. 0.3")
        if self.feature_type not in (None, "mfcc", "fbank", "spectrogram"):
            raise AsrError(f"feature_type={self.feature_type!r}: choose mfcc, fbank or spectrogram")
        if not 0.0 <= self.vtlp <= 0.3:
            raise AsrError(f"vtlp={self.vtlp}: the warp factor's range [1 - vtlp, 1 + vtlp] needs vtlp in [0, 0.3], "
                           f"e.g. 0.1")
        for name in ("noise_prob", "reverb_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise AsrError(f"{name}={getattr(self, name)}: a probability, in [0, 1]")
        if len(self.noise_snr) != 2 or self.noise_snr[0] > self.noise_snr[1]:
            raise AsrError(f"noise_snr={','.join(map(str, self.noise_snr))}: give the lowest and highest SNR in dB, "
                           f"e.g. 5,20")
        if any(not 0.5 <= f <= 2.0 for f in self.speed_perturb):
            raise AsrError(f"speed_perturb={self.speed_perturb}: factors must lie in [0.5, 2.0], e.g. 0.9,1.0,1.1")


# Keys that may change between a run and its --resume without changing the result's meaning.
RESUMABLE_CHANGES = frozenset({"epochs", "device", "num_threads", "checkpoint_every", "keep_step_checkpoints",
                               "max_steps", "stream_data", "memory_budget_gb", "num_workers"})
