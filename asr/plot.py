"""`asr plot curves`: a model directory's training curves from its log.jsonl (losses, validation error rates);
`asr plot reliability`: a reliability diagram of word confidences (asr.decoding.confidence.Calibration).

It reads a model directory and trains nothing, so it lives outside asr.training, which only `asr train` imports."""

from __future__ import annotations

import json
import os
from pathlib import Path

from asr.errors import AsrError, where
from asr.fileio import atomic_path


def read_log(model_dir: str | os.PathLike) -> list[dict]:
    """The per-epoch records `asr train` wrote (one JSON object per line)."""
    path = Path(model_dir) / "log.jsonl"
    if not path.is_file():
        raise AsrError(f"{path}: missing; give a model directory written by asr train (after its first epoch)")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise AsrError(f"{where(path, number)}: not a JSON record; the log is damaged") from None
    if not records:
        raise AsrError(f"{path}: no epoch recorded yet")
    return records


def plot_curves(model_dir: str | os.PathLike, path: str | os.PathLike, title: str | None = None) -> None:
    """Left: train and valid CTC loss per token; right: greedy valid CER/WER (%), when validated."""
    plt = _pyplot("plotting training curves")

    records = read_log(model_dir)
    epochs = [r["epoch"] for r in records]
    has_rates = any("wer" in r for r in records)
    figure, axes = plt.subplots(1, 2 if has_rates else 1, figsize=(11 if has_rates else 6, 4), squeeze=False,
                                constrained_layout=True)
    try:
        loss = axes[0][0]
        for key in ("train_loss", "valid_loss"):
            if any(key in r for r in records):
                loss.plot(epochs, [r.get(key, float("nan")) for r in records], marker="o", label=key.split("_")[0])
        loss.set_yscale("log")
        loss.set_xlabel("epoch")
        loss.set_ylabel("CTC loss per unit")
        loss.legend()
        if has_rates:
            rates = axes[0][1]
            for key in ("cer", "wer"):
                rates.plot(epochs, [r.get(key, float("nan")) for r in records], marker="o", label=f"valid {key}")
            rates.set_xlabel("epoch")
            rates.set_ylabel("error rate (%), greedy")
            rates.legend()
        figure.suptitle(title or f"{Path(model_dir).name}: {len(records)} epochs, "
                                 f"{records[-1].get('elapsed_s', 0.0):.0f} s")
        _save(figure, path)
    finally:
        plt.close(figure)


def plot_reliability(calibration, path: str | os.PathLike, title: str | None = None) -> None:
    """Fraction of correct words against mean confidence per confidence bin (the diagonal: perfect calibration),
    with the number of words per bin below it."""
    plt = _pyplot("plotting a reliability diagram")

    filled = [(mean, fraction, count, low, high) for (low, high, count, fraction), mean in
              zip(calibration.bins, calibration.mean_confidence) if count]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(5, 6), sharex=True, constrained_layout=True,
                                         gridspec_kw={"height_ratios": [3, 1]})
    try:
        top.plot([0, 1], [0, 1], color="grey", linestyle="--", label="calibrated")
        top.plot([f[0] for f in filled], [f[1] for f in filled], marker="o", label="words")
        top.set_ylabel("fraction correct")
        top.set_ylim(0, 1)
        top.legend(loc="upper left")
        bottom.bar([(f[3] + f[4]) / 2 for f in filled], [f[2] for f in filled],
                   width=[0.9 * (f[4] - f[3]) for f in filled])
        bottom.set_xlabel("confidence")
        bottom.set_ylabel("words")
        bottom.set_xlim(0, 1)
        figure.suptitle(title or f"NCE {calibration.nce:.3f}, {calibration.words} words, "
                                 f"{100.0 * calibration.correct / max(calibration.words, 1):.1f}% correct")
        _save(figure, path)
    finally:
        plt.close(figure)


def _pyplot(purpose: str):
    """matplotlib.pyplot on the file-only Agg backend (the `plot` extra names itself when missing)."""
    from asr.errors import import_extra

    import_extra("matplotlib", "plot", purpose).use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: str | os.PathLike) -> None:
    """Write the figure atomically, in the format the file name's suffix says (png without one)."""
    suffix = os.path.splitext(os.fspath(path))[1].lstrip(".") or "png"
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110, format=suffix)
