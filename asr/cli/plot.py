"""`asr plot`: figures. spectrogram | fbank | mfcc of one utterance; curves of a training run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from asr.cli.features import kaldi_options, resolve_options


@click.group()
def plot() -> None:
    """Figures (matplotlib, written to files; no display needed)."""


def feature_plot_command(kind: str) -> click.Command:
    @click.command(kind, help=f"Plot the {kind} of one AUDIO file (at its own sample rate unless "
                              f"--sample-frequency); options as in `asr features {kind}`.")
    @click.argument("audio", type=click.Path(path_type=Path))
    @click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
                  help="Image file (.png, .pdf, .svg).")
    @click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Feature options from a Kaldi conf file or YAML.")
    @click.option("--flavor", type=click.Choice(["kaldi", "librosa"]), default="kaldi", show_default=True)
    @click.option("--set", "settings", multiple=True, metavar="NAME=VALUE", help="Any feature option by name.")
    @click.option("--channel", type=click.IntRange(min=0), default=None, help="Channel of multichannel audio.")
    @click.option("--allow-resample", is_flag=True, help="Resample audio whose rate differs from --sample-frequency.")
    @click.option("--title", default=None, help="Figure title [the file name and feature settings].")
    @kaldi_options(kind)
    def command(audio: Path, out: Path, config: Path | None, flavor: str, settings: tuple[str, ...],
                channel: int | None, allow_resample: bool, title: str | None, **flags: Any) -> None:
        from asr.audio import load_audio
        from asr.features.plot import describe_plot, plot_features
        from asr.features.extract import source_features, frame_shift_seconds, options_for_file

        overrides, explicit_rate = resolve_options(kind, flavor, config, flags, settings)
        wave, rate = load_audio(audio, sample_frequency=int(overrides["sample_frequency"]) if explicit_rate else None,
                                channel=channel, allow_resample=allow_resample)
        opts = options_for_file(kind, overrides, rate, flavor, audio)
        feats = source_features(kind, wave, rate, opts, flavor, str(audio))
        plot_features(feats, out, kind=kind, frame_shift_s=frame_shift_seconds(opts), sample_frequency=rate,
                      title=title or f"{audio.name}: {describe_plot(kind, opts)}")
        click.echo(f"asr plot {kind}: {feats.shape[0]} frames x {feats.shape[1]} -> {out}")

    return command


for _kind in ("spectrogram", "fbank", "mfcc"):
    plot.add_command(feature_plot_command(_kind))


@plot.command("curves")
@click.argument("model_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Image file [MODEL_DIR/curves.png].")
def curves(model_dir: Path, out: Path | None) -> None:
    """Plot the training curves (losses, validation CER/WER) of a model directory from its log.jsonl."""
    from asr.plot import plot_curves

    out = out or model_dir / "curves.png"
    plot_curves(model_dir, out)
    click.echo(f"asr plot curves: {model_dir / 'log.jsonl'} -> {out}")


@plot.command("reliability")
@click.argument("ref", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("ctm", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Image file.")
def reliability(ref: Path, ctm: Path, out: Path) -> None:
    """Plot how the word confidences of CTM (sixth column, as asr decode writes it) predict the words REF (a Kaldi
    text file) confirms: fraction correct against confidence.

    \b
    asr plot reliability data/dev/text exp/crnn/decode_dev/ctm -o reliability.png"""
    from asr.decoding.confidence import ctm_calibration
    from asr.kaldi_io import read_kaldi_map
    from asr.plot import plot_reliability

    _, calibration = ctm_calibration(read_kaldi_map(ref, is_text=True), ctm)
    plot_reliability(calibration, out)
    click.echo(f"asr plot reliability: {calibration.words} words of {ctm}, NCE {calibration.nce:.4f} -> {out}")
