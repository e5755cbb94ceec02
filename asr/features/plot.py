"""One utterance's spectrogram, filterbank or MFCC as an image (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from asr.fileio import atomic_path

AXIS_LABELS = {"spectrogram": "FFT bin", "fbank": "mel bin", "mfcc": "cepstrum"}


def plot_features(feats: np.ndarray, path: str | os.PathLike, *, kind: str, frame_shift_s: float,
                  sample_frequency: float | None = None, title: str | None = None) -> None:
    """Save (frames, dim) features as a heat map, time on x; spectrograms get a frequency axis in Hz."""
    from asr.errors import import_extra

    import_extra("matplotlib", "plot", "plotting features").use("Agg")
    import matplotlib.pyplot as plt

    feats = np.asarray(feats, dtype=np.float64)
    seconds = feats.shape[0] * frame_shift_s
    top, label = feats.shape[1], AXIS_LABELS.get(kind, "dimension")
    if kind == "spectrogram" and sample_frequency:
        top, label = sample_frequency / 2, "frequency (Hz)"
    figure, axes = plt.subplots(figsize=(max(6.0, min(16.0, 2 + seconds * 3)), 4), constrained_layout=True)
    try:
        image = axes.imshow(feats.T, origin="lower", aspect="auto", cmap="magma" if kind != "mfcc" else "coolwarm",
                            extent=(0.0, seconds, 0.0, top), interpolation="nearest")
        axes.set_xlabel("time (s)")
        axes.set_ylabel(label)
        axes.set_title(title or kind)
        figure.colorbar(image, ax=axes, label="log energy" if kind != "mfcc" else "value")
        suffix = os.path.splitext(os.fspath(path))[1].lstrip(".") or "png"
        with atomic_path(path) as tmp:
            figure.savefig(tmp, dpi=110, format=suffix)
    finally:
        plt.close(figure)


def describe_plot(kind: str, opts: Any) -> str:
    """A title for the figure naming the options that shape it."""
    if hasattr(opts, "num_ceps"):
        return f"MFCC ({opts.num_ceps} ceps, {opts.num_mel_bins} mel bins)"
    if hasattr(opts, "num_mel_bins"):
        return f"log mel filterbank ({opts.num_mel_bins} bins)"
    if hasattr(opts, "n_mfcc"):
        return f"MFCC, librosa flavor ({opts.n_mfcc} coefficients)"
    if hasattr(opts, "n_mels"):
        return f"dB mel spectrogram, librosa flavor ({opts.n_mels} bins)"
    return f"log power spectrogram ({opts.padded_window_size} point FFT)"
