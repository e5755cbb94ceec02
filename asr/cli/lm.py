"""`asr lm`: train an N-gram language model from transcripts (ARPA out) and measure perplexity."""

from __future__ import annotations

import logging

import click

from asr.errors import AsrError

logger = logging.getLogger(__name__)


def _parse_cutoffs(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        return [int(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise AsrError(f"--cutoffs {text!r}: expected integers per order, e.g. 0,1,1") from None


@click.group()
def lm() -> None:
    """Word N-gram language models (ARPA format)."""


@lm.command()
@click.option("--order", default=3, show_default=True, type=click.IntRange(min=1), help="N-gram order.")
@click.option("--smoothing", default="laplace", show_default=True,
              type=click.Choice(["laplace", "add_k", "witten_bell", "kneser_ney"]),
              help="laplace = add-one (nltk's Laplace); add_k; witten_bell = interpolated Witten-Bell (suits "
                   "--counts lists of frequent N-grams only); kneser_ney = interpolated modified Kneser-Ney.")
@click.option("--k", "k", default=1.0, show_default=True, type=float, help="The constant of add_k smoothing.")
@click.option("--cutoffs", default=None,
              help="Per-order count thresholds from unigrams, e.g. 0,1,1: drop N-grams seen at most that often "
                   "(the last value repeats).")
@click.option("--vocab", "vocab_path", type=click.Path(dir_okay=False), default=None,
              help="Vocabulary file (first field per line); other words become <unk>.")
@click.option("--max-vocab", type=click.IntRange(min=1), default=None,
              help="Keep only the N most frequent training words.")
@click.option("--min-count", type=click.IntRange(min=1), default=1, show_default=True,
              help="Keep only training words seen at least this often.")
@click.option("--no-ids", is_flag=True, help="TEXT is plain text (one sentence a line), not a Kaldi text file.")
@click.option("--counts", is_flag=True,
              help="TEXT is an N-gram count file (`w1 .. wN count` per line, SRILM's ngram-count -read), e.g. "
                   "published English word and bigram counts.")
@click.argument("text", type=click.Path(dir_okay=False))
@click.argument("arpa", type=click.Path(dir_okay=False))
def train(order: int, smoothing: str, k: float, cutoffs: str | None, vocab_path: str | None,
          max_vocab: int | None, min_count: int, no_ids: bool, counts: bool, text: str, arpa: str) -> None:
    """Train an N-gram LM on TEXT (Kaldi `text`: utterance id, then words) and write it to ARPA."""
    from asr.lm import estimate_ngram, read_counts, train_ngram, write_arpa
    from asr.lm.ngram import read_sentences, read_word_list

    if counts and no_ids:
        raise AsrError("--counts and --no-ids both say what TEXT is; give one")
    cutoff_list = _parse_cutoffs(cutoffs)
    vocab = read_word_list(vocab_path) if vocab_path else None
    options = dict(k=k, cutoffs=cutoff_list, vocab=vocab, max_vocab=max_vocab, min_count=min_count)
    if counts:
        model = estimate_ngram(read_counts(text, order), order, smoothing, **options)
        logger.info("estimated a %s model from the counts in %s: %s", smoothing, text, model)
    else:
        model = train_ngram(read_sentences(text, has_ids=not no_ids), order, smoothing, **options)
    write_arpa(model, arpa)


@lm.command()
@click.option("--lm", "lm_paths", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="An ARPA model to mix; give two or more.")
@click.option("--weights", default=None,
              help="One weight per --lm, summing to 1, e.g. 0.6,0.4 (SRILM's -lambda) [default: from --tune-text, "
                   "else equal].")
@click.option("--tune-text", type=click.Path(dir_okay=False), default=None,
              help="Held-out Kaldi text (e.g. data/dev/text) to choose the weights on: the mixture most likely on "
                   "it (SRILM's compute-best-mix).")
@click.argument("arpa", type=click.Path(dir_okay=False))
def mix(lm_paths: tuple[str, ...], weights: str | None, tune_text: str | None, arpa: str) -> None:
    """Interpolate the --lm models linearly into one back-off model written to ARPA."""
    from asr.lm import read_arpa, write_arpa
    from asr.lm.mix import best_mix_weights, mix_ngram
    from asr.lm.ngram import read_sentences

    if weights and tune_text:
        raise AsrError("--weights and --tune-text both set the weights; give one")
    models = [read_arpa(path) for path in lm_paths]
    if weights:
        try:
            lambdas = [float(v) for v in weights.replace(",", " ").split()]
        except ValueError:
            raise AsrError(f"--weights {weights!r}: expected numbers, e.g. 0.6,0.4") from None
    elif tune_text:
        lambdas = best_mix_weights(models, read_sentences(tune_text))
    else:
        lambdas = [1.0 / len(models)] * len(models)
    click.echo(f"weights: {' '.join(f'{lam:.4f}' for lam in lambdas)}")
    write_arpa(mix_ngram(models, lambdas), arpa)


@lm.command()
@click.option("--lm", "lm_path", required=True, type=click.Path(dir_okay=False), help="ARPA model.")
@click.option("--no-ids", is_flag=True, help="TEXT is plain text (one sentence a line), not a Kaldi text file.")
@click.argument("text", type=click.Path(dir_okay=False))
def ppl(lm_path: str, no_ids: bool, text: str) -> None:
    """Perplexity and OOV rate of the model on TEXT (OOV words excluded from the average, like SRILM)."""
    from asr.lm import read_arpa
    from asr.lm.ngram import read_sentences

    report = read_arpa(lm_path).evaluate(read_sentences(text, has_ids=not no_ids))
    click.echo(f"{text}: {report.summary()}")
