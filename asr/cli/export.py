"""`asr export`: a trained model directory as ONNX (optionally int8) or TorchScript, self-describing like the
original; option parsing only, the work is in asr.export."""

from __future__ import annotations

import click

EXPORT_FORMATS = ("onnx", "torchscript")  # asr.export.EXPORT_FORMATS, listed here so --help imports no torch


@click.command()
@click.option("--model", "model_dir", required=True, type=click.Path(file_okay=False),
              help="Trained model directory (the --out of asr train, with model.pt).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Exported directory to write (replaced once complete).")
@click.option("--format", "export_format", type=click.Choice(EXPORT_FORMATS), default="onnx", show_default=True,
              help="onnx runs through onnxruntime without torch (pip install 'asr[onnx]').")
@click.option("--quantize", type=click.Choice(["none", "int8"]), default="none", show_default=True,
              help="int8: dynamic quantization of the linear and recurrent weights (onnx only).")
def export(model_dir: str, out_dir: str, export_format: str, quantize: str) -> None:
    """Export a model for deployment: `asr transcribe --model OUT` and `asr decode --model OUT` take it as they
    take the trained directory.

    \b
    asr export --model exp/crnn --out exp/crnn_onnx
    asr transcribe --model exp/crnn_onnx --lm data/local/lm/lm.arpa a.wav
    """
    from asr.export import export_model_dir

    out = export_model_dir(model_dir, out_dir, export_format=export_format, quantize=quantize)
    click.echo(f"exported {model_dir} ({export_format}, quantize {quantize}) into {out}")
