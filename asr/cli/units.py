"""`asr units`: train output units into a lang directory, encode and decode with them, normalize transcripts."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from asr.errors import AsrError

logger = logging.getLogger(__name__)


@click.group()
def units() -> None:
    """Output units (characters, CMU-dictionary phones, sentencepiece subwords) in a lang directory."""


@units.command("train")
@click.option("--type", "kind", type=click.Choice(["char", "phone", "bpe"]), required=True,
              help="char: letters with '|' between words; phone: CMU dictionary ARPAbet; bpe: sentencepiece.")
@click.option("--vocab-size", type=int, default=None, help="bpe: number of units incl. <blk> and <unk> [500].")
@click.option("--model-type", type=click.Choice(["unigram", "bpe"]), default=None, help="bpe: algorithm [unigram].")
@click.option("--no-stress", is_flag=True, default=None, help="phone: drop stress marks (39 phones instead of 69).")
@click.option("--oov", type=click.Choice(["spell", "error"]), default=None,
              help="phone: words outside the CMU dictionary are spelled letter by letter, or stop with an error "
                   "[spell]; either way they are listed in lang/oov.txt.")
@click.option("--words", "words_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="phone: more words for lexicon.txt (first field per line), e.g. an LM's vocabulary, so that "
                   "the decoder can make them; the units do not change.")
@click.argument("text", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("lang_dir", type=click.Path(file_okay=False, path_type=Path))
def train(kind: str, vocab_size: int | None, model_type: str | None, no_stress: bool | None, oov: str | None,
          words_path: Path | None, text: Path, lang_dir: Path) -> None:
    """Train units on the transcripts in TEXT (a Kaldi `text` file: utterance id, then words) into LANG_DIR."""
    from asr.kaldi_io import read_kaldi_map
    from asr.lm.ngram import read_word_list
    from asr.units import train_tokenizer

    given = {"vocab_size": vocab_size, "model_type": model_type, "oov": oov,
             "stress": False if no_stress else None, "words": words_path}
    wrong = {"char": ["vocab_size", "model_type", "oov", "stress", "words"], "phone": ["vocab_size", "model_type"],
             "bpe": ["oov", "stress", "words"]}[kind]
    misplaced = [name for name in wrong if given[name] is not None]
    if misplaced:
        flags = ", ".join("--no-stress" if n == "stress" else "--" + n.replace("_", "-") for n in misplaced)
        raise AsrError(f"{flags} does not apply to --type {kind}; drop it")
    texts = list(read_kaldi_map(text, is_text=True).values())
    if words_path is not None:
        texts += read_word_list(words_path)  # each word once, as a one-word text
    options = {k: v for k, v in given.items() if v is not None and k != "words"}
    tokenizer = train_tokenizer(kind, texts, options)
    tokenizer.save(lang_dir)


def _write_output(output: Path | None, lines: list[str]) -> None:
    if output is None:
        click.echo("".join(lines), nl=False)
        return
    from asr.fileio import write_text_atomic

    write_text_atomic(output, "".join(lines))
    logger.info("wrote %d lines to %s", len(lines), output)


@units.command("encode")
@click.argument("lang_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("text", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--symbols", is_flag=True, help="Print the units themselves instead of their ids.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here (atomically) instead of stdout.")
def encode(lang_dir: Path, text: Path, symbols: bool, output: Path | None) -> None:
    """Encode TEXT (a Kaldi `text` file: `utt words...`) with LANG_DIR's units, as `utt id id ...` lines."""
    from asr.kaldi_io import read_kaldi_map
    from asr.units import load_tokenizer

    tokenizer = load_tokenizer(lang_dir)
    lines = []
    for utt, words in read_kaldi_map(text, is_text=True).items():
        try:
            ids = tokenizer.encode(words)
        except AsrError as e:
            raise AsrError(f"{text}: utterance {utt}: {e}") from None
        units_ = [tokenizer.tokens[i] for i in ids] if symbols else [str(i) for i in ids]
        lines.append(" ".join([utt, *units_]) + "\n")
    _write_output(output, lines)


@units.command("decode")
@click.argument("lang_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("ids", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here (atomically) instead of stdout.")
def decode(lang_dir: Path, ids: Path, output: Path | None) -> None:
    """Decode IDS (`utt id id ...` lines, as `encode` writes) back to `utt words` with LANG_DIR's units."""
    from asr.kaldi_io import read_kaldi_map
    from asr.units import load_tokenizer

    tokenizer = load_tokenizer(lang_dir)
    lines = []
    for utt, rest in read_kaldi_map(ids).items():
        fields = rest.split()
        if not all(f.isdigit() for f in fields):
            raise AsrError(f"{ids}: utterance {utt}: expected integer unit ids after the id, got {rest!r}")
        try:
            words = tokenizer.decode(int(f) for f in fields)
        except AsrError as e:
            raise AsrError(f"{ids}: utterance {utt}: {e}") from None
        lines.append(f"{utt} {words}\n" if words else f"{utt}\n")
    _write_output(output, lines)


@units.command("normalize")
@click.argument("text", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--case", type=click.Choice(["keep", "upper", "lower"]), default=None, help="Change case [keep].")
@click.option("--remove-punctuation", is_flag=True, default=None,
              help="Drop punctuation (apostrophes inside words stay).")
@click.option("--numbers-to-words", is_flag=True, default=None, help='Spell numbers: "16" -> SIXTEEN.')
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the changed lines here (utterance, before, after; tab-separated).")
def normalize(text: Path, output: Path, case: str | None, remove_punctuation: bool | None,
              numbers_to_words: bool | None, report: Path | None) -> None:
    """Normalize a Kaldi `text` file into OUTPUT (same ids); logs how many lines changed."""
    from asr.config import build_config
    from asr.kaldi_io import read_kaldi_map, write_kaldi_map
    from asr.units.normalize import NormalizeOptions, normalize_transcripts, write_normalization_report

    options = build_config(NormalizeOptions, overrides={"case": case, "remove_punctuation": remove_punctuation,
                                                       "numbers_to_words": numbers_to_words})
    if not options.active:
        raise AsrError("no normalization chosen; pass --case, --remove-punctuation and/or --numbers-to-words")
    normalized, changed = normalize_transcripts(read_kaldi_map(text, is_text=True), options)
    write_kaldi_map(output, normalized)
    logger.info("wrote %d transcripts (%d changed) to %s", len(normalized), len(changed), output)
    if report is not None:
        write_normalization_report(report, changed)
