"""SpecAugment masks and speed perturbation."""

from __future__ import annotations

import numpy as np
import torch

from asr.models.specaugment import SpecAugment, speed_perturb


def test_masks_stay_inside_limits_and_valid_frames():
    augment = SpecAugment(num_freq_masks=2, freq_mask_width=3, num_time_masks=2, time_mask_width=5,
                          time_mask_ratio=0.2)
    feats = torch.ones(4, 50, 20)
    lengths = torch.tensor([50, 40, 20, 5])
    masked = augment(feats, lengths, torch.Generator().manual_seed(1))
    for b, length in enumerate(lengths.tolist()):
        zero_bins = (masked[b] == 0).all(dim=0)
        zero_frames = (masked[b] == 0).all(dim=1)
        assert int(zero_bins.sum()) <= 2 * 3
        assert int(zero_frames.sum()) <= 2 * min(5, int(0.2 * length))
        assert not zero_frames[length:].any()  # padding is never "masked": only valid frames are
    assert (masked == 0).any()


def test_masks_are_reproducible_from_the_generator_seed():
    augment = SpecAugment()
    feats, lengths = torch.randn(3, 60, 20), torch.tensor([60, 50, 30])
    first = augment(feats, lengths, torch.Generator().manual_seed(7))
    again = augment(feats, lengths, torch.Generator().manual_seed(7))
    other = augment(feats, lengths, torch.Generator().manual_seed(8))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_speed_perturbation_scales_duration_and_pitch():
    rate = 8000
    t = np.arange(rate) / rate
    tone = (1000 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    faster = speed_perturb(tone, 1.1)
    assert faster.dtype == np.float32
    assert abs(len(faster) - len(tone) / 1.1) <= 1
    peak_hz = np.argmax(np.abs(np.fft.rfft(faster))) * rate / len(faster)
    assert abs(peak_hz - 440 * 1.1) < 2
    assert speed_perturb(tone, 1.0) is tone


def test_time_warp_moves_one_point_and_keeps_the_ends_and_the_padding():
    augment = SpecAugment(num_freq_masks=0, num_time_masks=0, time_warp=5)
    ramp = torch.arange(40, dtype=torch.float32)[None, :, None].repeat(3, 1, 4)  # frame t holds the value t
    lengths = torch.tensor([40, 30, 8])  # the last is too short to warp (needs > 2 x 5 + 1 frames)
    warped = augment(ramp, lengths, torch.Generator().manual_seed(3))
    for b, length in enumerate(lengths.tolist()):
        values = warped[b, :length, 0]
        assert torch.all(values[1:] >= values[:-1])  # still in time order: a warp, not a shuffle
        assert abs(float(values[0])) <= 1.0 and abs(float(values[-1]) - (length - 1)) <= 1.0
        assert torch.equal(warped[b, length:], ramp[b, length:])  # padding untouched
    assert torch.equal(warped[2], ramp[2])
    assert not torch.equal(warped[0], ramp[0])
    assert torch.equal(augment(ramp, lengths, torch.Generator().manual_seed(3)), warped)  # reproducible
    # with time_warp 0 nothing moves
    assert torch.equal(SpecAugment(num_freq_masks=0, num_time_masks=0)(ramp, lengths, torch.Generator()), ramp)
