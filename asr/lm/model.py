"""The back-off N-gram model every smoothing method is stored as, with ARPA semantics.

An `NgramLM` holds log10 probabilities and log10 back-off weights keyed by word tuples, exactly what an ARPA file
holds, so a model trained here and one read from KenLM/SRILM output behave identically:

    P(w | h) = P*(h, w)                      if the N-gram (h, w) is stored
             = bow(h) * P(w | h[1:])          otherwise (bow(h) = 1 when h has no stored weight)

Two ways to query it:

* `log10_prob(word, context)`: stateless; the context is any tuple of preceding words (truncated to order-1).
* `begin_state()` / `score(state, word) -> (log10p, new_state)` / `end_score(state)`: for decoders. A state is
  the context tuple trimmed to its longest suffix that can still change a probability (KenLM's state
  minimisation), so hypotheses whose histories the model cannot tell apart share one state and can be merged.
  Results are memoised, which makes repeated queries one dict lookup.

Words outside the vocabulary (in the word or the context) are scored as `<unk>`; a model without `<unk>` gives
them log10 probability -99 (ARPA's "zero").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

BOS = "<s>"
EOS = "</s>"
UNK = "<unk>"
LOG10_ZERO = -99.0  # ARPA's stand-in for log10(0)

Ngram = tuple[str, ...]
State = tuple[str, ...]

# The score() memo is dropped when it grows past this many entries, bounding a long decode's memory.
_SCORE_CACHE_LIMIT = 2_000_000


@dataclass(frozen=True)
class PerplexityReport:
    """SRILM `ngram -ppl` figures: OOV words are excluded from the average and counted separately."""

    sentences: int
    words: int
    oovs: int
    log10_prob: float

    @property
    def scored_tokens(self) -> int:
        """Tokens that entered the average: in-vocabulary words plus one `</s>` per sentence."""
        return self.words - self.oovs + self.sentences

    @property
    def perplexity(self) -> float:
        return 10.0 ** (-self.log10_prob / self.scored_tokens) if self.scored_tokens else math.inf

    @property
    def perplexity_no_eos(self) -> float:
        """SRILM's `ppl1`: the same average without the `</s>` tokens."""
        n = self.words - self.oovs
        return 10.0 ** (-self.log10_prob / n) if n else math.inf

    @property
    def oov_rate(self) -> float:
        return self.oovs / self.words if self.words else 0.0

    def summary(self) -> str:
        return (f"{self.sentences} sentences, {self.words} words, {self.oovs} OOVs ({100 * self.oov_rate:.2f}%); "
                f"logprob= {self.log10_prob:.2f} ppl= {self.perplexity:.2f} ppl1= {self.perplexity_no_eos:.2f}")


def backoff_log10_prob(probs: dict[Ngram, float], bows: dict[Ngram, float], word: str, context: Ngram) -> float:
    """ARPA back-off lookup of log10 P(word | context); `word` must have a unigram entry."""
    total_bow = 0.0
    while True:
        p = probs.get(context + (word,))
        if p is not None:
            return total_bow + p
        total_bow += bows.get(context, 0.0)
        context = context[1:]


class NgramLM:
    """A back-off N-gram language model (see the module docstring for the semantics)."""

    BOS = BOS
    EOS = EOS
    UNK = UNK

    def __init__(self, probs: dict[Ngram, float], bows: dict[Ngram, float], order: int | None = None) -> None:
        """`probs` must contain a unigram for every word used in a longer N-gram (as any ARPA file does);
        `order` defaults to the longest stored N-gram (a corpus may have no N-grams of the order asked for)."""
        if not probs:
            raise ValueError("an N-gram model needs at least one unigram")
        self.probs = probs
        self.bows = {g: b for g, b in bows.items() if b != 0.0}  # a zero log10 weight backs off as a missing one
        self.order = max(max(len(g) for g in probs), order or 1)
        self.vocab: set[str] = {g[0] for g in probs if len(g) == 1}
        self._has_unk = (UNK,) in probs
        # Contexts that can change a probability: proper prefixes of stored N-grams, or ones with a weight.
        contexts: set[State] = {()}
        for g in probs:
            for i in range(1, len(g)):
                contexts.add(g[:i])
        contexts.update(g for g, b in bows.items() if b != 0.0 and len(g) < self.order)
        self._contexts = contexts
        self._score_cache: dict[tuple[State, str], tuple[float, State]] = {}

    def __repr__(self) -> str:
        counts = ", ".join(f"{n}-grams={c}" for n, c in enumerate(self.ngram_counts(), 1))
        return f"NgramLM(order={self.order}, vocab={len(self.vocab)}, {counts})"

    def ngram_counts(self) -> list[int]:
        """Number of stored N-grams per order (the ARPA `\\data\\` header)."""
        counts = [0] * self.order
        for g in self.probs:
            counts[len(g) - 1] += 1
        return counts

    def log10_prob(self, word: str, context: Sequence[str] = ()) -> float:
        """log10 P(word | context) with back-off; OOV words count as `<unk>`."""
        vocab = self.vocab
        if word not in vocab:
            if not self._has_unk:
                return LOG10_ZERO
            word = UNK
        n = self.order - 1
        context = tuple(context[-n:]) if n else ()
        if not vocab.issuperset(context):
            context = tuple(w if w in vocab else UNK for w in context)
        return backoff_log10_prob(self.probs, self.bows, word, context)

    def _trim_state(self, history: Sequence[str]) -> State:
        """The longest suffix of `history` (order-1 words at most) that is still a distinguishing context."""
        n = self.order - 1
        state = tuple(history[-n:]) if n else ()
        if not self.vocab.issuperset(state):
            state = tuple(w if w in self.vocab else UNK for w in state)
        while state not in self._contexts:
            state = state[1:]
        return state

    def begin_state(self) -> State:
        """The state at the start of a sentence (after `<s>`)."""
        return self._trim_state((BOS,))

    def score(self, state: State, word: str) -> tuple[float, State]:
        """(log10 P(word | state), state after `word`); memoised, so repeated queries cost one lookup."""
        key = (state, word)
        hit = self._score_cache.get(key)
        if hit is None:
            if len(self._score_cache) >= _SCORE_CACHE_LIMIT:
                self._score_cache.clear()
            hit = (self.log10_prob(word, state), self._trim_state(state + (word,)))
            self._score_cache[key] = hit
        return hit

    def end_score(self, state: State) -> float:
        """log10 P(</s> | state): the cost of ending the sentence here."""
        return self.score(state, EOS)[0]

    def sentence_log10_prob(self, words: Sequence[str], eos: bool = True) -> float:
        """log10 P of a whole sentence, from `<s>` to `</s>` (OOV words scored as `<unk>`)."""
        state = self.begin_state()
        total = 0.0
        for w in words:
            p, state = self.score(state, w)
            total += p
        return total + self.end_score(state) if eos else total

    def evaluate(self, sentences: Iterable[Sequence[str]]) -> PerplexityReport:
        """Perplexity and OOV rate over sentences; OOV words are skipped in the average (SRILM's default)."""
        n_sent = n_words = n_oov = 0
        total = 0.0
        for words in sentences:
            n_sent += 1
            state = self.begin_state()
            for w in words:
                n_words += 1
                p, state = self.score(state, w)
                if w not in self.vocab or w == UNK:
                    n_oov += 1
                else:
                    total += p
            total += self.end_score(state)
        return PerplexityReport(sentences=n_sent, words=n_words, oovs=n_oov, log10_prob=total)

    def perplexity(self, sentences: Iterable[Sequence[str]]) -> float:
        """Perplexity over sentences (each ended by `</s>`), OOV words excluded."""
        return self.evaluate(sentences).perplexity
