"""The CTC training loop: bucketed batches, SpecAugment, clipping, LR schedule, validation, checkpoints.

Determinism is by construction: the batch order is a function of (seed, epoch), SpecAugment and speed
perturbation draw from generators seeded by (seed, epoch, batch, rank), the learning rate is a function of
the step, and the checkpoint keeps model, optimizer and torch RNG (dropout) state. So a run killed at any
point and resumed from its latest checkpoint ends with the same weights as an uninterrupted run (on CPU).

Distributed: every process builds the same global batches and takes every world_size-th utterance of each;
the loss is normalised by the global batch's token count, so DDP's gradient average equals the gradient of
the single-process loss on the whole batch. Sharded data (`asr data shard`) is dealt out by shard instead, so that
no two processes read the same shard (`asr.batching.make_shard_batches`); the loss is still normalised by the
tokens of all processes' batches of the step.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
import torch.utils.data
from torch import nn

from asr.config import config_to_dict
from asr.errors import AsrError
from asr.fileio import write_text_atomic
from asr.modeldir import plain
from asr.models import build_model, count_parameters
from asr.models.rnn import valid_frames
from asr.models.specaugment import SpecAugment
from asr.training.checkpoint import (epoch_checkpoint_path, load_checkpoint, prune_step_checkpoints, rng_state,
                                     save_checkpoint, set_rng_state, step_checkpoint_path)
from asr.training.augment import WaveAugment
from asr.training.config import TrainConfig
from asr.batching import collate, make_batches, make_shard_batches
from asr.training.dataset import (DataSet, cmvn_stats_of, compute_utterance_features, feature_bytes, load_dataset,
                                  normalize, resolve_feature_spec)
from asr.training.distributed import DistContext, all_reduce_sum, barrier, gather_tensors

logger = logging.getLogger(__name__)

LOG_NAME = "log.jsonl"
VTLP_STEP = 0.005  # VTLP warp factors lie on this grid, so the few dozen warped mel banks are computed once
MODEL_NAME = "model.pt"


def make_optimizer(config: TrainConfig, params) -> torch.optim.Optimizer:
    """The optimizer named by `config.optimizer`; `momentum` is SGD with (Nesterov-free) momentum."""
    params = list(params)
    decay = config.weight_decay
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, weight_decay=decay)
    if config.optimizer == "momentum":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=decay)
    if config.optimizer == "adagrad":
        return torch.optim.Adagrad(params, lr=config.lr, weight_decay=decay)
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=config.lr, momentum=config.momentum, weight_decay=decay)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=decay)
    raise AsrError(f"optimizer={config.optimizer!r}: choose sgd, momentum, adagrad, rmsprop, adam or adamw")


def learning_rate(config: TrainConfig, step: int, epoch_progress: float) -> float:
    """LR for optimizer step `step` (0-based) at `epoch_progress` epochs into training: linear warm-up over
    `warmup_steps`, then the schedule, never below `min_lr`."""
    warmup = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps > 0 else 1.0
    if config.lr_schedule == "exponential":
        decay = config.lr_decay ** math.floor(epoch_progress)
    elif config.lr_schedule == "cosine":
        decay = 0.5 * (1.0 + math.cos(math.pi * min(epoch_progress / config.epochs, 1.0)))
    elif config.lr_schedule == "inverse_sqrt":
        decay = math.sqrt(max(config.warmup_steps, 1) / max(step + 1, config.warmup_steps, 1))
    else:
        decay = 1.0
    return max(config.lr * warmup * decay, min(config.min_lr, config.lr * warmup))


def uniform_kl_sum(log_probs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Sum over the valid frames of KL(uniform || posterior): the frame-level label-smoothing term added to CTC
    (Chorowski & Jaitly 2017's smoothing toward the uniform distribution, per output frame)."""
    kl = -math.log(log_probs.shape[-1]) - log_probs.mean(dim=-1)
    return (kl * valid_frames(lengths, log_probs.shape[1])).sum()


def _seed_for(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, dtype=np.uint64)[0]) >> 1


@dataclass
class TrainState:
    """Where training stands; all of it goes into every checkpoint."""

    epoch: int = 0                 # epochs completed
    batches_done: int = 0          # batches of the current epoch already trained
    global_step: int = 0
    epoch_loss_sum: float = 0.0    # summed CTC loss of the current epoch so far
    epoch_tokens: int = 0
    epoch_frames: int = 0
    elapsed_s: float = 0.0         # training wall time so far, over all resumptions


class Trainer:
    """Train `model` on `train` and validate on `valid`, writing checkpoints and the log into `out_dir`."""

    def __init__(self, config: TrainConfig, model: nn.Module, train: DataSet, valid: DataSet | None,
                 out_dir: str | Path, *, context: DistContext | None = None, tokenizer=None,
                 feature_spec=None, progress: bool = True) -> None:
        self.config = config
        self.context = context or DistContext()
        self.device = self.context.device
        self.model = model.to(self.device)
        self.train_set = train
        self.valid_set = valid
        self.out_dir = Path(out_dir)
        self.tokenizer = tokenizer
        self.feature_spec = feature_spec
        self.progress = progress and self.context.is_main
        self.optimizer = make_optimizer(config, self.model.parameters())
        self.ctc = nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
        self.spec_augment = SpecAugment.from_config(config) if config.spec_augment else None
        self.wave_augment = WaveAugment.from_config(config, feature_spec.sample_frequency) \
            if feature_spec is not None else None
        self.state = TrainState()
        self.log_records: list[dict[str, Any]] = []
        self.network = self.model
        if self.context.distributed:
            from torch.nn.parallel import DistributedDataParallel

            self.network = DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    # ---------------------------------------------------------------- checkpoints
    def checkpoint_state(self, valid_loss: float | None = None) -> dict[str, Any]:
        states = gather_tensors(self.context, rng_state(self.device))
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "rng": states, "config": plain(config_to_dict(self.config)), "valid_loss": valid_loss,
                **vars(self.state)}

    def save(self, path: Path, valid_loss: float | None = None) -> None:
        state = self.checkpoint_state(valid_loss)  # collective: every rank takes part
        if self.context.is_main:
            save_checkpoint(path, state)
            logger.info("checkpoint %s (epoch %d, step %d)", path, self.state.epoch, self.state.global_step)
        barrier(self.context)

    def resume(self, path: str | Path) -> None:
        """Continue from checkpoint `path`: weights, optimizer, position, RNG, and the log up to that point."""
        state = load_checkpoint(path)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        for name in vars(self.state):
            setattr(self.state, name, state[name])
        rngs = state["rng"]
        if len(rngs) == self.context.world_size:
            set_rng_state(rngs[self.context.rank], self.device)
        else:
            logger.warning("%s was written by %d processes, now %d: dropout draws will differ from an "
                           "uninterrupted run", path, len(rngs), self.context.world_size)
            torch.manual_seed(_seed_for(self.config.seed, self.state.global_step, self.context.rank))
        log_path = self.out_dir / LOG_NAME
        if log_path.exists():
            records = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines() if line]
            self.log_records = [r for r in records if r.get("global_step", 0) <= self.state.global_step]
        logger.info("resumed from %s: epoch %d, batch %d, step %d", path, self.state.epoch,
                    self.state.batches_done, self.state.global_step)

    # ---------------------------------------------------------------- one step
    def _batch_features(self, indices: list[int], epoch: int, batch_index: int) -> list[np.ndarray]:
        """Features of a batch; with speed perturbation, VTLP, noise or reverberation, recomputed from the audio
        with a speed factor, a warp factor and the waveform augmentation drawn per utterance."""
        utts = [self.train_set.utterances[i] for i in indices]
        factors, vtlp, augment = self.config.speed_perturb, self.config.vtlp, self.wave_augment
        if not factors and not vtlp and augment is None:
            return [self.train_set.features(u) for u in utts]
        rng = np.random.default_rng([self.config.seed, epoch, batch_index, 1])
        feats = []
        for u in utts:
            factor = float(factors[rng.integers(len(factors))]) if factors else 1.0
            warp = round(float(rng.uniform(1.0 - vtlp, 1.0 + vtlp)) / VTLP_STEP) * VTLP_STEP if vtlp else 1.0
            wave_augment = augment.draw(rng) if augment is not None else None
            if factor == 1.0 and warp == 1.0 and wave_augment is None:
                feats.append(self.train_set.features(u))
                continue
            perturbed = compute_utterance_features(self.train_set.data_dir, u.key, self.feature_spec, factor, warp,
                                                   wave_augment)
            feats.append(self.train_set.normalized(u.key, perturbed))
        return feats

    def epoch_batches(self, epoch: int) -> list[tuple[list[int], int]]:
        """This process's batches of `epoch`, each with the tokens of every process's batch of that step (the
        loss's normaliser): its share of each global batch, or for sharded data, batches of its own shards, each
        process's under 1/world_size of the caps. A pure function of (seed, epoch), so --resume continues it."""
        config, context, train = self.config, self.context, self.train_set

        def tokens(batch: list[int]) -> int:
            return sum(len(train.utterances[i].targets) for i in batch)

        if train.shard_of is None:
            batches = make_batches(train.lengths, config.max_frames, config.max_batch_size, seed=config.seed,
                                   epoch=epoch, min_batch_size=context.world_size)
            return [(batch[context.rank::context.world_size], tokens(batch)) for batch in batches]
        plans = make_shard_batches(train.lengths, train.shard_of, max(1, config.max_frames // context.world_size),
                                   max(1, config.max_batch_size // context.world_size),
                                   world_size=context.world_size, shard_buffer=config.shard_buffer, seed=config.seed,
                                   epoch=epoch)
        return [(plans[context.rank][step], sum(tokens(plan[step]) for plan in plans))
                for step in range(len(plans[0]))]

    def prepare_batch(self, mine: list[int], global_tokens: int, epoch: int, batch_index: int) -> tuple:
        """This process's batch `mine` ready for the step: padded (SpecAugmented) features, lengths, targets,
        target lengths, and `global_tokens`. A pure function of its arguments, so loader workers can make batches
        ahead of the step."""
        feats, lengths, targets, target_lengths = collate(
            self._batch_features(mine, epoch, batch_index), [self.train_set.utterances[i].targets for i in mine])
        if self.spec_augment is not None:
            generator = torch.Generator().manual_seed(
                _seed_for(self.config.seed, epoch, batch_index, self.context.rank))
            feats = self.spec_augment(feats, lengths, generator)
        return feats, lengths, targets, target_lengths, global_tokens

    def train_step(self, batch: tuple) -> tuple[float, int, int]:
        """One optimizer step on a prepared batch; returns the summed loss, the tokens and the input frames of the
        whole global batch."""
        feats, lengths, targets, target_lengths, global_tokens = batch
        feats = feats.to(self.device)
        targets, target_lengths = targets.to(self.device), target_lengths.to(self.device)
        log_probs, out_lengths, inter = self.network(feats, lengths.to(self.device), intermediate=True)
        loss_sum = self.ctc(log_probs.transpose(0, 1), targets, out_lengths, target_lengths)
        objective = loss_sum
        if self.config.label_smoothing > 0:
            smoothing = self.config.label_smoothing
            objective = (1.0 - smoothing) * loss_sum + smoothing * uniform_kl_sum(log_probs, out_lengths)
        if inter is not None:  # intermediate CTC; the logged loss stays the last layer's, the one decoding reads
            weight = self.config.inter_ctc_weight
            objective = (1.0 - weight) * objective + weight * self.ctc(inter.transpose(0, 1), targets, out_lengths,
                                                                        target_lengths)
        # DDP averages gradients over processes: scale so that the average is d(global sum / global tokens).
        (objective * (self.context.world_size / global_tokens)).backward()
        if self.config.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        total_loss, total_frames = all_reduce_sum(self.context, [loss_sum.item(), float(lengths.sum())])
        return total_loss, global_tokens, int(total_frames)

    # ---------------------------------------------------------------- validation
    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Validation loss per token and, with a tokenizer, greedy CER/WER (percent) against the reference as
        the units spell it (decode(encode(text)): case, unknown characters and, for phone units, phones instead
        of words, so for phone units "wer" is a phone-string error rate)."""
        assert self.valid_set is not None
        self.model.eval()
        utts = self.valid_set.utterances
        loss_sum, tokens, refs, hyps = 0.0, 0, {}, {}
        for batch in make_batches(self.valid_set.lengths, self.config.max_frames, self.config.max_batch_size,
                                  shuffle=False):
            feats, lengths, targets, target_lengths = collate([utts[i].feats for i in batch],
                                                              [utts[i].targets for i in batch])
            log_probs, out_lengths = self.model(feats.to(self.device), lengths.to(self.device))
            loss_sum += float(self.ctc(log_probs.transpose(0, 1), targets.to(self.device), out_lengths,
                                       target_lengths.to(self.device)))
            tokens += int(target_lengths.sum())
            if self.tokenizer is not None:
                from asr.decoding import greedy_search

                posteriors = log_probs.cpu().numpy()
                for row, i in enumerate(batch):
                    ids = greedy_search(posteriors[row, :int(out_lengths[row])], blank=0)
                    hyps[utts[i].key] = self.tokenizer.decode(ids)
                    refs[utts[i].key] = self.tokenizer.decode(utts[i].targets.tolist())
        self.model.train()
        result = {"valid_loss": loss_sum / max(tokens, 1)}
        if self.tokenizer is not None:
            from asr.scoring import score_texts

            result["cer"] = score_texts(refs, hyps, cer=True).error_rate
            result["wer"] = score_texts(refs, hyps).error_rate
        return result

    # ---------------------------------------------------------------- the loop
    def fit(self) -> TrainState:
        """Train up to `config.epochs` epochs from the current state (fresh or resumed)."""
        from tqdm import tqdm

        config, state = self.config, self.state
        if self.context.is_main:
            logger.info("model %s: %d parameters; %d threads; device %s; %d process(es)", config.model,
                        count_parameters(self.model), torch.get_num_threads(), self.device, self.context.world_size)
        writer = self._tensorboard()
        self.model.train()
        while state.epoch < config.epochs:
            epoch = state.epoch
            batches = self.epoch_batches(epoch)
            bar = tqdm(total=len(batches), initial=state.batches_done, desc=f"epoch {epoch + 1}/{config.epochs}",
                       unit="batch", disable=not self.progress, dynamic_ncols=True)
            start = time.perf_counter()
            frames_this_run = 0
            lr = self.optimizer.param_groups[0]["lr"]
            loader = self._loader(batches, epoch, state.batches_done)
            while state.batches_done < len(batches):
                if config.max_steps and state.global_step >= config.max_steps:
                    break
                lr = learning_rate(config, state.global_step, epoch + state.batches_done / len(batches))
                for group in self.optimizer.param_groups:
                    group["lr"] = lr
                loss, tokens, frames = self.train_step(next(loader))
                state.batches_done += 1
                state.global_step += 1
                state.epoch_loss_sum += loss
                state.epoch_tokens += tokens
                state.epoch_frames += frames
                frames_this_run += frames
                wall = time.perf_counter() - start
                bar.set_postfix(loss=f"{loss / max(tokens, 1):.3f}", fps=f"{frames_this_run / max(wall, 1e-9):.0f}",
                                lr=f"{lr:.2e}", refresh=False)
                bar.update()
                if writer is not None:
                    writer.add_scalar("train/loss", loss / max(tokens, 1), state.global_step)
                    writer.add_scalar("train/lr", lr, state.global_step)
                if config.checkpoint_every > 0 and state.global_step % config.checkpoint_every == 0 \
                        and state.batches_done < len(batches):
                    state.elapsed_s += time.perf_counter() - start
                    start = time.perf_counter()
                    self.save(step_checkpoint_path(self.out_dir, state.global_step))
                    if self.context.is_main:
                        prune_step_checkpoints(self.out_dir, config.keep_step_checkpoints)
            bar.close()
            if state.batches_done < len(batches):  # max_steps reached inside the epoch: stop resumably
                seconds = time.perf_counter() - start
                state.elapsed_s += seconds
                self.save(step_checkpoint_path(self.out_dir, state.global_step))
                if self.context.is_main:
                    self.save_weights()
                logger.info("max_steps=%d reached in epoch %d: %d frames in %.1f s (%.0f frames/s); weights in %s",
                            config.max_steps, epoch + 1, frames_this_run, seconds, frames_this_run / max(seconds, 1e-9),
                            self.out_dir / MODEL_NAME)
                break
            train_time = time.perf_counter() - start
            state.elapsed_s += train_time
            record: dict[str, Any] = {
                "epoch": epoch + 1, "global_step": state.global_step,
                "train_loss": state.epoch_loss_sum / max(state.epoch_tokens, 1), "lr": lr,
                "frames": state.epoch_frames, "frames_per_s": frames_this_run / max(train_time, 1e-9)}
            if self.valid_set is not None and config.valid_every_epoch:  # only rank 0 holds the valid set
                valid_start = time.perf_counter()
                record.update(self.evaluate())
                record["valid_time_s"] = time.perf_counter() - valid_start
                state.elapsed_s += record["valid_time_s"]
            barrier(self.context)
            record["elapsed_s"] = state.elapsed_s
            state.epoch += 1
            state.batches_done = 0
            state.epoch_loss_sum, state.epoch_tokens, state.epoch_frames = 0.0, 0, 0
            self.save(epoch_checkpoint_path(self.out_dir, state.epoch), record.get("valid_loss"))
            if self.context.is_main:
                self._write_log(record, writer)
                self.save_weights()
        if writer is not None:
            writer.close()
        return state

    def _loader(self, batches: list[tuple[list[int], int]], epoch: int, first: int) -> Iterator[tuple]:
        """The prepared batches from `first` on: made here, or by `num_workers` DataLoader processes ahead of the
        step (in order, so the result does not depend on the number of workers)."""
        if self.config.num_workers == 0:
            return (self.prepare_batch(*batches[i], epoch, i) for i in range(first, len(batches)))
        from torch.utils.data import DataLoader

        # its own generator: the loader's worker seeds must not draw from the global RNG that dropout uses
        return iter(DataLoader(_PreparedBatches(self, batches, epoch, first), batch_size=None,
                               num_workers=self.config.num_workers, prefetch_factor=2,
                               generator=torch.Generator().manual_seed(self.config.seed)))

    def save_weights(self, path: Path | None = None) -> None:
        """model.pt: the bare state_dict, what `load_model_dir` reads."""
        from asr.fileio import atomic_path

        with atomic_path(path or self.out_dir / MODEL_NAME) as tmp:
            torch.save(self.model.state_dict(), tmp)

    def _write_log(self, record: dict[str, Any], writer) -> None:
        self.log_records.append(record)
        write_text_atomic(self.out_dir / LOG_NAME, "".join(json.dumps(r) + "\n" for r in self.log_records))
        summary = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items()
                            if k in {"epoch", "train_loss", "valid_loss", "cer", "wer", "elapsed_s"})
        logger.info("%s", summary)
        if writer is not None:
            for key in ("train_loss", "valid_loss", "cer", "wer"):
                if key in record:
                    writer.add_scalar(f"epoch/{key}", record[key], record["epoch"])

    def _tensorboard(self):
        """A SummaryWriter into out_dir/tensorboard when tensorboard is installed (rank 0 only)."""
        if not self.context.is_main:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            return None
        return SummaryWriter(str(self.out_dir / "tensorboard"))


class _PreparedBatches(torch.utils.data.Dataset):
    """An epoch's batches from `first` on, prepared by the trainer (in a DataLoader worker)."""

    def __init__(self, trainer: Trainer, batches: list[tuple[list[int], int]], epoch: int, first: int) -> None:
        self.trainer, self.batches, self.epoch, self.first = trainer, batches, epoch, first

    def __len__(self) -> int:
        return len(self.batches) - self.first

    def __getitem__(self, position: int) -> tuple:
        index = self.first + position
        return self.trainer.prepare_batch(*self.batches[index], self.epoch, index)


def load_initial_weights(model: nn.Module, model_dir: str | Path, tokenizer, config, input_dim: int) -> None:
    """Start from another model directory's weights (fine-tuning, or transfer from another corpus): the network
    options must be these; the units may differ, as ESPnet's and icefall's transfer recipes allow. Then every
    weight tied to the units (the output layers' rows, a self-conditioning layer's columns) is taken from the
    other model's row of the same unit, and units it never had keep their random start."""
    from asr.modeldir import MODEL_FILE, first_shape_difference, load_state_dict
    from asr.units import load_tokenizer

    model_dir = Path(model_dir)
    if not (model_dir / MODEL_FILE).is_file():
        raise AsrError(f"init_model={model_dir}: no {MODEL_FILE} there; give a model directory from asr train")
    theirs, ours = list(load_tokenizer(model_dir / "lang").tokens), list(tokenizer.tokens)
    state = load_state_dict(model_dir / MODEL_FILE)
    mine = model.state_dict()
    unit_dims = _unit_dims(config, input_dim, len(ours))
    shapes = {k: tuple(v.shape) for k, v in mine.items()}
    for name, dim in unit_dims.items():  # compare the unit-tied weights as if they had the other model's units
        shapes[name] = shapes[name][:dim] + (len(theirs),) + shapes[name][dim + 1:]
    differing = first_shape_difference(shapes, state)
    if differing is not None:
        raise AsrError(f"init_model={model_dir}: its network differs from this config's (first difference: "
                       f"{differing}); give the network options of {model_dir / 'config.yaml'}")
    if theirs != ours:
        shared = [(i, theirs.index(token)) for i, token in enumerate(ours) if token in theirs]  # <blk> at least
        rows, source_rows = (torch.tensor(index) for index in zip(*shared))
        for name, dim in unit_dims.items():
            mapped = mine[name].clone()
            mapped.index_copy_(dim, rows, state[name].index_select(dim, source_rows))
            state[name] = mapped
        new = [token for token in ours if token not in theirs]
        logger.info("init_model: %d of %d units take %s's output weights%s", len(shared), len(ours), model_dir,
                    f"; new units start at random: {' '.join(new)}" if new else "")
    model.load_state_dict(state)
    logger.info("initial weights from %s", model_dir / MODEL_FILE)


def _unit_dims(config, input_dim: int, num_units: int) -> dict[str, int]:
    """The weights whose size follows the number of units, and along which dimension: found by building the same
    network with one unit more, so a new model kind needs no list here."""
    with torch.random.fork_rng():  # building draws random weights: leave training's random stream as it was
        wider = {k: tuple(v.shape) for k, v in build_model(config, input_dim, num_units + 1).state_dict().items()}
        narrow = {k: tuple(v.shape) for k, v in build_model(config, input_dim, num_units).state_dict().items()}
    return {k: next(d for d, (a, b) in enumerate(zip(narrow[k], wider[k])) if a != b)
            for k in narrow if narrow[k] != wider[k]}


def stream_training_data(config: TrainConfig, train_dir: str | Path, spec) -> bool:
    """Whether to stream the training features: `stream_data`, or (auto) when they would take more than
    `memory_budget_gb` in memory (sized from utt2num_frames or the arks; from wav.scp, from utt2dur)."""

    if config.stream_data != "auto":
        return config.stream_data == "always"
    size = feature_bytes(train_dir, spec)
    if size > config.memory_budget_gb * 1e9:
        logger.info("%s: features of about %.1f GB, over memory_budget_gb=%g: streamed from %s", train_dir,
                    size / 1e9, config.memory_budget_gb, "feats.scp" if spec.source == "feats" else "wav.scp")
        return True
    return False


def run_training(config: TrainConfig, train_dir: str | Path, valid_dir: str | Path | None, lang_dir: str | Path,
                 out_dir: str | Path, *, resume: bool = False, progress: bool = True) -> Trainer:
    """`asr train`: read data and units, build the model, write the model directory, train (or resume).
    Returns the trainer (its .model holds the final weights of this process)."""
    from asr.training.checkpoint import latest_checkpoint
    from asr.training.config import RESUMABLE_CHANGES
    from asr.training.distributed import init_distributed, shutdown
    from asr.modeldir import read_model_config, write_model_dir
    from asr.units import load_tokenizer

    torch.set_num_threads(config.num_threads)
    out_dir = Path(out_dir)
    context = init_distributed(config.device)
    try:
        checkpoint = latest_checkpoint(out_dir)
        if checkpoint is not None and not resume:
            raise AsrError(f"{out_dir}: already holds checkpoints; pass --resume to continue that run, "
                           f"or choose another --out")
        if checkpoint is not None:
            before = config_to_dict(read_model_config(out_dir, TrainConfig))
            changed = sorted(k for k, v in plain(config_to_dict(config)).items()
                             if k not in RESUMABLE_CHANGES and plain(before.get(k)) != v)
            if changed:
                raise AsrError(f"{out_dir}/config.yaml: --resume with changed options "
                               f"{', '.join(f'{k}={before.get(k)!r}->{getattr(config, k)!r}' for k in changed)}; "
                               f"only {', '.join(sorted(RESUMABLE_CHANGES))} may change")
        elif resume:
            logger.info("%s: no checkpoint to resume from; starting from scratch", out_dir)
        tokenizer = load_tokenizer(lang_dir)
        spec = resolve_feature_spec(config, train_dir)
        subsampling = config.subsampling if config.model == "crnn" else 1
        show = progress and context.is_main
        train_set = load_dataset(train_dir, tokenizer, spec, subsampling, show,
                                 streamed=stream_training_data(config, train_dir, spec))
        valid_set = load_dataset(valid_dir, tokenizer, spec, subsampling, show, keep_too_short=True) \
            if valid_dir is not None and context.is_main else None
        stats = cmvn_stats_of(train_set, config.cmvn)
        normalize(train_set, stats, config.norm_vars, config.cmvn)
        if valid_set is not None:  # its own speakers' stats, as decoding does
            valid_stats = cmvn_stats_of(valid_set, config.cmvn) if config.cmvn == "speaker" else stats
            normalize(valid_set, valid_stats, config.norm_vars, config.cmvn)
        torch.manual_seed(config.seed)
        model = build_model(config, spec.dim, len(tokenizer.tokens))
        if config.init_model is not None and checkpoint is None:
            load_initial_weights(model, config.init_model, tokenizer, config, spec.dim)
        if context.is_main:
            write_model_dir(out_dir, config, spec, stats if config.cmvn == "global" else None, tokenizer)
            print(f"{config.model}: {count_parameters(model):,} parameters, input {spec.dim}-dim {spec.kind} "
                  f"({spec.source}), {len(tokenizer.tokens)} outputs", flush=True)
        barrier(context)
        trainer = Trainer(config, model, train_set, valid_set, out_dir, context=context, tokenizer=tokenizer,
                          feature_spec=spec, progress=progress)
        if checkpoint is not None:
            trainer.resume(checkpoint)
        trainer.fit()
        return trainer
    finally:
        shutdown(context)
