"""Energy-based voice activity detection: where the speech of a long recording is, so that transcription cuts it in
pauses rather than by the clock.

A frame is speech when its log energy lies above the file's noise floor by `threshold_ratio` of the range between
that floor and its speech peaks (low and high percentiles of the frames' log energies); a file whose range is under
`min_range` (no frame stands out of its noise) has no speech. Kaldi's compute-vad rule (a threshold of
5 + 0.5 x the mean log energy) was tried first and dropped: tied to the file's mean level, it falls below the
noise of loud pauses beside a quiet speaker, and the whole file becomes one segment. The frames then become
segments: pauses shorter than `min_silence_s` are bridged (a stop closure inside a word is
not a pause), bursts shorter than `min_speech_s` dropped, each segment's edges moved out over up to `extend_s` of
frames above the lower `extend_ratio` threshold (hysteresis, as in Rabiner and Sambur's endpoint detector: a word's
weak onset or tail, a fricative say, belongs to it), each padded by `pad_s` of its silence, and a
segment longer than `max_segment_s` split at its quietest frame. Numpy only; the file is read block by block.

`segment_data_dir` (`asr data segment`) writes a Kaldi `segments` file of a data directory's recordings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from asr.errors import AsrError

if TYPE_CHECKING:
    from asr.datadir import DataDir


@dataclass(frozen=True)
class VadOptions:
    """Which frames are speech, and how they become segments."""

    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0
    floor_percentile: float = 2.0      # the noise floor: this percentile of the frames' log energies
    peak_percentile: float = 98.0      # the speech peaks
    threshold_ratio: float = 0.3       # speech: above floor + ratio * (peak - floor) (bench/long_audio.py
    #                                    --vad threshold_ratio=0.2 / 0.4 to compare)
    extend_ratio: float = 0.15         # a segment's edges move out over up to `extend_s` of frames above floor +
    extend_s: float = 0.05             # this ratio * (peak - floor): the weak onsets and tails of words, such as
    #                                    fricatives (hysteresis; bench/RESULTS.md: FSDD long audio)
    min_range: float = 2.3             # natural-log units (10 dB): a narrower range is all noise, no speech
    min_silence_s: float = 0.15        # shorter pauses are bridged: they lie inside words or between close words
    min_speech_s: float = 0.05         # shorter bursts (clicks) are dropped
    pad_s: float = 0.0                 # silence kept on each side of a segment (at most half the pause); models
    #                                    trained on trimmed FSDD digits lose with it (bench/long_audio.py
    #                                    --vad pad_s=0.1 to compare)
    max_segment_s: float = 30.0        # longer segments are split at their quietest frame (inf: never)


def frame_log_energy(read: Callable[[int, int], np.ndarray], num_samples: int, sample_frequency: float,
                     options: VadOptions = VadOptions(), block_frames: int = 6000) -> np.ndarray:
    """Per frame (every frame_shift, snip-edges framing), the log of the summed squared samples, reading
    `read(start, stop)` (int16-range samples) block by block so memory stays flat in the file's length."""
    window = int(round(sample_frequency * options.frame_length_ms / 1000))
    shift = int(round(sample_frequency * options.frame_shift_ms / 1000))
    total = 0 if num_samples < window else 1 + (num_samples - window) // shift
    energies = np.empty(total)
    for first in range(0, total, block_frames):
        count = min(block_frames, total - first)
        samples = np.asarray(read(first * shift, (first + count - 1) * shift + window), dtype=np.float64)
        frames = np.lib.stride_tricks.sliding_window_view(samples, window)[::shift][:count]
        energies[first:first + count] = np.log(np.maximum(np.einsum("ij,ij->i", frames, frames), 1.0))
    return energies


def _thresholds(log_energy: np.ndarray, options: VadOptions) -> tuple[float, float] | None:
    """(speech threshold, lower edge threshold) of a file's log energies; None when no frame stands out."""
    if len(log_energy) == 0:
        return None
    floor, peak = np.percentile(log_energy, [options.floor_percentile, options.peak_percentile])
    if peak - floor < options.min_range:
        return None
    return floor + options.threshold_ratio * (peak - floor), floor + options.extend_ratio * (peak - floor)


def speech_segments(log_energy: np.ndarray, options: VadOptions = VadOptions(),
                    speech: np.ndarray | None = None) -> list[tuple[float, float]]:
    """(start_s, end_s) of each speech segment, in order and not overlapping. `speech`, one bool per frame, takes
    the place of the threshold's call (another detector's, as bench/long_audio.py --webrtc compares); bridging,
    the click filter, hysteresis and splitting stay the same."""
    thresholds = _thresholds(log_energy, options)
    if thresholds is None:
        return []
    speech_level, edge_level = thresholds
    shift = options.frame_shift_ms / 1000
    voiced = log_energy > speech_level if speech is None else np.asarray(speech, dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]])))
    runs = [[int(a), int(b)] for a, b in zip(edges[::2], edges[1::2])]  # [first, stop) frames
    merged: list[list[int]] = []
    for run in runs:
        if merged and (run[0] - merged[-1][1]) * shift < options.min_silence_s:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    kept = [r for r in merged if (r[1] - r[0]) * shift >= options.min_speech_s]
    _extend_edges(kept, log_energy > edge_level, int(round(options.extend_s / shift)))
    split: list[tuple[int, int]] = []
    for first, stop in kept:
        split += (_split_long(log_energy, first, stop, int(options.max_segment_s / shift))
                  if np.isfinite(options.max_segment_s) else [(first, stop)])
    pad = int(round(options.pad_s / shift))
    window_excess = (options.frame_length_ms - options.frame_shift_ms) / 1000  # the last frame's window ends later
    starts = [(first - min(pad, first if i == 0 else (first - split[i - 1][1]) // 2)) * shift
              for i, (first, _) in enumerate(split)]
    ends = [(stop + min(pad, len(log_energy) - stop if i == len(split) - 1 else (split[i + 1][0] - stop) // 2))
            * shift + window_excess for i, (_, stop) in enumerate(split)]
    return [(start, min(end, starts[i + 1]) if i + 1 < len(starts) else end)
            for i, (start, end) in enumerate(zip(starts, ends))]


def _extend_edges(segments: list[list[int]], weak: np.ndarray, limit: int) -> None:
    """Move each [first, stop) segment's edges outwards over up to `limit` unbroken `weak` frames, never into its
    neighbours (in place). Only found segments grow: a click below min_speech_s stays dropped."""
    for i, segment in enumerate(segments):
        low = segments[i - 1][1] if i else 0
        high = segments[i + 1][0] if i + 1 < len(segments) else len(weak)
        for _ in range(limit):
            if segment[0] <= low or not weak[segment[0] - 1]:
                break
            segment[0] -= 1
        for _ in range(limit):
            if segment[1] >= high or not weak[segment[1]]:
                break
            segment[1] += 1


def _split_long(log_energy: np.ndarray, first: int, stop: int, longest: int) -> list[tuple[int, int]]:
    """[first, stop) as pieces of at most `longest` frames, cut at the quietest frame of each middle half."""
    if stop - first <= longest or longest < 4:
        return [(first, stop)]
    quarter = (stop - first) // 4
    cut = first + quarter + int(np.argmin(log_energy[first + quarter:stop - quarter]))
    return _split_long(log_energy, first, cut, longest) + _split_long(log_energy, cut, stop, longest)


def segment_data_dir(src: str | os.PathLike, dst: str | os.PathLike, options: VadOptions = VadOptions(), *,
                     allow_pipes: bool = False, progress: bool = True) -> DataDir:
    """A data directory of long recordings -> one of their speech segments (Kaldi's `segments` file): utterance
    `<recording>-<start>-<end>` (centiseconds, 7 digits) of each wav.scp recording, its speaker the recording's
    (from utt2spk where it maps the recording, else the recording itself) and, where the recording id does not
    start with it, prefixed with `<speaker>-` (Kaldi sorts a speaker's utterances together by that prefix).
    Transcripts cannot be cut without an alignment, so `text` is not carried; a source that already has
    `segments` is refused."""
    from tqdm import tqdm

    from asr.datadir import DataDir, Segment, load_utterance_audio, read_data_dir, write_data_dir

    data = read_data_dir(src)
    if data.segments:
        raise AsrError(f"{Path(src) / 'segments'}: the data is already segmented; segment the recordings' data "
                       f"directory (wav.scp without segments)")
    if not data.wav_scp:
        raise AsrError(f"{Path(src) / 'wav.scp'}: missing; asr data segment reads the recordings it lists")
    out = DataDir(wav_scp=dict(data.wav_scp))
    for recording in tqdm(sorted(data.wav_scp), desc="segment", unit="recording", disable=not progress):
        wave, rate = load_utterance_audio(data, recording, allow_pipes=allow_pipes)
        energy = frame_log_energy(lambda a, b: wave[a:b], len(wave), rate, options)
        for start, end in speech_segments(energy, options):
            end = min(end, len(wave) / rate)
            speaker = data.utt2spk.get(recording, recording)
            prefix = "" if recording.startswith(speaker) else f"{speaker}-"
            utt = f"{prefix}{recording}-{int(round(start * 100)):07d}-{int(round(end * 100)):07d}"
            out.segments[utt] = Segment(recording, round(start, 2), round(end, 2))
            out.utt2spk[utt] = speaker
    write_data_dir(dst, out)
    return out
