"""The training loop: schedules, optimizers, learning, determinism and mid-epoch resume."""

from __future__ import annotations

import json
import math
import shutil

import pytest
import torch

from asr.batching import collate
from asr.models import build_model
from asr.training.checkpoint import latest_checkpoint, step_checkpoint_path
from asr.training.config import TrainConfig
from asr.training.trainer import Trainer, learning_rate, make_optimizer, uniform_kl_sum
from synthetic_corpus import DIM, LETTERS, in_memory

NUM_UNITS = 3 + len(LETTERS)  # <blk> <unk> | a b c d

TINY = dict(model="crnn", hidden_size=16, num_layers=1, conv_channels=4, max_frames=300, warmup_steps=4, lr=0.01,
            lr_decay=0.8, dropout=0.1)


def _trainer(out_dir, train, valid=None, tokenizer=None, **overrides) -> Trainer:
    config = TrainConfig(**{**TINY, **overrides})
    torch.manual_seed(config.seed)
    model = build_model(config, DIM, NUM_UNITS)
    return Trainer(config, model, train, valid, out_dir, tokenizer=tokenizer, progress=False)


def test_learning_rate_warms_up_then_follows_the_schedule():
    config = TrainConfig(lr=1.0, warmup_steps=10, lr_schedule="exponential", lr_decay=0.5, min_lr=0.01, epochs=4)
    assert [learning_rate(config, s, 0.0) for s in (0, 4, 9)] == pytest.approx([0.1, 0.5, 1.0])
    assert learning_rate(config, 100, 1.5) == pytest.approx(0.5)
    assert learning_rate(config, 100, 3.0) == pytest.approx(0.125)
    assert learning_rate(config, 10**6, 30.0) == pytest.approx(0.01)  # floor
    cosine = TrainConfig(lr=1.0, warmup_steps=0, lr_schedule="cosine", min_lr=0.0, epochs=4)
    assert [learning_rate(cosine, 50, p) for p in (0, 2, 4)] == pytest.approx([1.0, 0.5, 0.0], abs=1e-12)
    inverse = TrainConfig(lr=1.0, warmup_steps=100, lr_schedule="inverse_sqrt", min_lr=0.0)
    assert learning_rate(inverse, 399, 1.0) == pytest.approx(math.sqrt(100 / 400))


@pytest.mark.parametrize("name,cls", [("sgd", torch.optim.SGD), ("momentum", torch.optim.SGD),
                                      ("adagrad", torch.optim.Adagrad), ("rmsprop", torch.optim.RMSprop),
                                      ("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW)])
def test_optimizers_and_their_weight_decay(name, cls):
    optimizer = make_optimizer(TrainConfig(optimizer=name), [torch.nn.Parameter(torch.zeros(2))])
    assert type(optimizer) is cls
    assert optimizer.param_groups[0]["weight_decay"] == 1e-4
    assert optimizer.param_groups[0].get("momentum", 0.9) == (0.0 if name == "sgd" else 0.9)


def test_training_lowers_the_loss_and_decodes_the_synthetic_words(tmp_path):
    train, tokenizer = in_memory(48, seed=0)
    valid, _ = in_memory(12, seed=1)
    trainer = _trainer(tmp_path, train, valid, tokenizer, epochs=10, spec_augment=False, dropout=0.0,
                       hidden_size=32, conv_channels=8, lr=0.02, max_frames=100)
    trainer.fit()
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == list(range(1, 11))
    assert log[-1]["valid_loss"] < 0.5 * log[0]["valid_loss"]
    assert log[-1]["cer"] < 10.0 and log[-1]["wer"] < 20.0  # percent; they start at 100


def test_intermediate_ctc_trains_the_head_on_the_lower_layer_too(tmp_path):
    """With inter_ctc_layer the objective has a second CTC loss on layer 1's head: that head learns to read the
    words as well (its validation CTC loss falls like the last layer's), and weight 0 leaves it untrained."""
    train, tokenizer = in_memory(48, seed=0)
    valid, _ = in_memory(12, seed=1)
    feats, lengths, targets, target_lengths = collate([u.feats for u in valid.utterances],
                                                      [u.targets for u in valid.utterances])

    def head_losses(weight: float) -> tuple[float, float]:
        trainer = _trainer(tmp_path / str(weight), train, valid, tokenizer, epochs=6, spec_augment=False,
                           dropout=0.0, num_layers=2, inter_ctc_layer=1, inter_ctc_weight=weight, hidden_size=32,
                           conv_channels=8, lr=0.02, max_frames=100)
        trainer.fit()
        trainer.model.eval()
        with torch.no_grad():
            log_probs, out_lengths, inter = trainer.model(feats, lengths, intermediate=True)
        tokens = float(target_lengths.sum())
        return tuple(float(trainer.ctc(lp.transpose(0, 1), targets, out_lengths, target_lengths)) / tokens
                     for lp in (log_probs, inter))

    last, head = head_losses(0.3)
    untrained_last, untrained_head = head_losses(0.0)
    assert last < 1.5 and head < 1.5  # CTC loss per token; the untrained head's is above 3
    assert untrained_last < 1.5 and untrained_head > 3.0


def test_identical_seeds_give_identical_weights_and_other_seeds_do_not(tmp_path):
    train, _ = in_memory(24)
    runs = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        trainer = _trainer(tmp_path / name, train, epochs=2, seed=seed)
        trainer.fit()
        runs[name] = trainer.model.state_dict()
    assert all(torch.equal(runs["a"][k], runs["b"][k]) for k in runs["a"])
    assert not all(torch.equal(runs["a"][k], runs["c"][k]) for k in runs["a"])


def test_resuming_mid_epoch_gives_the_same_weights(tmp_path):
    """Dropout, SpecAugment and shuffling all active; resume from a step checkpoint inside epoch 2."""
    train, _ = in_memory(40)
    full = _trainer(tmp_path / "full", train, epochs=3, checkpoint_every=5, keep_step_checkpoints=100)
    full.fit()
    steps_per_epoch = full.state.global_step // 3
    mid = next(s for s in range(5, full.state.global_step, 5) if s % steps_per_epoch and s > steps_per_epoch)
    partial = tmp_path / "partial" / "checkpoints"
    partial.mkdir(parents=True)
    shutil.copy(step_checkpoint_path(tmp_path / "full", mid), partial)
    shutil.copy(tmp_path / "full" / "checkpoints" / "epoch-0001.pt", partial)
    assert latest_checkpoint(partial.parent).name == f"step-{mid:08d}.pt"
    resumed = _trainer(partial.parent, train, epochs=3, checkpoint_every=5, seed=0)
    resumed.resume(latest_checkpoint(partial.parent))
    assert resumed.state.epoch == mid // steps_per_epoch and resumed.state.batches_done == mid % steps_per_epoch
    resumed.fit()
    final, again = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(final[k], again[k]) for k in final)
    assert resumed.state.global_step == full.state.global_step


def test_the_label_smoothing_term_is_the_kl_from_uniform_over_valid_frames():
    """KL(u || p) = sum_v u_v log(u_v / p_v): zero for uniform posteriors, checked against torch's kl_div, and the
    padded frames count for nothing."""
    num_units = 5
    uniform = torch.full((1, 4, num_units), -math.log(num_units))
    assert float(uniform_kl_sum(uniform, torch.tensor([4]))) == pytest.approx(0.0, abs=1e-6)
    log_probs = torch.randn(2, 6, num_units).log_softmax(-1)
    lengths = torch.tensor([6, 2])
    target = torch.full((num_units,), 1.0 / num_units)
    expected = sum(float(torch.nn.functional.kl_div(log_probs[b, t], target, reduction="sum"))
                   for b in range(2) for t in range(int(lengths[b])))
    assert float(uniform_kl_sum(log_probs, lengths)) == pytest.approx(expected, rel=1e-5)


def test_label_smoothing_flattens_the_posteriors(tmp_path):
    train, tokenizer = in_memory(24, seed=0)
    entropies = {}
    for smoothing in (0.0, 0.3):
        trainer = _trainer(tmp_path / str(smoothing), train, epochs=4, spec_augment=False, dropout=0.0,
                           label_smoothing=smoothing, lr=0.02, max_frames=100)
        trainer.fit()
        trainer.model.eval()
        feats, lengths, _, _ = collate([u.feats for u in train.utterances], [u.targets for u in train.utterances])
        with torch.no_grad():
            log_probs, out_lengths = trainer.model(feats, lengths)
        valid = torch.arange(log_probs.shape[1])[None, :] < out_lengths[:, None]
        entropies[smoothing] = float((-(log_probs.exp() * log_probs).sum(-1) * valid).sum() / valid.sum())
    assert entropies[0.3] > 1.3 * entropies[0.0]  # the same seed and batches: only the objective differs
