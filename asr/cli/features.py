"""`asr features`: Kaldi-compatible MFCC / fbank / spectrogram extraction, CMVN, deltas, inspection."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

import click

from asr.cli.options import dataclass_options
from asr.errors import AsrError

logger = logging.getLogger(__name__)

# Help for the Kaldi options every extraction command takes as flags (Kaldi's own names and meanings).
OPTION_HELP = {
    "sample_frequency": "Sample rate the audio must have (Hz); other rates are an error unless --allow-resample. "
                        "Plain audio files: default is each file's own rate.",
    "frame_length": "Frame length in ms.",
    "frame_shift": "Frame shift in ms.",
    "dither": "Gaussian dither (int16 scale) added to every sample; 0 disables.",
    "seed": "Seed of the dither noise (reruns reproduce).",
    "preemphasis_coefficient": "Pre-emphasis: x[i] -= c * x[i-1].",
    "remove_dc_offset": "Subtract each frame's mean.",
    "window_type": "Window function: povey, hamming, hanning, rectangular or blackman.",
    "blackman_coeff": "Constant of the generalized Blackman window.",
    "round_to_power_of_two": "Zero-pad frames to a power of two for the FFT.",
    "snip_edges": "true: only frames that fit in the audio; false: reflect at the edges (about len/shift frames).",
    "normalized": "The audio is float in [-1, 1] (files read by asr are in the int16 range: leave false).",
    "energy_floor": "Floor on the log energy (as a linear energy); 0 disables.",
    "raw_energy": "Energy before pre-emphasis and windowing.",
    "use_log": "Log of the power spectrum (false: power).",
    "num_mel_bins": "Number of triangular mel bins.",
    "low_freq": "Lowest mel-bin frequency (Hz).",
    "high_freq": "Highest mel-bin frequency (Hz); <= 0 is an offset from Nyquist.",
    "htk_compat": "HTK order: energy / c0 last.",
    "use_energy": "Log energy as an extra first column (mfcc: in place of c0).",
    "use_log_fbank": "Log of the mel energies.",
    "use_power": "Power spectrum (false: magnitude).",
    "num_ceps": "Number of cepstra (including c0).",
    "cepstral_lifter": "Lifter coefficient Q (0 disables).",
}


def kaldi_options(kind: str) -> Callable[[Callable], Callable]:
    """`--name-with-dashes VALUE` for every Kaldi option of `kind`; booleans take true/false, as in Kaldi's
    `--snip-edges=false`."""
    from asr.features.config import option_class

    return dataclass_options(option_class(kind), helps=OPTION_HELP, bool_flags=False)


def _parse_set(values: tuple[str, ...]) -> dict[str, str]:
    options = {}
    for item in values:
        if "=" not in item:
            raise AsrError(f"--set {item!r}: expected NAME=VALUE, e.g. --set n_mfcc=20")
        name, value = item.split("=", 1)
        options[name.strip().replace("-", "_")] = value.strip()
    return options


def resolve_options(kind: str, flavor: str, config: Path | None, flags: dict[str, Any],
                    settings: tuple[str, ...]) -> tuple[dict[str, Any], bool]:
    """Merge conf file, --set and flags into option overrides; validate them by building the options once.
    Returns (overrides, whether the sample frequency was given explicitly)."""
    from asr.config import read_config_file
    from asr.features.config import make_options

    given = {k: v for k, v in flags.items() if v is not None}
    if flavor == "librosa":
        kaldi_only = [k for k in given if k != "sample_frequency"]
        if kaldi_only:
            raise AsrError(f"--{kaldi_only[0].replace('_', '-')} is a Kaldi option; with --flavor librosa set "
                           f"librosa's names with --set (e.g. --set n_mels=40) or --config")
    overrides = {**(read_config_file(config) if config else {}), **_parse_set(settings), **given}
    # fail early, naming the bad option and, when it comes from --config, the file
    make_options(kind, {**_parse_set(settings), **given}, path=config, flavor=flavor)
    return overrides, "sample_frequency" in overrides


def extraction_command(kind: str) -> click.Command:
    """`asr features KIND INPUTS...` for a data directory or plain audio files."""

    @click.command(kind, context_settings={"show_default": True},
                   help=f"{kind} features of a Kaldi data directory (one INPUTS folder with wav.scp: writes feats.ark, "
                        f"feats.scp, utt2num_frames and feats.conf into it, or into -o) or of audio files and globs "
                        f"(-o). Options are Kaldi's (compute-{kind}-feats), with Kaldi's defaults; note dither=1.0 "
                        f"(seeded by --seed): pass --dither=0 for noise-free features.",
                   short_help=f"Kaldi {kind} of a data directory or audio files.")
    @click.argument("inputs", nargs=-1, required=True)
    @click.option("-o", "--out", type=click.Path(path_type=Path),
                  help="Data directory: output folder [the data directory]. Audio files: out.npy|.csv|.htk (one "
                       "input), out.ark|.npz (one archive for all), or a folder (one --format file per input).")
    @click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Options from a Kaldi conf file (--num-ceps=13 lines, e.g. conf/mfcc.conf) or YAML.")
    @click.option("--flavor", type=click.Choice(["kaldi", "librosa"]), default="kaldi",
                  help="kaldi: Kaldi's features; librosa: librosa.feature.melspectrogram/mfcc defaults (mfcc, fbank).")
    @click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
                  help="Any option by name (librosa flavor: n_fft, hop_length, n_mels, n_mfcc, ...). Repeatable.")
    @click.option("--nj", type=click.IntRange(min=1), default=1, help="Parallel jobs (data directories).")
    @click.option("--cmd", default="local", show_default=True,
                  help="Where the --nj jobs run (Kaldi's --cmd): local, or dask:ADDRESS of a dask.distributed "
                       "scheduler (on Slurm/PBS/SGE/LSF through dask-jobqueue; pip install 'asr[cluster]').")
    @click.option("--skip-errors", is_flag=True, help="Data directories: log unreadable/short utterances and go on.")
    @click.option("--allow-pipes", is_flag=True, help="Run `cmd |` entries of wav.scp (they execute commands).")
    @click.option("--channel", type=click.IntRange(min=0), default=None,
                  help="Channel (0-based) of multichannel audio; without it multichannel audio is an error.")
    @click.option("--allow-resample", is_flag=True, help="Resample audio whose rate differs from --sample-frequency.")
    @click.option("--format", "file_format", type=click.Choice(["npy", "csv", "htk"]), default="npy",
                  help="File type when -o is a folder.")
    @click.option("--compress", is_flag=True,
                  help="Write Kaldi compressed matrices (copy-feats --compress=true): 8 bits a value, a quarter of "
                       "the disk; data directories and .ark outputs.")
    @click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
    @kaldi_options(kind)
    def command(inputs: tuple[str, ...], out: Path | None, config: Path | None, flavor: str,
                settings: tuple[str, ...], nj: int, cmd: str, skip_errors: bool, allow_pipes: bool,
                channel: int | None,
                allow_resample: bool, file_format: str, compress: bool, progress: bool, **flags: Any) -> None:
        from asr.features.config import make_options
        from asr.features.extract import AudioOptions, extract_data_dir, extract_files

        overrides, explicit_rate = resolve_options(kind, flavor, config, flags, settings)
        audio = AudioOptions(channel=channel, allow_resample=allow_resample, allow_pipes=allow_pipes)
        if len(inputs) == 1 and Path(inputs[0]).is_dir():
            opts = make_options(kind, overrides, flavor=flavor)
            summary = extract_data_dir(inputs[0], kind, opts, flavor=flavor, out_dir=out, nj=nj,
                                       skip_errors=skip_errors, audio=audio, compress=compress, progress=progress,
                                       cmd=cmd)
        else:
            if cmd != "local":
                raise AsrError(f"--cmd {cmd}: jobs on a scheduler take a data directory; give one (with wav.scp)")
            if out is None:
                raise AsrError("audio files need -o OUT (out.npy|.csv|.htk, out.ark|.npz, or a folder)")
            summary = extract_files(inputs, out, kind, overrides, flavor=flavor,
                                    sample_frequency=overrides["sample_frequency"] if explicit_rate else None,
                                    audio=audio, file_format=file_format, compress=compress, progress=progress)
        click.echo(f"asr features {kind}: {summary.line()}")

    return command


@click.group()
def features() -> None:
    """Kaldi-compatible features (compute-mfcc-feats, compute-fbank-feats, ...), CMVN, deltas."""


for _kind in ("mfcc", "fbank", "spectrogram"):
    features.add_command(extraction_command(_kind))


@features.group()
def cmvn() -> None:
    """Cepstral mean (and variance) normalization stats, Kaldi layout (compute-cmvn-stats / apply-cmvn)."""


@cmvn.command("compute")
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--mode", type=click.Choice(["speaker", "utterance", "global"]), default="speaker", show_default=True,
              help="Stats per speaker (Kaldi's cmvn.scp, via utt2spk), per utterance, or one global entry.")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder [DATA_DIR].")
def cmvn_compute(data_dir: Path, mode: str, out: Path | None) -> None:
    """Stats of DATA_DIR/feats.scp into cmvn.ark + cmvn.scp."""
    from asr.features.extract import compute_cmvn_data_dir

    click.echo(f"asr features cmvn: wrote {compute_cmvn_data_dir(data_dir, mode, out)}")


@cmvn.command("apply")
@click.argument("feats", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Normalized features: out.ark (+ out.scp) or out.npz.")
@click.option("--stats", type=click.Path(exists=True, path_type=Path),
              help="CMVN stats (cmvn.scp / .ark / .npz) [FEATS/cmvn.scp for a data directory].")
@click.option("--utt2spk", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Maps utterances to the speakers the stats are keyed by [FEATS/utt2spk for a data directory].")
@click.option("--norm-vars", is_flag=True, help="Also divide by the standard deviation.")
def cmvn_apply(feats: Path, out: Path, stats: Path | None, utt2spk: Path | None, norm_vars: bool) -> None:
    """Normalize FEATS (a data directory, .scp, .ark, ...) with per-utterance, per-speaker or global stats."""
    from asr.kaldi_io import read_kaldi_map
    from asr.features.extract import apply_cmvn_to_archive

    if feats.is_dir():
        stats = stats or feats / "cmvn.scp"
        if utt2spk is None and (feats / "utt2spk").is_file():
            utt2spk = feats / "utt2spk"
    if stats is None:
        raise AsrError(f"{feats}: give the CMVN stats with --stats (from `asr features cmvn compute`)")
    count = apply_cmvn_to_archive(feats, stats, out, utt2spk=read_kaldi_map(utt2spk) if utt2spk else None,
                          norm_vars=norm_vars)
    click.echo(f"asr features cmvn: normalized {count} matrices -> {out}")


@features.command("deltas")
@click.argument("feats", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="out.ark (+ out.scp) or out.npz.")
@click.option("--order", type=click.IntRange(min=0), default=2, show_default=True, help="Highest derivative.")
@click.option("--window", type=click.IntRange(min=1), default=2, show_default=True,
              help="Regression half-window (frames each side).")
def deltas(feats: Path, out: Path, order: int, window: int) -> None:
    """Append deltas (Kaldi's add-deltas) to every matrix of FEATS (a data directory, .scp, .ark, ...)."""
    from asr.features.extract import add_deltas_to_archive

    count = add_deltas_to_archive(feats, out, order=order, window=window)
    click.echo(f"asr features deltas: {count} matrices -> {out}")


@features.command("info")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def info(paths: tuple[Path, ...]) -> None:
    """Shape and statistics of feature files (.scp .ark .npz .npy .htk .csv, or a data directory)."""
    from asr.features.extract import describe

    for path in paths:
        click.echo(describe(path))

