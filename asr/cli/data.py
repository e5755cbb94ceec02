"""`asr data ...`: Kaldi data-directory tools (validate, fix, split, subset, combine, copy, utt2dur, perturb-speed,
perturb-volume, resample, shard, segment)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import click

from asr import datadir
from asr.cli.options import dataclass_options
from asr.inference.vad import VadOptions
from asr.shards import UTTS_PER_SHARD

_DIR = click.Path(file_okay=False, path_type=Path)
_EXISTING_DIR = click.Path(exists=True, file_okay=False, path_type=Path)
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _job_options(command: Callable) -> Callable:
    """--nj and --cmd as `asr features` has them: where the jobs that write the new audio run."""
    command = click.option(
        "--cmd", default="local", show_default=True,
        help="Where the --nj jobs run (Kaldi's --cmd): local, or dask:ADDRESS of a dask.distributed scheduler (on "
             "Slurm/PBS/SGE/LSF through dask-jobqueue; pip install 'asr[cluster]'); jobs write into DST's folder, so "
             "a cluster needs a shared file system.")(command)
    return click.option("--nj", type=click.IntRange(min=1), default=1, show_default=True,
                        help="Parallel jobs (contiguous runs of recordings, or of shards).")(command)


@click.group()
def data() -> None:
    """Kaldi data directories: wav.scp, text, utt2spk, spk2utt, segments, utt2dur, feats.scp, ..."""


@data.command()
@click.argument("data_dir", type=_DIR)
@click.option("--no-check-audio", is_flag=True, help="Do not check that wav.scp paths exist.")
def validate(data_dir: Path, no_check_audio: bool) -> None:
    """Report what Kaldi's validate_data_dir.sh objects to, one `file:line: problem` per line; exit 1 if any."""
    problems = datadir.validate_data_dir(data_dir, check_audio_paths=not no_check_audio)
    if problems:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{data_dir}: {len(problems)} problem(s); `asr data fix {data_dir}` repairs most", err=True)
        sys.exit(1)
    data = datadir.read_data_dir(data_dir)
    click.echo(f"{data_dir}: valid, {len(data.utterances)} utterances, {len(data.speakers)} speakers")


@data.command()
@click.argument("data_dir", type=_EXISTING_DIR)
def fix(data_dir: Path) -> None:
    """Repair in place (originals kept in DATA_DIR/.backup/): sort, dedupe, drop inconsistent utterances."""
    click.echo(str(datadir.fix_data_dir(data_dir)))


@data.command()
@click.argument("data_dir", type=_EXISTING_DIR)
@click.argument("num_parts", type=click.IntRange(min=1))
@click.option("--per-spk", is_flag=True, help="Keep each speaker in one part (for per-speaker CMVN).")
def split(data_dir: Path, num_parts: int, per_spk: bool) -> None:
    """Split into DATA_DIR/splitN/1..N (as Kaldi's split_data.sh)."""
    parts = datadir.split_data_dir(data_dir, num_parts, per_spk=per_spk)
    click.echo(f"{data_dir}: split into {len(parts)} parts under {parts[0].parent}")


@data.command()
@click.argument("data_dir", type=_EXISTING_DIR)
@click.argument("out_dir", type=_DIR)
@click.option("--utt-list", type=_FILE, help="Keep the utterances listed (first field of each line).")
@click.option("--first", type=click.IntRange(min=1), help="Keep the first N utterances (C order).")
@click.option("--random", "random_n", type=click.IntRange(min=1), help="Keep N utterances chosen at random.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --random.")
@click.option("--spk-list", type=_FILE, help="Keep the utterances of the speakers listed.")
def subset(data_dir: Path, out_dir: Path, utt_list: Path | None, first: int | None, random_n: int | None,
           seed: int, spk_list: Path | None) -> None:
    """Write a subset of DATA_DIR into OUT_DIR (one of --utt-list, --first, --random, --spk-list)."""
    result = datadir.subset_data_dir(data_dir, out_dir, utt_list=utt_list, first=first, random_n=random_n,
                                     seed=seed, spk_list=spk_list)
    click.echo(f"{out_dir}: {len(result.utterances)} utterances, {len(result.speakers)} speakers")


@data.command()
@click.argument("out_dir", type=_DIR)
@click.argument("data_dirs", nargs=-1, required=True, type=_EXISTING_DIR)
def combine(out_dir: Path, data_dirs: tuple[Path, ...]) -> None:
    """Combine DATA_DIRS into OUT_DIR (utterance ids must be unique)."""
    result = datadir.combine_data_dirs(out_dir, list(data_dirs))
    click.echo(f"{out_dir}: {len(result.utterances)} utterances, {len(result.speakers)} speakers")


@data.command()
@click.argument("src", type=_EXISTING_DIR)
@click.argument("dst", type=_DIR)
@click.option("--utt-prefix", default="", help="Prefix added to utterance ids.")
@click.option("--utt-suffix", default="", help="Suffix added to utterance ids.")
@click.option("--spk-prefix", default="", help="Prefix added to speaker ids.")
@click.option("--spk-suffix", default="", help="Suffix added to speaker ids.")
def copy(src: Path, dst: Path, utt_prefix: str, utt_suffix: str, spk_prefix: str, spk_suffix: str) -> None:
    """Copy SRC to DST, optionally renaming utterances and speakers."""
    result = datadir.copy_data_dir(src, dst, utt_prefix=utt_prefix, utt_suffix=utt_suffix, spk_prefix=spk_prefix,
                                   spk_suffix=spk_suffix)
    click.echo(f"{dst}: {len(result.utterances)} utterances, {len(result.speakers)} speakers")


@data.command()
@click.argument("data_dir", type=_EXISTING_DIR)
@click.option("--allow-pipes", is_flag=True, help="Run `cmd |` entries of wav.scp (only for trusted data).")
def utt2dur(data_dir: Path, allow_pipes: bool) -> None:
    """Write DATA_DIR/utt2dur from the audio headers."""
    durations = datadir.write_utt2dur(data_dir, allow_pipes=allow_pipes)
    click.echo(f"{data_dir / 'utt2dur'}: {len(durations)} utterances, {sum(durations.values()) / 3600:.2f} h")


def _factors(ctx: click.Context, param: click.Parameter, value: str) -> tuple[float, ...]:
    try:
        return tuple(float(f) for f in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give comma-separated numbers, e.g. 0.9,1.0,1.1") from None


@data.command("perturb-speed")
@click.argument("src", type=_EXISTING_DIR)
@click.argument("dst", type=_DIR)
@click.option("--factors", default="0.9,1.0,1.1", show_default=True, callback=_factors,
              help="Speed factors; each but 1.0 adds a copy with ids prefixed sp<factor>- (Kaldi's 3-way default).")
@_job_options
@click.option("--allow-pipes", is_flag=True, help="Run `cmd |` entries of wav.scp (only for trusted data).")
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
def perturb_speed(src: Path, dst: Path, factors: tuple[float, ...], nj: int, cmd: str, allow_pipes: bool,
                  progress: bool) -> None:
    """Speed-perturbed copies of SRC into DST, audio written to DST/wav/ (Kaldi's perturb_data_dir_speed.sh)."""
    from asr.perturb import perturb_data_dir_speed

    result = perturb_data_dir_speed(src, dst, factors, allow_pipes=allow_pipes, progress=progress, nj=nj, cmd=cmd)
    click.echo(f"{dst}: {len(result.utterances)} utterances, {len(result.speakers)} speakers")


@data.command("perturb-volume")
@click.argument("src", type=_EXISTING_DIR)
@click.argument("dst", type=_DIR)
@click.option("--scale-low", type=float, default=0.125, show_default=True, help="Smallest volume factor.")
@click.option("--scale-high", type=float, default=2.0, show_default=True, help="Largest volume factor.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the per-recording factors.")
@_job_options
@click.option("--allow-pipes", is_flag=True, help="Run `cmd |` entries of wav.scp (only for trusted data).")
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
def perturb_volume(src: Path, dst: Path, scale_low: float, scale_high: float, seed: int, nj: int, cmd: str,
                   allow_pipes: bool, progress: bool) -> None:
    """SRC with every recording's volume scaled at random into DST/wav/ (Kaldi's perturb_data_dir_volume.sh)."""
    from asr.perturb import perturb_data_dir_volume

    result = perturb_data_dir_volume(src, dst, scale_low=scale_low, scale_high=scale_high, seed=seed,
                                     allow_pipes=allow_pipes, progress=progress, nj=nj, cmd=cmd)
    click.echo(f"{dst}: {len(result.utterances)} utterances, {len(result.speakers)} speakers")


@data.command()
@click.argument("src", type=_EXISTING_DIR)
@click.argument("dst", type=_DIR)
@click.option("--sample-frequency", type=click.IntRange(min=1000), required=True, help="The new sample rate (Hz).")
@_job_options
@click.option("--allow-pipes", is_flag=True, help="Run `cmd |` entries of wav.scp (only for trusted data).")
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
def resample(src: Path, dst: Path, sample_frequency: int, nj: int, cmd: str, allow_pipes: bool,
             progress: bool) -> None:
    """SRC with every recording resampled into DST/wav/ (Kaldi's utils/data/resample_data_dir.sh)."""
    from asr.perturb import resample_data_dir

    result = resample_data_dir(src, dst, sample_frequency, allow_pipes=allow_pipes, progress=progress, nj=nj,
                               cmd=cmd)
    click.echo(f"{dst}: {len(result.utterances)} utterances, resampled to {sample_frequency} Hz")


@data.command()
@click.argument("src", type=_EXISTING_DIR)
@click.argument("dst", type=_DIR)
@click.option("--utts-per-shard", type=click.IntRange(min=1), default=UTTS_PER_SHARD, show_default=True,
              help="Utterances per tar shard (training deals shards out to processes: at least one per process).")
@click.option("--compress", is_flag=True,
              help="Kaldi compressed matrices (copy-feats --compress=true): 8 bits a value, a quarter of the disk; "
                   "without it, float32 whatever SRC holds.")
@_job_options
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
def shard(src: Path, dst: Path, utts_per_shard: int, compress: bool, nj: int, cmd: str, progress: bool) -> None:
    """SRC's features (feats.scp) as WebDataset tar shards in DST/shards/, and DST a data directory whose feats.scp
    points into them: for corpora larger than memory, which `asr train --train DST` reads shard by shard, each
    process its own shards."""
    from asr.shards import shard_data_dir

    result = shard_data_dir(src, dst, utts_per_shard=utts_per_shard, compress=compress, nj=nj, cmd=cmd,
                            progress=progress)
    shards = -(-len(result.feats_scp) // utts_per_shard)
    click.echo(f"{dst}: {len(result.feats_scp)} utterances in {shards} shards under {dst / 'shards'}")


@data.command()
@click.argument("src", type=_EXISTING_DIR)
@click.argument("dst", type=_DIR)
@dataclass_options(VadOptions)
@click.option("--allow-pipes", is_flag=True, help="Run `cmd |` entries of wav.scp (only for trusted data).")
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
def segment(src: Path, dst: Path, allow_pipes: bool, progress: bool, **vad_flags) -> None:
    """The speech segments of SRC's recordings into DST (wav.scp, segments, utt2spk): the cuts `asr transcribe`
    makes in long audio, as a data directory to decode or to extract features from."""
    from asr.config import build_config
    from asr.inference.vad import segment_data_dir

    options = build_config(VadOptions, None, {k: v for k, v in vad_flags.items() if v is not None})
    result = segment_data_dir(src, dst, options, allow_pipes=allow_pipes, progress=progress)
    seconds = sum(s.end - s.start for s in result.segments.values())
    click.echo(f"{dst}: {len(result.segments)} segments of {len(result.wav_scp)} recordings, {seconds / 3600:.2f} h "
               f"of speech")
