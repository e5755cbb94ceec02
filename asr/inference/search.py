"""The CTC search of one inference run, set up once (units, LM, lexicon, hotwords) and applied per utterance."""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from asr.decoding import CTCDecoder, DecodeOptions, Hypothesis, WordTiming
from asr.errors import AsrError

logger = logging.getLogger(__name__)

CERTAIN_LOGP = -1.0e4  # log-probability of the units off the best path, in the greedy search's input


def load_lm(lm: Any) -> Any:
    """An N-gram LM: a path is read as ARPA (malformed files raise AsrError at file:line); objects pass through."""
    if lm is None or hasattr(lm, "log10_prob"):
        return lm
    from asr.lm import read_arpa

    return read_arpa(lm)


def read_hotwords(path: str | os.PathLike) -> list[str]:
    """One hotword or phrase per line; blank lines and `#` comments skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise AsrError(f"{path}: cannot read hotwords ({e.__class__.__name__}); give a UTF-8 file with one "
                       f"phrase per line") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


class Searcher:
    """The CTC search of one decoding run, set up once (units, LM, lexicon, hotwords) and reused per utterance.

    Holds no torch state, so search processes forked from it share its LM copy-on-write."""

    def __init__(self, tokenizer: Any, *, lm: Any = None, hotwords: Iterable[str] | None = None,
                 options: DecodeOptions | None = None, greedy: bool = False) -> None:
        options = options or DecodeOptions()
        self.tokenizer = tokenizer
        self.num_units = len(tokenizer.tokens)
        self.greedy = greedy or options.beam_size == 1
        if self.greedy:
            if lm is not None:
                logger.warning("greedy decoding ignores the LM; use --beam-size > 1 to apply it")
            # phone units: several word sequences can spell the one best path; a beam keeps those alternatives
            beam = max(options.beam_size, DecodeOptions.beam_size) if tokenizer.kind == "phone" else 1
            self.decoder = CTCDecoder(tokenizer, options=DecodeOptions(beam_size=beam, blank=options.blank))
        else:
            self.decoder = CTCDecoder(tokenizer, lm=lm, hotwords=hotwords, options=options)
        self.options = self.decoder.options

    def check(self, log_probs: np.ndarray) -> None:
        """The posteriors must have one column per unit of the lang dir."""
        if log_probs.ndim != 2 or log_probs.shape[1] != self.num_units:
            raise AsrError(f"the model gives {log_probs.shape[-1]} outputs per frame but the lang dir has "
                           f"{self.num_units} units; decode with the lang dir the model was trained with")

    def __call__(self, log_probs: np.ndarray) -> list[Hypothesis]:
        """Hypotheses of one utterance's (T, V) log-posteriors, best first: its stream, in one block."""
        stream = self.stream()
        stream.accept(log_probs)
        return stream.finish()

    def stream(self) -> "SearchStream":
        """The same search over an utterance's posteriors arriving a block at a time."""
        return SearchStream(self)

    def _with_confidence(self, hyp: Hypothesis, log_probs: np.ndarray) -> Hypothesis:
        """The hypothesis with each word's confidence (asr.decoding.confidence) from the posteriors; only the best
        of an n-best list gets them (ctm and JSON show the best), so the alignment runs once per utterance."""
        from asr.decoding.confidence import word_confidences

        separators = () if self.decoder.separator is None else (self.decoder.separator,)
        confidences = word_confidences(log_probs, hyp.tokens, [(w.start_frame, w.end_frame) for w in hyp.words],
                                       separators, self.options.blank)
        return dataclasses.replace(hyp, words=[dataclasses.replace(w, confidence=c)
                                               for w, c in zip(hyp.words, confidences)])


class SearchStream:
    """One utterance's search, fed blocks of (T, V) log-posteriors; `finish` gives the hypotheses, best first.

    Beam search carries the decoder's beam across blocks. Greedy search takes the best unit per frame: each run of
    equal best units becomes one certain row for the decoder (so phone units still make lexicon words), fed as the
    run ends, and word times map back from runs to frames; a partial result leaves out the run still open."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.decoding = searcher.decoder.stream()
        self.blocks: list[np.ndarray] = []  # greedy: the posteriors (beam search: the decoder keeps them)
        self.frames = 0
        self.run_starts: list[int] = []  # greedy: the frame where each run of equal best units starts
        self.open_unit = -1              # greedy: the best unit of the last run, not yet given to the decoder

    def accept(self, log_probs: np.ndarray) -> None:
        self.searcher.check(log_probs)
        if not self.searcher.greedy:
            self.decoding.accept(log_probs)
            return
        self.blocks.append(log_probs)
        if len(log_probs):
            best = log_probs.argmax(axis=1)
            starts = np.flatnonzero(np.diff(best, prepend=self.open_unit))
            if len(starts):
                self._close([self.open_unit] * bool(self.run_starts) + best[starts[:-1]].tolist())
                self.run_starts.extend((self.frames + starts).tolist())
                self.open_unit = int(best[starts[-1]])
        self.frames += len(log_probs)

    def _close(self, units: list[int]) -> None:
        """Feed the decoder one certain row per finished run."""
        if units:
            rows = np.full((len(units), self.searcher.num_units), CERTAIN_LOGP)
            rows[np.arange(len(units)), units] = 0.0
            self.decoding.accept(rows)

    def best_text(self) -> str:
        """The partial result so far (cheap: nothing aligned)."""
        return self.decoding.best_text()

    def finish(self) -> list[Hypothesis]:
        """The utterance's hypotheses, best first, the best with word confidences; ends the stream."""
        if not self.searcher.greedy:
            hyps = self.decoding.finish()
            return [self.searcher._with_confidence(hyps[0], self.decoding.log_probs()), *hyps[1:]]
        self._close([self.open_unit] * bool(self.run_starts))
        log_probs = np.concatenate(self.blocks) if self.blocks else np.zeros((0, self.searcher.num_units))
        best = log_probs.argmax(axis=1)
        path_score = float(log_probs[np.arange(len(best)), best].sum())
        hyp = self.decoding.finish()[0]
        stops = self.run_starts[1:] + [self.frames]
        words = [WordTiming(w.word, self.run_starts[w.start_frame], stops[w.end_frame - 1]) for w in hyp.words]
        hyp = dataclasses.replace(hyp, score=path_score, acoustic_score=path_score, words=words)
        return [self.searcher._with_confidence(hyp, log_probs)]


def check_lang(model_tokens: Sequence[str], tokenizer: Any, lang_dir: str | os.PathLike) -> None:
    """A lang dir other than the model's own must have the very units the network outputs (a phone lang may
    bring another lexicon)."""
    tokens = list(tokenizer.tokens)
    if len(tokens) != len(model_tokens):
        raise AsrError(f"{Path(lang_dir) / 'tokens.txt'}: {len(tokens)} units, but the model outputs "
                       f"{len(model_tokens)}; use the lang dir the model was trained with")
    for i, (theirs, ours) in enumerate(zip(tokens, model_tokens)):
        if theirs != ours:
            raise AsrError(f"{Path(lang_dir) / 'tokens.txt'}: unit {i} is {theirs!r} but the model's is {ours!r}; "
                           f"use the lang dir the model was trained with")


def make_searcher(model_dir: str | os.PathLike, *, lm: Any = None, lang_dir: str | os.PathLike | None = None,
                  hotwords: Iterable[str] | None = None, options: DecodeOptions | None = None,
                  greedy: bool = False) -> Searcher:
    """The search for a model directory, without loading the network (so it can be forked cheaply)."""
    from asr.units import load_tokenizer

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise AsrError(f"{model_dir}: no such model directory; pass the --out of `asr train`")
    tokenizer = load_tokenizer(model_dir / "lang")
    if lang_dir is not None:
        own = tokenizer.tokens
        tokenizer = load_tokenizer(lang_dir)
        check_lang(own, tokenizer, lang_dir)
    return Searcher(tokenizer, lm=load_lm(lm), hotwords=hotwords, options=options, greedy=greedy)
