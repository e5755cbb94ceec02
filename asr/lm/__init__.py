"""Word N-gram language models: counting and smoothing (`ngram`), the back-off model (`model`), ARPA files (`arpa`).

The decoder's entry points: `read_arpa(path) -> NgramLM`, then either `lm.log10_prob(word, context)` or the
state API `lm.begin_state()`, `lm.score(state, word) -> (log10p, new_state)`, `lm.end_score(state)`.
"""

from asr.lm.arpa import read_arpa, write_arpa
from asr.lm.model import BOS, EOS, LOG10_ZERO, UNK, NgramLM, PerplexityReport
from asr.lm.ngram import SMOOTHINGS, build_vocabulary, count_ngrams, estimate_ngram, read_counts, train_ngram

__all__ = ["BOS", "EOS", "LOG10_ZERO", "UNK", "NgramLM", "PerplexityReport", "SMOOTHINGS", "build_vocabulary",
           "count_ngrams", "estimate_ngram", "read_arpa", "read_counts", "train_ngram", "write_arpa"]
