"""Feature extraction over a Kaldi data directory or plain audio files, and CMVN/deltas over stored features.

A data-directory run writes `feats.ark`, `feats.scp`, `utt2num_frames` and `feats.conf` (the options, as a
Kaldi conf) into the directory (or `out_dir`). With `nj` > 1 the utterances (C-sorted, so a speaker stays in
one job) are split into `nj` contiguous jobs, each in its own process writing its own `feats.J.ark`; the
combined `feats.scp` is written last. Any previous `feats.scp` is removed before the first archive is
replaced, and every archive is renamed into place only when complete, so an interrupted run never leaves an
scp pointing into a truncated or replaced archive.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from asr.datadir import FEATS_CONF
from asr.errors import AsrError, skipped_into
from asr.features import compute_features, feature_dim
from asr.features.cmvn import apply_cmvn, compute_cmvn_stats, speaker_cmvn_stats
from asr.features.config import FbankOptions, LibrosaMelOptions, MfccOptions, options_dict
from asr.features.deltas import add_deltas
from asr.features.files import ARCHIVE_FORMATS, SINGLE_FORMATS, ArkOrNpzWriter, read_features, write_matrix
from asr.fileio import write_text_atomic
from asr.kaldi_io import ArkWriter, write_kaldi_map
from asr.parallel import contiguous_jobs, item_done, run_jobs

logger = logging.getLogger(__name__)


@dataclass
class AudioOptions:
    """How audio is read: see asr.audio.load_audio."""

    channel: int | None = None
    allow_resample: bool = False
    allow_pipes: bool = False


@dataclass
class ExtractionSummary:
    """What a run produced, for the summary line."""

    utterances: int = 0
    frames: int = 0
    dim: int = 0
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    failed: list[tuple[str, str]] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)

    def line(self) -> str:
        speed = self.audio_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0
        where = ", ".join(str(p) for p in self.outputs[:3]) + (" ..." if len(self.outputs) > 3 else "")
        failed = f"; {len(self.failed)} failed (skipped)" if self.failed else ""
        return (f"{self.utterances} utterances, {self.frames} frames x {self.dim} dims, "
                f"{self.audio_seconds:.1f} s of audio in {self.wall_seconds:.1f} s ({speed:.0f}x real time) "
                f"-> {where}{failed}")


def frame_shift_seconds(opts: Any) -> float:
    """Seconds between frames, for HTK headers and time axes."""
    if isinstance(opts, LibrosaMelOptions):
        return opts.hop_length / opts.sample_frequency
    return opts.window_shift / opts.sample_frequency


def htk_kind(kind: str, opts: Any) -> str:
    """The HTK parmKind naming what the columns hold (USER where Kaldi's order is not HTK's)."""
    if isinstance(opts, MfccOptions) and opts.htk_compat:
        return "MFCC_E" if opts.use_energy else "MFCC_0"
    if isinstance(opts, FbankOptions) and opts.use_log_fbank and (opts.htk_compat or not opts.use_energy):
        return "FBANK_E" if opts.use_energy else "FBANK"
    return "USER"


def source_features(kind: str, wave: np.ndarray, rate: int, opts: Any, flavor: str, source: str) -> np.ndarray:
    """Features of one waveform; audio shorter than one frame is a user error naming `source`."""
    feats = compute_features(kind, wave, rate, opts, flavor=flavor)
    if feats.shape[0] == 0:
        raise AsrError(f"{source}: audio of {len(wave)} samples ({len(wave) / rate:.3f} s) is shorter than one "
                       f"frame; remove it from the data (or use --snip-edges=false for Kaldi features)")
    return feats


def options_for_file(kind: str, options: Mapping[str, Any], rate: int, flavor: str, path: Any) -> Any:
    """Options at one audio file's own rate; options that do not fit that rate (e.g. 1 Hz) name the file."""
    from asr.features.config import make_options

    try:
        return make_options(kind, {**options, "sample_frequency": rate}, flavor=flavor)
    except AsrError as e:
        raise AsrError(f"{path}: sample rate {rate} Hz: {e}") from None


def conf_text(kind: str, flavor: str, opts: Any) -> str:
    """The options as a Kaldi-style conf (readable by --config and asr.config.build_config)."""
    lines = [f"# asr features {kind} ({flavor} flavor); load with --config"]
    for name, value in options_dict(opts).items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        lines.append(f"--{name.replace('_', '-')}={text}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- data dirs
def _extract_job(utts: list[str], ark: Path, data: Any, kind: str, opts: Any, flavor: str, audio: AudioOptions,
                 skip_errors: bool, compress: bool) -> tuple[list[tuple[str, str, int]], list[tuple[str, str]],
                                                             float]:
    """One job: features of `utts` into archive `ark`; returns (utt, spec, frames) rows, failures, audio seconds."""
    from asr.datadir import load_utterance_audio

    rows, seconds = [], 0.0
    failed: dict[str, str] | None = {} if skip_errors else None
    with ArkWriter(ark, compress=compress) as writer:
        for utt in utts:
            with skipped_into(failed, utt):
                wave, rate = load_utterance_audio(data, utt, sample_frequency=int(opts.sample_frequency),
                                                  allow_resample=audio.allow_resample,
                                                  allow_pipes=audio.allow_pipes, channel=audio.channel)
                recording = data.recording(utt)
                source = f"{data.path / 'wav.scp'}[{recording}]: {data.wav_scp[recording]}"
                feats = source_features(kind, wave, rate, opts, flavor, source)
                rows.append((utt, writer.write(utt, feats.astype(np.float32)), feats.shape[0]))
                seconds += len(wave) / rate
            item_done()
    return rows, list((failed or {}).items()), seconds


def extract_data_dir(data_dir: str | os.PathLike, kind: str, opts: Any, *, flavor: str = "kaldi",
                     out_dir: str | os.PathLike | None = None, nj: int = 1, skip_errors: bool = False,
                     audio: AudioOptions | None = None, compress: bool = False,
                     progress: bool = True, cmd: str = "local") -> ExtractionSummary:
    """Features for every utterance of a data directory (wav.scp, segments honoured) into feats.ark/scp;
    `compress`: as Kaldi's compressed matrices (steps/make_*.sh --compress true), a quarter of the disk; `cmd`:
    where the `nj` jobs run (local, or dask:ADDRESS: asr.parallel.cluster_executor)."""
    from tqdm import tqdm

    from asr.datadir import read_data_dir

    audio = audio or AudioOptions()
    start = time.perf_counter()
    data = read_data_dir(data_dir)
    if not data.wav_scp:
        raise AsrError(f"{Path(data_dir) / 'wav.scp'}: missing; features are computed from the audio it lists")
    utts = data.utterances
    out = Path(out_dir) if out_dir is not None else Path(data_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs = contiguous_jobs(utts, nj)
    arks = [(out / ("feats.ark" if len(jobs) == 1 else f"feats.{j + 1}.ark")).absolute() for j in range(len(jobs))]
    # jobs write beside the final names; the previous feats.scp stays valid until every job has succeeded
    partials = [ark.with_name(ark.name + ".partial") for ark in arks]
    bar = tqdm(total=len(utts), desc=f"{kind} {data_dir}", unit="utt", disable=not progress, leave=False)
    try:
        results = run_jobs(_extract_job, jobs, bar, cmd, data, kind, opts, flavor, audio, skip_errors, compress,
                           job_args=[(partial,) for partial in partials])
    except BaseException:
        for partial in partials:
            partial.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
    summary = ExtractionSummary(dim=feature_dim(opts))
    scp, num_frames = {}, {}
    for (rows, failed, seconds), partial, ark in zip(results, partials, arks):
        for utt, spec, frames in rows:
            scp[utt], num_frames[utt] = str(ark) + spec[len(str(partial)):], str(frames)
            summary.frames += frames
        summary.failed += failed
        summary.audio_seconds += seconds
    if not scp:
        for partial in partials:
            partial.unlink(missing_ok=True)
        raise AsrError(f"{data_dir}: no utterance produced features ({len(summary.failed)} failed); see the "
                       f"warnings above")
    for stale in ("feats.scp", "utt2num_frames"):  # must never point into the archives about to be replaced
        (out / stale).unlink(missing_ok=True)
    for partial, ark in zip(partials, arks):
        os.replace(partial, ark)
    write_kaldi_map(out / "utt2num_frames", num_frames)
    write_text_atomic(out / FEATS_CONF, conf_text(kind, flavor, opts))
    write_kaldi_map(out / "feats.scp", scp)
    summary.utterances = len(scp)
    summary.outputs = [out / "feats.scp"]
    summary.wall_seconds = time.perf_counter() - start
    logger.info("wrote %s, %s and %d archive(s) under %s", out / "feats.scp", out / "utt2num_frames", len(arks), out)
    return summary


# --------------------------------------------------------------------------------------------- audio files
def expand_inputs(patterns: Iterable[str]) -> list[Path]:
    """Audio paths from paths and glob patterns (a pattern matching nothing is an error naming it)."""
    paths: list[Path] = []
    for pattern in patterns:
        if any(c in pattern for c in "*?["):
            matches = sorted(glob(pattern, recursive=True))
            if not matches:
                raise AsrError(f"{pattern}: no file matches this pattern; check the path and quoting")
            paths += [Path(m) for m in matches]
        else:
            paths.append(Path(pattern))
    return paths


def _keys(paths: list[Path]) -> list[str]:
    """Archive keys: the file stems, or (when stems repeat) the paths with separators turned into '_'."""
    stems = [p.stem for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    return [str(p.with_suffix("")).strip("/").replace(os.sep, "_").replace(" ", "_") for p in paths]


def extract_files(inputs: Iterable[str], output: str | os.PathLike, kind: str, options: Mapping[str, Any], *,
                  flavor: str = "kaldi", sample_frequency: float | None = None, audio: AudioOptions | None = None,
                  file_format: str = ".npy", compress: bool = False, progress: bool = True) -> ExtractionSummary:
    """Features of plain audio files into one file per input (-o f.npy/.csv/.htk for one input, or -o DIR),
    or one archive for all (-o out.ark/.npz; `compress` for .ark). Without `sample_frequency` each file keeps
    its own rate."""
    from tqdm import tqdm

    from asr.audio import load_audio

    audio = audio or AudioOptions()
    start = time.perf_counter()
    paths = expand_inputs(inputs)
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix in SINGLE_FORMATS and len(paths) > 1:
        raise AsrError(f"{output}: one {suffix} file holds one utterance but {len(paths)} inputs were given; "
                       f"use -o DIR/ (one file each) or an archive (-o out.ark / out.npz)")
    if suffix not in SINGLE_FORMATS + ARCHIVE_FORMATS and not file_format.startswith("."):
        file_format = "." + file_format
    if compress and suffix != ".ark":
        raise AsrError(f"{output}: --compress writes Kaldi compressed matrices, which only an .ark holds; use "
                       f"-o out.ark or drop --compress")
    summary = ExtractionSummary()
    archive = ArkOrNpzWriter(output, compress=compress) if suffix in ARCHIVE_FORMATS else None
    with archive or contextlib.nullcontext():
        for path, key in tqdm(list(zip(paths, _keys(paths))), desc=kind, unit="file", disable=not progress,
                              leave=False):
            wave, rate = load_audio(path, sample_frequency=None if sample_frequency is None else int(sample_frequency),
                                    channel=audio.channel, allow_resample=audio.allow_resample)
            opts = options_for_file(kind, options, rate, flavor, path)
            feats = source_features(kind, wave, rate, opts, flavor, str(path))
            if archive is not None:
                archive.write(key, feats)
            else:
                target = output if suffix in SINGLE_FORMATS else output / f"{key}{file_format}"
                write_matrix(target, feats, frame_shift_s=frame_shift_seconds(opts), htk_kind=htk_kind(kind, opts))
                summary.outputs.append(target)
            summary.utterances += 1
            summary.frames += feats.shape[0]
            summary.dim = feats.shape[1]
            summary.audio_seconds += len(wave) / rate
    if archive is not None:
        summary.outputs = [output] + ([output.with_suffix(".scp")] if suffix == ".ark" else [])
    summary.wall_seconds = time.perf_counter() - start
    return summary


# --------------------------------------------------------------------------------------------- CMVN, deltas
CMVN_MODES = ("speaker", "utterance", "global")


def compute_cmvn_data_dir(data_dir: str | os.PathLike, mode: str = "speaker",
                          out_dir: str | os.PathLike | None = None) -> Path:
    """CMVN stats of a data directory's feats.scp into cmvn.ark + cmvn.scp, keyed by speaker (Kaldi's
    cmvn.scp, via spk2utt), by utterance, or one entry `global`. Returns the scp path."""
    from asr.datadir import read_data_dir

    if mode not in CMVN_MODES:
        raise AsrError(f"unknown CMVN mode {mode!r}; use one of {', '.join(CMVN_MODES)}")
    data = read_data_dir(data_dir)
    if not data.feats_scp:
        raise AsrError(f"{Path(data_dir) / 'feats.scp'}: missing; run `asr features mfcc|fbank {data_dir}` first")
    if mode == "speaker" and not data.utt2spk:
        raise AsrError(f"{Path(data_dir) / 'utt2spk'}: missing; per-speaker CMVN needs it (or use --mode utterance)")
    out = Path(out_dir) if out_dir is not None else Path(data_dir)
    per_utt = {utt: compute_cmvn_stats(feats) for utt, feats in read_features(Path(data_dir) / "feats.scp")}
    if mode == "utterance":
        stats = per_utt
    elif mode == "global":
        stats = {"global": sum(per_utt.values())}
    else:
        missing = next((utt for utt in per_utt if utt not in data.utt2spk), None)
        if missing is not None:
            raise AsrError(f"{Path(data_dir) / 'utt2spk'}: no speaker for utterance '{missing}' of feats.scp; "
                           f"run asr data fix")
        stats = speaker_cmvn_stats(per_utt.items(), data.utt2spk)
    ark, scp = out / "cmvn.ark", out / "cmvn.scp"
    with ArkWriter(ark.absolute(), scp) as writer:
        for key in sorted(stats):
            writer.write(key, stats[key])
    logger.info("wrote %d CMVN stats (%s) to %s", len(stats), mode, scp)
    return scp


def apply_cmvn_to_archive(feats_path: str | os.PathLike, stats_path: str | os.PathLike, output: str | os.PathLike, *,
                  utt2spk: Mapping[str, str] | None = None, norm_vars: bool = False) -> int:
    """Normalize every matrix of `feats_path` with the stats keyed by its utterance, its speaker (via
    utt2spk) or `global`, into archive `output` (.ark + .scp, or .npz). Returns the number written."""
    stats = dict(read_features(stats_path))
    count = 0
    with ArkOrNpzWriter(output) as writer:
        for utt, feats in read_features(feats_path):
            key = utt if utt in stats else (utt2spk or {}).get(utt, "global" if "global" in stats else None)
            if key not in stats:
                raise AsrError(f"{stats_path}: no CMVN stats for utterance '{utt}' (nor its speaker, nor 'global'); "
                               f"recompute them on these features")
            writer.write(utt, apply_cmvn(feats, stats[key], norm_vars=norm_vars))
            count += 1
    return count


def add_deltas_to_archive(feats_path: str | os.PathLike, output: str | os.PathLike, *, order: int = 2,
                  window: int = 2) -> int:
    """Kaldi's add-deltas over every matrix of `feats_path` into archive `output`. Returns the count."""
    count = 0
    with ArkOrNpzWriter(output) as writer:
        for utt, feats in read_features(feats_path):
            if feats.ndim != 2:
                raise AsrError(f"{feats_path}: {utt!r} is a vector, not a (frames, dims) matrix; deltas need frames")
            writer.write(utt, add_deltas(feats, order=order, window=window))
            count += 1
    return count


def describe(path: str | os.PathLike) -> str:
    """Shape and value statistics of every matrix in a feature file, for `asr features info`."""
    matrices = list(read_features(path))
    if not matrices:
        return f"{path}: no matrices"
    dims = {m.shape[1] if m.ndim == 2 else 1 for _, m in matrices}
    frames = [m.shape[0] for _, m in matrices]
    values = np.concatenate([np.asarray(m, dtype=np.float64).reshape(len(m), -1) for _, m in matrices])
    finite = np.isfinite(values)
    lines = [f"{path}: {len(matrices)} matri{'x' if len(matrices) == 1 else 'ces'}, dim "
             f"{'/'.join(str(d) for d in sorted(dims))}, frames {sum(frames)} "
             f"(min {min(frames)}, median {int(np.median(frames))}, max {max(frames)})"]
    if len(matrices) == 1:
        lines[0] += f", shape {matrices[0][1].shape}"
    if not finite.all():
        lines.append(f"  WARNING: {int((~finite).sum())} values are NaN or infinite")
    if len(dims) == 1 and values[finite.all(axis=1)].size:
        good = values[finite.all(axis=1)]
        lines.append(f"  values: min {good.min():.4g}, max {good.max():.4g}, mean {good.mean():.4g}, "
                     f"std {good.std():.4g}")
        with np.printoptions(precision=3, suppress=True, linewidth=110, threshold=64):
            lines.append(f"  per-dim mean: {good.mean(axis=0)}")
            lines.append(f"  per-dim std:  {good.std(axis=0)}")
    return "\n".join(lines)
