"""`asr score REF HYP`: WER (or CER) of Kaldi-format hypotheses, with sclite-style reports on request."""

from __future__ import annotations

import logging
from pathlib import Path

import click

logger = logging.getLogger(__name__)


@click.command()
@click.option("--cer", is_flag=True, help="Character error rate instead of word error rate.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), default=None,
              help="Write the detailed reports here: wer|cer, per_utt (alignments), per_spk, confusions.")
@click.option("--utt2spk", "utt2spk_path", type=click.Path(dir_okay=False), default=None,
              help="Speakers for the per-speaker table [default: utt2spk beside REF if present, else the "
                   "utterance-id prefix before '-' or '_'].")
@click.option("--confidence", is_flag=True,
              help="HYP is a ctm whose sixth column is each word's confidence (asr decode's ctm): also report how "
                   "the confidences predict correct words (NCE, reliability table; sclite's NCE).")
@click.argument("ref", type=click.Path(dir_okay=False))
@click.argument("hyp", type=click.Path(dir_okay=False))
def score(cer: bool, report_dir: str | None, utt2spk_path: str | None, confidence: bool, ref: str, hyp: str) -> None:
    """Score HYP against REF (both Kaldi `text` files: utterance id, then words); prints compute-wer's lines.

    Reference utterances missing from HYP count as deletions and are reported.

    \b
    asr score data/test/text exp/crnn/decode_test/text
    asr score --confidence data/test/text exp/crnn/decode_test/ctm"""
    from asr.kaldi_io import read_kaldi_map
    from asr.scoring import score_texts

    if utt2spk_path is None and (Path(ref).parent / "utt2spk").is_file():
        utt2spk_path = str(Path(ref).parent / "utt2spk")
    utt2spk = read_kaldi_map(utt2spk_path) if utt2spk_path else None
    refs = read_kaldi_map(ref, is_text=True)
    if confidence:
        from asr.decoding.confidence import ctm_calibration

        if cer:
            raise click.UsageError("--confidence scores words; leave out --cer")
        report, calibration = ctm_calibration(refs, hyp, utt2spk)
    else:
        report = score_texts(refs, read_kaldi_map(hyp, is_text=True), cer=cer, utt2spk=utt2spk)
    click.echo("\n".join(report.summary_lines()))
    if confidence:
        click.echo(calibration.report(), nl=False)
    if report_dir:
        report.write(report_dir)
        if confidence:
            from asr.fileio import write_text_atomic

            write_text_atomic(Path(report_dir) / "confidence", calibration.report())
