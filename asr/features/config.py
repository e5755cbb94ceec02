"""Feature option dataclasses with Kaldi's option names and defaults.

One field per Kaldi option (`--num-mel-bins` -> `num_mel_bins`), default = Kaldi's default, so a Kaldi conf
file (`conf/mfcc.conf`) loads unchanged through `asr.config.build_config`. Options we add beyond Kaldi are
marked "(asr)" in their comment.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any, Mapping

from asr.config import build_config
from asr.errors import AsrError
from asr.features.melbanks import mel_banks

WINDOW_TYPES = ("povey", "hamming", "hanning", "rectangular", "blackman")
# Bounds far beyond any speech setting, so a hostile conf or features.yaml (`--num-mel-bins=1000000000`) is an
# error instead of an allocation that kills the machine: samples per frame or shift (4.4 min at 16 kHz), and
# elements of a mel filterbank matrix (bins x FFT bins; Kaldi's 23 x 257 is 6k, 512 x 32769 is 16.8M).
MAX_WINDOW_SAMPLES = 1 << 22
MAX_MEL_BANK_ELEMENTS = 1 << 26


@dataclass(frozen=True)
class FrameOptions:
    """Kaldi's FrameExtractionOptions (framing, dither, pre-emphasis, window)."""

    sample_frequency: float = 16000.0
    frame_length: float = 25.0  # ms
    frame_shift: float = 10.0  # ms
    dither: float = 1.0  # std-dev of Gaussian noise added to every frame sample; 0 disables
    seed: int = 0  # (asr) seed of the dither noise, so a rerun reproduces
    preemphasis_coefficient: float = 0.97
    remove_dc_offset: bool = True
    window_type: str = "povey"
    blackman_coeff: float = 0.42
    round_to_power_of_two: bool = True
    snip_edges: bool = True  # True: only frames that fit; False: reflect at the edges, about len/shift frames
    normalized: bool = False  # (asr) input is float in [-1, 1]; scaled to Kaldi's int16 range first

    def validate(self) -> None:
        """Reject option values Kaldi would reject, with the offending name in the message."""
        for name in ("sample_frequency", "frame_length", "frame_shift"):  # int(nan/inf) below would crash
            if not math.isfinite(getattr(self, name)):
                raise AsrError(f"{name}={getattr(self, name)} must be a finite number")
        if self.sample_frequency <= 0:
            raise AsrError(f"sample_frequency={self.sample_frequency} must be positive")
        if self.seed < 0:
            raise AsrError(f"seed={self.seed} must be >= 0 (it seeds numpy's generator)")
        if self.window_type not in WINDOW_TYPES:
            raise AsrError(f"window_type={self.window_type!r} is not one of {', '.join(WINDOW_TYPES)}")
        if self.window_size < 2:
            raise AsrError(f"frame_length={self.frame_length} ms gives fewer than 2 samples per frame")
        if self.window_shift < 1:
            raise AsrError(f"frame_shift={self.frame_shift} ms gives less than 1 sample per shift")
        if max(self.padded_window_size, self.window_shift) > MAX_WINDOW_SAMPLES:
            raise AsrError(f"frame_length={self.frame_length} / frame_shift={self.frame_shift} ms give more than "
                           f"{MAX_WINDOW_SAMPLES} samples per frame at {self.sample_frequency:g} Hz; use speech frame "
                           f"sizes (25 / 10 ms)")
        if self.dither < 0:
            raise AsrError(f"dither={self.dither} must be >= 0")
        if not 0.0 <= self.preemphasis_coefficient <= 1.0:
            raise AsrError(f"preemphasis_coefficient={self.preemphasis_coefficient} must be in [0, 1]")

    @functools.cached_property
    def window_size(self) -> int:
        """Samples per frame, truncated like Kaldi's WindowSize()."""
        return int(self.sample_frequency * 0.001 * self.frame_length)

    @functools.cached_property
    def window_shift(self) -> int:
        """Samples per shift, truncated like Kaldi's WindowShift()."""
        return int(self.sample_frequency * 0.001 * self.frame_shift)

    @functools.cached_property
    def padded_window_size(self) -> int:
        """FFT length: the window size, or the next power of two."""
        size = self.window_size
        return 1 << (size - 1).bit_length() if self.round_to_power_of_two else size


@dataclass(frozen=True)
class SpectrogramOptions(FrameOptions):
    """Kaldi's SpectrogramOptions: log power spectrum whose bin 0 is the frame's log energy."""

    energy_floor: float = 0.0
    raw_energy: bool = True  # energy before pre-emphasis and windowing
    use_log: bool = True  # (asr) False returns the power spectrum (bin 0 = energy) without the log


@dataclass(frozen=True)
class MelOptions(FrameOptions):
    """Kaldi's MelBanksOptions plus the energy options shared by fbank and mfcc."""

    num_mel_bins: int = 23
    low_freq: float = 20.0
    high_freq: float = 0.0  # <= 0: offset from the Nyquist frequency
    vtln_low: float = 100.0  # VTLN's lower inflection point (Hz)
    vtln_high: float = -500.0  # VTLN's upper inflection point (<= 0: offset from the Nyquist frequency)
    vtln_warp: float = 1.0  # VTLN warp factor: frequencies between the inflection points are divided by it
    energy_floor: float = 0.0
    raw_energy: bool = True
    htk_compat: bool = False

    def validate(self) -> None:
        super().validate()
        nyquist = 0.5 * self.sample_frequency
        high = self.high_freq + nyquist if self.high_freq <= 0 else self.high_freq
        if self.num_mel_bins < 3:
            raise AsrError(f"num_mel_bins={self.num_mel_bins} must be at least 3")
        if not (0.0 <= self.low_freq < nyquist and 0.0 < high <= nyquist and self.low_freq < high):
            raise AsrError(f"low_freq={self.low_freq} and high_freq={self.high_freq} do not fit the Nyquist "
                           f"frequency {nyquist} Hz of sample_frequency={self.sample_frequency}")
        _check_mel_bank_size(self.num_mel_bins, self.padded_window_size, "num_mel_bins", "frame_length")
        vtln_high = self.vtln_high + nyquist if self.vtln_high < 0 else self.vtln_high
        if not 0.5 <= self.vtln_warp <= 2.0:
            raise AsrError(f"vtln_warp={self.vtln_warp} must lie in [0.5, 2.0] (1.0: no warp)")
        if self.vtln_warp != 1.0 and not (self.low_freq < self.vtln_low < vtln_high < high):
            raise AsrError(f"vtln_low={self.vtln_low} and vtln_high={self.vtln_high} must satisfy low_freq < "
                           f"vtln_low < vtln_high < high_freq ({self.low_freq} Hz, {high} Hz), as in Kaldi")
        banks = mel_banks(self.num_mel_bins, self.padded_window_size, self.sample_frequency, self.low_freq,
                          self.high_freq, self.vtln_low, self.vtln_high, self.vtln_warp)
        if not banks.any(axis=1).all():  # Kaldi's MelBanks refuses this too
            raise AsrError(f"num_mel_bins={self.num_mel_bins} is too large for a {self.padded_window_size}-point "
                           f"FFT at {self.sample_frequency:g} Hz: some mel bins contain no FFT bin; use fewer bins")


@dataclass(frozen=True)
class FbankOptions(MelOptions):
    """Kaldi's FbankOptions (compute-fbank-feats)."""

    use_energy: bool = False  # prepend (htk_compat: append) the log energy
    use_log_fbank: bool = True
    use_power: bool = True  # power spectrum; False uses the magnitude


@dataclass(frozen=True)
class MfccOptions(MelOptions):
    """Kaldi's MfccOptions (compute-mfcc-feats)."""

    num_ceps: int = 13
    use_energy: bool = True  # replace c0 by the log energy
    cepstral_lifter: float = 22.0

    def validate(self) -> None:
        super().validate()
        if not 1 <= self.num_ceps <= self.num_mel_bins:
            raise AsrError(f"num_ceps={self.num_ceps} must be between 1 and num_mel_bins={self.num_mel_bins}")


def _check_mel_bank_size(num_bins: int, fft_size: int, bins_name: str, fft_name: str) -> None:
    """Refuse a filterbank matrix (num_bins, fft_size / 2 + 1) too large to allocate, before it is built."""
    elements = num_bins * (fft_size // 2 + 1)
    if elements > MAX_MEL_BANK_ELEMENTS:
        raise AsrError(f"{bins_name}={num_bins} with a {fft_size}-point FFT makes a {elements}-element filterbank "
                       f"(at most {MAX_MEL_BANK_ELEMENTS}); use fewer bins or a smaller {fft_name}")


OPTION_CLASSES: dict[str, type[FrameOptions]] = {
    "mfcc": MfccOptions,
    "fbank": FbankOptions,
    "spectrogram": SpectrogramOptions,
}


FLAVORS = ("kaldi", "librosa")


def option_class(kind: str, flavor: str = "kaldi") -> type:
    """The options dataclass of feature `kind` in `flavor` ("kaldi" or "librosa")."""
    if flavor not in FLAVORS:
        raise AsrError(f"unknown feature flavor {flavor!r}; use one of {', '.join(FLAVORS)}")
    classes = OPTION_CLASSES if flavor == "kaldi" else LIBROSA_OPTION_CLASSES
    if kind not in classes:
        raise AsrError(f"unknown {flavor} feature kind {kind!r}; use one of {', '.join(classes)}")
    return classes[kind]


def make_options(kind: str, options: Mapping[str, Any] | None = None, path: str | None = None,
                 flavor: str = "kaldi") -> Any:
    """Build and validate the option dataclass of feature `kind` from an optional conf file and overrides."""
    config = build_config(option_class(kind, flavor), path, options)
    config.validate()
    return config


def options_dict(config: Any) -> dict[str, Any]:
    """The options as a plain dict, for features.yaml in model directories and output metadata."""
    return dataclasses.asdict(config)


@dataclass(frozen=True)
class LibrosaMelOptions:
    """librosa.feature.melspectrogram + power_to_db defaults (librosa's parameter names)."""

    sample_frequency: float = 22050.0  # librosa's sr
    n_fft: int = 2048
    hop_length: int = 512
    win_length: int = 0  # 0: n_fft (librosa's None)
    window: str = "hann"  # any scipy.signal.get_window name, periodic like librosa
    center: bool = True  # frames centered on t * hop_length, signal padded by n_fft // 2
    pad_mode: str = "constant"
    power: float = 2.0
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float = 0.0  # <= 0: sample_frequency / 2 (librosa's None)
    htk: bool = False  # False: Slaney mel scale
    norm: str = "slaney"  # "slaney" (area-normalized triangles) or "none"
    to_db: bool = True  # power_to_db(S, ref=1.0, amin=1e-10, top_db=80)
    amin: float = 1e-10
    top_db: float = 80.0  # <= 0: no clipping (librosa's None)
    normalized: bool = False  # (asr) input already in [-1, 1]; default: int16 range, divided by 32768

    def validate(self) -> None:
        """Reject values librosa would reject."""
        for name in ("sample_frequency", "fmin", "fmax"):
            if not math.isfinite(getattr(self, name)):
                raise AsrError(f"{name}={getattr(self, name)} must be a finite number")
        if self.sample_frequency <= 0 or self.n_fft < 2 or self.hop_length < 1 or self.n_mels < 1:
            raise AsrError("sample_frequency, n_fft (>= 2), hop_length and n_mels must be positive")
        if self.win_length > self.n_fft:
            raise AsrError(f"win_length={self.win_length} must not exceed n_fft={self.n_fft}")
        _check_mel_bank_size(self.n_mels, self.n_fft, "n_mels", "n_fft")
        if self.norm not in ("slaney", "none"):
            raise AsrError(f"norm={self.norm!r} must be 'slaney' or 'none'")
        if self.pad_mode not in ("constant", "reflect", "edge", "symmetric"):
            raise AsrError(f"pad_mode={self.pad_mode!r} must be constant, reflect, edge or symmetric")


@dataclass(frozen=True)
class LibrosaMfccOptions(LibrosaMelOptions):
    """librosa.feature.mfcc defaults: DCT-II (orthonormal) of the dB mel spectrogram."""

    n_mfcc: int = 20
    lifter: float = 0.0

    def validate(self) -> None:
        super().validate()
        if not 1 <= self.n_mfcc <= self.n_mels:
            raise AsrError(f"n_mfcc={self.n_mfcc} must be between 1 and n_mels={self.n_mels}")
        if not self.to_db:
            raise AsrError("MFCCs are computed from the dB mel spectrogram; to_db must stay true")


LIBROSA_OPTION_CLASSES: dict[str, type] = {"mfcc": LibrosaMfccOptions, "fbank": LibrosaMelOptions}
