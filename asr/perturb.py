"""Data-directory copies with new audio written as files: speed and volume perturbation, resampling.

Kaldi does these with `sox` pipes in `wav.scp` (utils/data/perturb_data_dir_speed.sh,
perturb_data_dir_volume.sh, resample_data_dir.sh); here the audio is computed once and written as 16-bit WAV
files under DST/wav/, so the copy needs no `--allow-pipes`, feeds `asr features` like any corpus, and a second
tool (Kaldi, sox, lhotse) reads it as it is.

- speed: ids of utterances, speakers and recordings get Kaldi's `sp<factor>-` prefix; durations (utt2dur,
  segments) are divided by the factor; text, speakers and genders are kept. Factor 1.0 keeps the originals
  under their own ids, as perturb_data_dir_speed_3way.sh does.
- volume: every recording is scaled by a factor drawn uniformly from [low, high] (Kaldi: 0.125-2), reproducibly
  from (seed, recording id); ids are kept.
- resample: every recording at `sample_frequency`; ids are kept.

The recordings are split into `nj` contiguous jobs that run in this process, in local processes or on a dask
cluster (`cmd`, as `asr features`); each writes its files into the output's wav/ folder (a shared file system on
a cluster) and the output is the same whatever `nj` and `cmd`.

Features (feats.scp, cmvn.scp, utt2num_frames, feats.conf) do not describe the new audio and are not copied.
"""

from __future__ import annotations

import logging
import os
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from asr.audio import INT16_SCALE, read_wav_scp_entry, resample
from asr.datadir import DataDir, Segment, read_data_dir, write_data_dir
from asr.errors import AsrError
from asr.models.specaugment import speed_perturb
from asr.parallel import LOCAL, contiguous_jobs, item_done, run_jobs

logger = logging.getLogger(__name__)

AUDIO_DIR = "wav"
DEFAULT_SPEED_FACTORS = (0.9, 1.0, 1.1)   # Kaldi's 3-way speed perturbation
DEFAULT_VOLUME_RANGE = (0.125, 2.0)       # perturb_data_dir_volume.sh --scale-low/--scale-high

# (samples, rate, recording id) -> (new samples, new rate); module-level classes, so jobs in other processes
# receive them pickled
AudioTransform = Callable[[np.ndarray, int, str], tuple[np.ndarray, int]]


@dataclass(frozen=True)
class SpeedChange:
    """The audio `factor` times faster at the same sample rate (pitch moves with it, as sox `speed`)."""

    factor: float

    def __call__(self, wave: np.ndarray, rate: int, recording: str) -> tuple[np.ndarray, int]:
        return speed_perturb(wave, self.factor), rate


@dataclass(frozen=True)
class VolumeScale:
    """Each recording scaled by a factor uniform in [low, high], drawn from (seed, recording id) so a rerun (or
    another job split) writes the same audio."""

    low: float
    high: float
    seed: int

    def __call__(self, wave: np.ndarray, rate: int, recording: str) -> tuple[np.ndarray, int]:
        rng = np.random.default_rng([self.seed, zlib.crc32(recording.encode())])
        return wave * rng.uniform(self.low, self.high), rate


@dataclass(frozen=True)
class Resampling:
    """Every recording at `sample_frequency` (polyphase)."""

    sample_frequency: int

    def __call__(self, wave: np.ndarray, rate: int, recording: str) -> tuple[np.ndarray, int]:
        return resample(wave, rate, self.sample_frequency), self.sample_frequency


@dataclass(frozen=True)
class AudioCopy:
    """One copy of a data dir's utterances in the output: ids prefixed with `prefix`, audio passed through
    `transform` (None: the original wav.scp entries, unchanged), durations multiplied by `duration_scale`."""

    prefix: str
    transform: AudioTransform | None
    duration_scale: float = 1.0


def rewrite_audio(src: str | os.PathLike, dst: str | os.PathLike, copies: list[AudioCopy], *,
                  allow_pipes: bool = False, desc: str = "rewrite audio", progress: bool = True, nj: int = 1,
                  cmd: str = LOCAL) -> DataDir:
    """Write data dir `dst` holding every copy of `src`'s utterances, each transformed recording written to
    DST/wav/<id>.wav by one of `nj` jobs running where `cmd` says (local, or dask:ADDRESS:
    asr.parallel.cluster_executor). `dst` appears only once complete (a failure leaves an existing `dst` as it
    was)."""
    from tqdm import tqdm

    data = read_data_dir(src)
    if not data.wav_scp:
        raise AsrError(f"{Path(src) / 'wav.scp'}: missing; the audio to perturb comes from wav.scp")
    prefixes = [c.prefix for c in copies]
    if len(set(prefixes)) != len(prefixes):
        raise AsrError(f"copies with the same id prefix {prefixes}: each copy needs its own")
    dst = Path(dst)
    if dst.resolve() == Path(src).resolve():
        raise AsrError(f"{dst}: the output must be a new directory, not the source")
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / AUDIO_DIR).mkdir(parents=True)
    wav_scp = Path(src) / "wav.scp"
    recordings = [(f"{wav_scp}:{line}", recording, entry)
                  for line, (recording, entry) in enumerate(sorted(data.wav_scp.items()), start=1)]
    jobs = contiguous_jobs(recordings, nj)
    new = DataDir(path=dst)
    bar = tqdm(total=len(recordings), desc=desc, unit="rec", disable=not progress, leave=False)
    try:
        results = run_jobs(_rewrite_job, jobs, bar, cmd, copies, (tmp / AUDIO_DIR).absolute(),
                           (dst / AUDIO_DIR).resolve(), allow_pipes)
        for entries, _ in results:
            new.wav_scp.update(entries)
        clipped = sum(count for _, count in results)
        for copy in copies:
            p, scale = copy.prefix, copy.duration_scale
            new.text.update({p + u: t for u, t in data.text.items()})
            new.utt2spk.update({p + u: p + s for u, s in data.utt2spk.items()})
            new.spk2gender.update({p + s: g for s, g in data.spk2gender.items()})
            new.utt2dur.update({p + u: d * scale for u, d in data.utt2dur.items()})
            new.segments.update({p + u: Segment(p + s.recording, s.start * scale, s.end * scale if s.end >= 0
                                                else s.end) for u, s in data.segments.items()})
        write_data_dir(tmp, new)
        if not any(c.transform for c in copies):
            (tmp / AUDIO_DIR).rmdir()
        shutil.rmtree(dst, ignore_errors=True)
        tmp.rename(dst)
    finally:
        bar.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if clipped:
        logger.warning("%s: %d samples clipped to the 16-bit range", dst, clipped)
    logger.info("wrote %s: %d utterances (%s)", dst, len(new.utterances), desc)
    return new


def _rewrite_job(recordings: list[tuple[str, str, str]], copies: list[AudioCopy], out_dir: Path, audio_dir: Path,
                 allow_pipes: bool) -> tuple[dict[str, str], int]:
    """One job: each (source, recording id, wav.scp entry) through every copy, the new files written into
    `out_dir` and listed under `audio_dir`, where they will be once the output is complete. Returns the job's
    wav.scp entries (in recording order) and its count of samples clipped to 16 bits."""
    wav_scp: dict[str, str] = {}
    clipped = 0
    for source, recording, entry in recordings:
        if any(c.transform is not None for c in copies):
            wave, rate = read_wav_scp_entry(entry, allow_pipes=allow_pipes, source=source)
        for copy in copies:
            if copy.transform is None:
                wav_scp[copy.prefix + recording] = entry
                continue
            out, out_rate = copy.transform(wave, rate, recording)
            samples = np.round(np.asarray(out, dtype=np.float64))
            clipped += int(np.count_nonzero(np.abs(samples) > INT16_SCALE - 1))
            name = f"{copy.prefix}{recording}.wav"
            _write_wav(out_dir / name, np.clip(samples, -INT16_SCALE, INT16_SCALE - 1), out_rate)
            wav_scp[copy.prefix + recording] = str(audio_dir / name)
        item_done()
    return wav_scp, clipped


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    import soundfile

    soundfile.write(path, samples.astype(np.int16), rate, subtype="PCM_16")


def speed_prefix(factor: float) -> str:
    """Kaldi's id prefix for a speed factor: sp0.9-, sp1.1-; the originals (1.0) keep their ids."""
    return "" if factor == 1.0 else f"sp{factor:g}-"


def perturb_data_dir_speed(src: str | os.PathLike, dst: str | os.PathLike,
                           factors: tuple[float, ...] = DEFAULT_SPEED_FACTORS, *, allow_pipes: bool = False,
                           progress: bool = True, nj: int = 1, cmd: str = LOCAL) -> DataDir:
    """Kaldi's perturb_data_dir_speed.sh (perturb_data_dir_speed_3way.sh for 0.9,1.0,1.1): one copy per factor,
    the audio `factor` times faster at the same sample rate (pitch moves with it, as sox `speed`), ids prefixed
    `sp<factor>-` and durations divided by the factor; 1.0 keeps the originals under their own ids. `nj` jobs
    (default 1) run where `cmd` says (default local; dask:ADDRESS for a cluster)."""
    if not factors or len(set(factors)) != len(factors) or any(not 0.5 <= f <= 2.0 for f in factors):
        raise AsrError(f"speed factors {','.join(map(str, factors))}: give distinct factors in [0.5, 2.0], "
                       f"e.g. 0.9,1.0,1.1")
    copies = [AudioCopy(speed_prefix(f), None if f == 1.0 else SpeedChange(f), 1.0 / f) for f in factors]
    return rewrite_audio(src, dst, copies, allow_pipes=allow_pipes,
                         desc=f"speed {','.join(f'{f:g}' for f in factors)}", progress=progress, nj=nj, cmd=cmd)


def perturb_data_dir_volume(src: str | os.PathLike, dst: str | os.PathLike, *,
                            scale_low: float = DEFAULT_VOLUME_RANGE[0], scale_high: float = DEFAULT_VOLUME_RANGE[1],
                            seed: int = 0, allow_pipes: bool = False, progress: bool = True, nj: int = 1,
                            cmd: str = LOCAL) -> DataDir:
    """Kaldi's perturb_data_dir_volume.sh: each recording scaled by a factor uniform in [scale_low, scale_high],
    drawn from (seed, recording id) so a rerun writes the same audio; ids kept. `nj` jobs (default 1) run where
    `cmd` says (default local; dask:ADDRESS for a cluster)."""
    if not 0.0 < scale_low <= scale_high:
        raise AsrError(f"volume range [{scale_low}, {scale_high}]: need 0 < scale-low <= scale-high")
    return rewrite_audio(src, dst, [AudioCopy("", VolumeScale(scale_low, scale_high, seed))],
                         allow_pipes=allow_pipes, desc="volume", progress=progress, nj=nj, cmd=cmd)


def resample_data_dir(src: str | os.PathLike, dst: str | os.PathLike, sample_frequency: int, *,
                      allow_pipes: bool = False, progress: bool = True, nj: int = 1, cmd: str = LOCAL) -> DataDir:
    """Kaldi's resample_data_dir.sh: every recording at `sample_frequency` (polyphase); ids kept. `nj` jobs
    (default 1) run where `cmd` says (default local; dask:ADDRESS for a cluster)."""
    return rewrite_audio(src, dst, [AudioCopy("", Resampling(sample_frequency))], allow_pipes=allow_pipes,
                         desc=f"resample to {sample_frequency} Hz", progress=progress, nj=nj, cmd=cmd)
