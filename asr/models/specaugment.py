"""Augmentation: SpecAugment masks on padded feature batches, and speed perturbation of waveforms.

Both draw from an explicit `torch.Generator` / seed passed by the trainer, derived from (seed, epoch, step),
so a resumed run draws the same masks as an uninterrupted one without saving any augmentation state.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch
from torch import nn


class SpecAugment(nn.Module):
    """SpecAugment (Park et al. 2019): time warping, then frequency and time masks filled with 0 (the mean after
    CMVN).

    Time warping moves a random point of each utterance's valid frames by up to `time_warp` frames (left of it
    stretched, right of it squeezed, linearly), keeping its length. Time masks are at most `time_mask_width`
    frames and at most `time_mask_ratio` of each utterance, and only fall inside its valid frames.
    """

    def __init__(self, num_freq_masks: int = 2, freq_mask_width: int = 8, num_time_masks: int = 2,
                 time_mask_width: int = 20, time_mask_ratio: float = 0.2, time_warp: int = 0) -> None:
        super().__init__()
        self.time_warp = time_warp
        self.num_freq_masks = num_freq_masks
        self.freq_mask_width = freq_mask_width
        self.num_time_masks = num_time_masks
        self.time_mask_width = time_mask_width
        self.time_mask_ratio = time_mask_ratio

    @classmethod
    def from_config(cls, config) -> "SpecAugment":
        return cls(config.num_freq_masks, config.freq_mask_width, config.num_time_masks, config.time_mask_width,
                   config.time_mask_ratio, config.time_warp)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """feats (B, T, F) -> masked copy; `generator` is a CPU generator so draws match on every device."""
        batch, frames, dims = feats.shape
        if self.time_warp > 0:
            feats = torch.stack([warp_time(f, int(n), self.time_warp, generator) for f, n in zip(feats, lengths)])
        keep = torch.ones(batch, frames, dims)
        freq_axis = torch.arange(dims)
        time_axis = torch.arange(frames)
        for b in range(batch):
            length = int(lengths[b])
            for _ in range(self.num_freq_masks):
                width = int(torch.randint(0, min(self.freq_mask_width, dims) + 1, (1,), generator=generator))
                start = int(torch.randint(0, dims - width + 1, (1,), generator=generator))
                keep[b, :, (freq_axis >= start) & (freq_axis < start + width)] = 0
            max_time = min(self.time_mask_width, int(self.time_mask_ratio * length))
            for _ in range(self.num_time_masks):
                width = int(torch.randint(0, max_time + 1, (1,), generator=generator))
                start = int(torch.randint(0, length - width + 1, (1,), generator=generator))
                keep[b, (time_axis >= start) & (time_axis < start + width), :] = 0
        return feats * keep.to(feats.device)


def warp_time(feats: torch.Tensor, length: int, max_warp: int, generator: torch.Generator) -> torch.Tensor:
    """SpecAugment's time warp of one (T, F) utterance with `length` valid frames: a point c, drawn at least
    `max_warp` frames from either end, moves to c + w (|w| <= max_warp); frames [0, c) are stretched linearly onto
    [0, c + w) and [c, length) onto [c + w, length). Utterances too short to warp are returned unchanged."""
    if length <= 2 * max_warp + 1:
        return feats
    centre = int(torch.randint(max_warp + 1, length - max_warp, (1,), generator=generator))
    shift = int(torch.randint(-max_warp, max_warp + 1, (1,), generator=generator))
    if shift == 0:
        return feats

    def resize(part: torch.Tensor, size: int) -> torch.Tensor:
        return nn.functional.interpolate(part.T[None], size=size, mode="linear", align_corners=False)[0].T

    warped = feats.clone()
    warped[:centre + shift] = resize(feats[:centre], centre + shift)
    warped[centre + shift:length] = resize(feats[centre:length], length - centre - shift)
    return warped


def speed_perturb(waveform: np.ndarray, factor: float) -> np.ndarray:
    """Kaldi/sox-style speed perturbation: resample so the audio plays `factor` times faster (pitch moves too),
    keeping the nominal sample rate. factor 1.0 returns the input unchanged."""
    if factor == 1.0:
        return waveform
    from scipy.signal import resample_poly

    ratio = Fraction(factor).limit_denominator(100)  # new_len = len / factor
    return resample_poly(waveform, ratio.denominator, ratio.numerator).astype(waveform.dtype, copy=False)
