"""`asr decode`: option parsing only; the work is in asr.inference.decode.

Every DecodeOptions field (the search) and the InferenceConfig fields that apply to a data directory are also
flags (`beam_size` -> `--beam-size`), overriding the --config file (conf/decode.yaml).
"""

from __future__ import annotations

from typing import Callable

import click

from asr.cli.options import dataclass_options
from asr.inference.config import InferenceConfig
from asr.decoding import DecodeOptions

SEARCH_HELP = {
    "beam_size": "Prefixes kept per frame; 1 means greedy.",
    "nbest": "Hypotheses kept per utterance (written to nbest when > 1).",
    "lm_weight": "Weight of the LM's natural-log probability.",
    "word_bonus": "Added per word when an LM is used.",
    "unk_penalty": "Added per word outside the LM vocabulary.",
    "lexicon_constraint": "Char/bpe units: allow only words of the LM (or lexicon).",
    "hotword_weight": "Bonus per matched hotword word (with --hotwords).",
}
RUN_HELP = {"greedy": "Best unit per frame, no LM.", "nj": "Search processes."}
DECODE_RUN_FIELDS = ("greedy", "device", "num_threads", "max_batch_frames", "max_batch_size", "nj", "feats_source",
                     "allow_resample")


def search_inputs(command: Callable) -> Callable:
    """The options `decode` and `transcribe` share: the model and what the search uses besides it."""
    for decorate in reversed([
        click.option("--model", "model_dir", required=True, type=click.Path(file_okay=False),
                     help="Model directory written by `asr train` (exp/NAME)."),
        click.option("--lm", "lm_path", type=click.Path(dir_okay=False), default=None,
                     help="Word N-gram LM (ARPA, .gz too) for shallow fusion, e.g. data/local/lm/lm.arpa."),
        click.option("--lang", "lang_dir", type=click.Path(file_okay=False), default=None,
                     help="Units dir to decode with [default: the model's lang/]; same units, e.g. a larger "
                          "lexicon."),
        click.option("--hotwords", "hotwords_path", type=click.Path(dir_okay=False), default=None,
                     help="File of words/phrases to boost, one per line."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                     help="YAML (or Kaldi-style) file of decoding options, e.g. conf/decode.yaml; flags override "
                          "it."),
    ]):
        command = decorate(command)
    return command


@click.command()
@search_inputs
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output directory [default: MODEL/decode_<data dir name>].")
@click.option("--allow-pipes", is_flag=True, help="Run `cmd |` entries of wav.scp (only for data you trust).")
@click.option("--skip-errors", is_flag=True,
              help="Log and list (in OUT/failed) utterances whose audio or features cannot be read, and go on; "
                   "they are scored as all deletions.")
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
@click.option("--cmd", default="local", show_default=True,
              help="Where decoding runs (Kaldi's --cmd): local, or dask:ADDRESS of a dask.distributed scheduler, "
                   "which decodes --nj per-speaker splits of DATA_DIR, each task loading the model (pip install "
                   "'asr[cluster]').")
@dataclass_options(DecodeOptions, skip=("blank",), helps=SEARCH_HELP)
@dataclass_options(InferenceConfig, only=DECODE_RUN_FIELDS, helps=RUN_HELP)
@click.argument("data_dir", type=click.Path(file_okay=False))
def decode(model_dir: str, lm_path: str | None, lang_dir: str | None, hotwords_path: str | None,
           config_path: str | None, out_dir: str | None, allow_pipes: bool, skip_errors: bool, progress: bool,
           cmd: str, data_dir: str, **overrides) -> None:
    """Decode DATA_DIR with a model: hypotheses (text), word times (ctm), n-best, and the WER report when
    DATA_DIR has `text`. Prints compute-wer's line.

    \b
    asr decode --model exp/crnn --lm data/local/lm/lm.arpa --beam-size 32 --nj 2 data/test
    """
    from asr.inference.config import load_decode_config
    from asr.inference.decode import decode_data_dir
    from asr.inference.search import read_hotwords

    options, config = load_decode_config(config_path, overrides)
    result = decode_data_dir(model_dir, data_dir, out_dir, lm=lm_path, lang_dir=lang_dir,
                             hotwords=read_hotwords(hotwords_path) if hotwords_path else None, options=options,
                             config=config, allow_pipes=allow_pipes, skip_errors=skip_errors, progress=progress,
                             cmd=cmd)
    click.echo(result.summary())
