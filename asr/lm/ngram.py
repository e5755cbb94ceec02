"""N-gram counting and smoothing; every result is a back-off `NgramLM` (so it writes to and reads from ARPA).

Sentences are padded as `<s> w1 ... wn </s>` (one `<s>`, like SRILM/KenLM); words outside the vocabulary become
`<unk>`. The vocabulary always holds `<s>`, `</s>` and `<unk>`.

Smoothing methods:

* `laplace` (add-one, the toolkit's default) and `add_k`: exactly nltk's `Laplace` / `Lidstone(gamma=k)`, which
  are *not* back-off models: for a history h of the full length (order-1 words, or shorter when it starts with
  `<s>`), P(w | h) = (c(h, w) + k) / (c(h) + k V), where c(h) = sum over w of c(h, w) and V = |vocabulary|
  including `<s>`, `</s>` and `<unk>` (nltk's convention; the share given to `<s>` is never used). An unseen
  history gets the uniform 1/V, as in nltk. Stored as ARPA without blowing up: every unigram is log10(1/V);
  seen N-grams with a full history store their add-k probability; each seen full history h stores
  bow(h) = V * (k/(c(h)+kV)) so that an unseen word gets bow(h) * 1/V = k/(c(h)+kV) exactly. Shorter histories
  that do not start with `<s>` are never a full history, so their stored N-grams (kept only as prefixes and
  suffixes that the ARPA format requires) carry the uniform 1/V and back off to it unchanged. For order 1 the
  unigrams are (c(w)+k)/(N+kV) with N the number of tokens after `<s>`.
* `witten_bell`: interpolated Witten-Bell (SRILM's `-wbdiscount -interpolate`, nltk's `WittenBellInterpolated`):
  P(w | h) = (c(h, w) + T(h) P(w | h')) / (c(h) + T(h)) with T(h) the number of distinct words seen after h and h'
  the history without its first word; unigrams are interpolated with the uniform distribution over the vocabulary
  without `<s>`. It needs no counts-of-counts, so it suits count lists that keep only frequent N-grams.
* `kneser_ney`: interpolated modified Kneser-Ney (Chen & Goodman 1998) with three discounts D1, D2, D3+ per
  order estimated from counts-of-counts, continuation counts for lower orders (raw counts for N-grams starting
  with `<s>`, which cannot be extended to the left), and the unigrams interpolated with the uniform distribution
  over the vocabulary without `<s>` (as KenLM does). An interpolated model *is* a back-off model with
  bow(h) = gamma(h), so the ARPA form is exact. Where counts-of-counts are too few to estimate the discounts
  (tiny corpora), KenLM's fallback (0.5, 1.0, 1.5) is used and a warning logged.

Count cutoffs (KenLM's `--prune` semantics): `cutoffs[i]` removes (i+1)-grams seen at most that many times
(the last value repeats for higher orders; unigrams cannot be cut, use `min_count`). An N-gram that is a prefix
or suffix of a kept longer one is kept. The probability mass of removed N-grams goes to the back-off weight,
so every distribution still sums to one.

Counts instead of text (`estimate_ngram`, `read_counts`; SRILM's `ngram-count -read`): published N-gram count
lists keep only frequent N-grams, so a history's total c(h) is taken as the larger of its listed continuations'
sum and its own count one order down; the difference is treated like pruned mass and goes to the back-off weight.
For counts of a text the two are equal and the model is exactly the one trained on the text.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections import Counter, defaultdict
from typing import Iterable, Iterator, Sequence, TextIO

from asr.errors import AsrError, where
from asr.lm.model import BOS, EOS, LOG10_ZERO, UNK, Ngram, NgramLM, backoff_log10_prob

logger = logging.getLogger(__name__)

SMOOTHINGS = ("laplace", "add_k", "witten_bell", "kneser_ney")
RESERVED = (BOS, EOS)
DISCOUNT_FALLBACK = (0.5, 1.0, 1.5)  # KenLM's --discount_fallback


def check_sentence(words: Sequence[str], location: str) -> None:
    """Reject sentences containing the padding tokens, which would corrupt the counts."""
    for w in words:
        if w in RESERVED:
            raise AsrError(f"{location}: the text contains the reserved token {w}; sentences are padded with "
                           f"{BOS} and {EOS} automatically, remove it")


def build_vocabulary(word_counts: Counter, *, vocab: Iterable[str] | None = None, max_vocab: int | None = None,
                     min_count: float = 1) -> set[str]:
    """The model vocabulary: the given word list, or the words counted `min_count` times or more, the `max_vocab`
    most frequent of them (ties broken alphabetically); always with `<s>`, `</s>`, `<unk>`."""
    if vocab is not None:
        words = set(vocab)
    else:
        ranked = sorted((w for w, c in word_counts.items() if c >= min_count and w not in (BOS, EOS, UNK)),
                        key=lambda w: (-word_counts[w], w))
        words = set(ranked[:max_vocab] if max_vocab is not None else ranked)
    return words | {BOS, EOS, UNK}


def count_ngrams(sentences: Iterable[Sequence[str]], order: int) -> list[Counter]:
    """counts[n-1][ngram] for n = 1..order over `<s> w1 .. wn </s>`."""
    counts: list[Counter] = [Counter() for _ in range(order)]
    for words in sentences:
        padded = [BOS, *words, EOS]
        for n in range(1, order + 1):
            counts[n - 1].update(zip(*(padded[i:] for i in range(n))))
    return counts


def map_to_vocabulary(counts: list[Counter], vocab: set[str]) -> list[Counter]:
    """The same counts with every word outside `vocab` replaced by `<unk>` (N-grams that become equal add up)."""
    mapped: list[Counter] = []
    for level in counts:
        out: Counter = Counter()
        for g, c in level.items():
            out[g if vocab.issuperset(g) else tuple(w if w in vocab else UNK for w in g)] += c
        mapped.append(out)
    return mapped


def read_counts(path: str | os.PathLike, order: int | None = None) -> list[Counter]:
    """An N-gram count file (SRILM's `ngram-count -read` format: `w1 .. wN count` per line, any N, integer or
    decimal counts) -> counts[n-1]; N-grams longer than `order` are skipped, repeated lines add up."""
    counts: list[Counter] = []
    with open_text(path, "count file") as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            try:
                count = float(fields[-1])
            except ValueError:
                count = math.nan
            if len(fields) < 2 or not count >= 0 or math.isinf(count):
                raise AsrError(f"{where(path, number)}: expected `w1 .. wN count` with a count >= 0, got "
                               f"{line.strip()[:80]!r}; fix or delete the line")
            n = len(fields) - 1
            if order is not None and n > order:
                continue
            while len(counts) < n:
                counts.append(Counter())
            counts[n - 1][tuple(fields[:-1])] += int(count) if count.is_integer() else count
    if not counts or not counts[0]:
        raise AsrError(f"{path}: no unigram counts (lines `word count`); the vocabulary is built from them")
    return counts


def _expand_cutoffs(cutoffs: Sequence[int] | None, order: int) -> list[int]:
    """Per-order thresholds, the last value repeated up to `order`; unigram cutoff must be 0."""
    if not cutoffs:
        return [0] * order
    cut = list(cutoffs)[:order]
    cut += [cut[-1]] * (order - len(cut))
    if cut[0] != 0:
        raise AsrError(f"cutoffs {list(cutoffs)}: unigrams cannot be pruned (first value must be 0); "
                       "use the vocabulary's min_count to drop rare words")
    if any(c < 0 for c in cut):
        raise AsrError(f"cutoffs {list(cutoffs)}: thresholds must be >= 0")
    return cut


def prune_ngrams(counts: list[Counter], cutoffs: list[int]) -> list[set[Ngram]]:
    """kept[n-1]: the n-grams counted more than cutoffs[n-1] times, plus prefixes and suffixes of kept longer ones."""
    order = len(counts)
    kept: list[set[Ngram]] = [set() for _ in range(order)]
    for n in range(order, 0, -1):
        kept[n - 1] = {g for g, c in counts[n - 1].items() if c > cutoffs[n - 1]}
        if n < order:
            for g in kept[n]:
                kept[n - 1].add(g[:-1])
                kept[n - 1].add(g[1:])
    return kept


def _log10(p: float) -> float:
    return math.log10(p) if p > 0 else LOG10_ZERO


def _add_k_model(counts: list[Counter], kept: list[set[Ngram]], vocab: set[str],
                 k: float) -> tuple[dict[Ngram, float], dict[Ngram, float]]:
    """nltk's Lidstone/Laplace as an exact ARPA back-off model (construction in the module docstring)."""
    order, V = len(counts), len(vocab)
    if order == 1:
        tokens = sum(c for (w,), c in counts[0].items() if w != BOS)
        return {(w,): _log10(((counts[0][(w,)] if w != BOS else 0) + k) / (tokens + k * V)) for w in vocab}, {}
    log_uniform = -math.log10(V)
    probs: dict[Ngram, float] = {(w,): log_uniform for w in vocab}
    bows: dict[Ngram, float] = {}
    needed: set[Ngram] = set()  # prefixes/suffixes of the level above, stored for the ARPA format's sake
    for n in range(order, 1, -1):
        total: dict[Ngram, int] = defaultdict(int)
        pruned_mass: dict[Ngram, int] = defaultdict(int)
        n_kept: dict[Ngram, int] = defaultdict(int)
        level: dict[Ngram, float] = {}
        for g, c in counts[n - 1].items():
            h = g[:-1]
            if n < order and h[0] != BOS:
                continue  # not a full history: never asked at this level
            total[h] += c
            if g in kept[n - 1]:
                n_kept[h] += 1
            else:
                pruned_mass[h] += c
        for g in kept[n - 1]:
            h = g[:-1]
            if n == order or h[0] == BOS:
                level[g] = math.log10((counts[n - 1][g] + k) / (total[h] + k * V))
        for g in needed:
            level.setdefault(g, log_uniform)
        probs.update(level)
        needed = {g[:-1] for g in level} | {g[1:] for g in level}
        for h, c_h in total.items():
            if h in needed or len(h) == 1:
                unseen = V - n_kept[h]  # >= 1: <s> never follows anything
                bows[h] = math.log10(V * (pruned_mass[h] + k * unseen) / ((c_h + k * V) * unseen))
    return probs, bows


def kneser_ney_discounts(adjusted: Counter, n: int) -> tuple[float, float, float]:
    """Chen & Goodman's D1, D2, D3+ from the counts-of-counts of one order (KenLM's fallback if undefined)."""
    coc = Counter(c for c in adjusted.values() if c <= 4)
    n1, n2, n3, n4 = (coc[i] for i in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) > 0:
        y = n1 / (n1 + 2 * n2)
        d = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
        if all(0 < di < i + 1 for i, di in enumerate(d)):
            return d
    logger.warning("%d-grams: counts-of-counts %s cannot estimate Kneser-Ney discounts (corpus too small); "
                   "using the fallback %s", n, (n1, n2, n3, n4), DISCOUNT_FALLBACK)
    return DISCOUNT_FALLBACK


def _history_totals(counts: list[Counter], level: Counter, n: int) -> dict[Ngram, float]:
    """c(h) for the histories of order-n N-grams: the listed continuations' sum, or the history's own count one
    order down when that is larger (a count list that kept only frequent N-grams)."""
    total: dict[Ngram, float] = defaultdict(float)
    for g, c in level.items():
        total[g[:-1]] += c
    if n > 1:
        for h in total:
            total[h] = max(total[h], counts[n - 2].get(h, 0))
    return total


def _witten_bell_model(counts: list[Counter], kept: list[set[Ngram]],
                       vocab: set[str]) -> tuple[dict[Ngram, float], dict[Ngram, float]]:
    """Interpolated Witten-Bell as an ARPA back-off model (bow = interpolation weight plus pruned mass)."""
    probs: dict[Ngram, float] = {}
    bows: dict[Ngram, float] = {}
    for n in range(1, len(counts) + 1):
        level = counts[n - 1] if n > 1 else Counter({g: c for g, c in counts[0].items() if g != (BOS,)})
        total = _history_totals(counts, level, n)
        types: Counter = Counter(g[:-1] for g, c in level.items() if c > 0)
        kept_mass: dict[Ngram, float] = defaultdict(float)
        for g in kept[n - 1]:
            kept_mass[g[:-1]] += level.get(g, 0)
        # gamma(h): the share of P(. | h) given to the lower order: T(h), plus what the list left out
        gamma = {h: (types[h] + total[h] - kept_mass[h]) / (total[h] + types[h]) for h in total if total[h] > 0}
        if n == 1:
            denominator = total[()] + types[()]
            uniform = gamma.get((), 1.0) / (len(vocab) - 1)  # over the vocabulary without <s>
            for w in vocab:
                probs[(w,)] = _log10(level.get((w,), 0) / denominator + uniform) if w != BOS else LOG10_ZERO
            continue
        for h, g_h in gamma.items():
            if h in kept[n - 2]:
                bows[h] = _log10(g_h)
        for g in kept[n - 1]:
            h = g[:-1]
            if h not in gamma:
                continue  # a zero-count N-gram under a history never seen: nothing to estimate
            lower = 10.0 ** backoff_log10_prob(probs, bows, g[-1], h[1:])
            probs[g] = _log10(level.get(g, 0) / (total[h] + types[h]) + gamma[h] * lower)
    return probs, bows


def _kneser_ney_model(counts: list[Counter], kept: list[set[Ngram]],
                      vocab: set[str]) -> tuple[dict[Ngram, float], dict[Ngram, float]]:
    """Interpolated modified Kneser-Ney as an ARPA back-off model (bow = interpolation weight)."""
    order = len(counts)
    # Adjusted counts: raw at the top order and for N-grams starting with <s>; else the number of left extensions.
    adjusted: list[Counter] = [Counter() for _ in range(order)]
    adjusted[order - 1] = Counter(counts[order - 1])
    for n in range(order - 1, 0, -1):
        adj = adjusted[n - 1]
        for g in counts[n]:
            adj[g[1:]] += 1
        for g, c in counts[n - 1].items():
            if g[0] == BOS:
                adj[g] = c
    adjusted[0].pop((BOS,), None)  # <s> is never predicted

    probs: dict[Ngram, float] = {}
    bows: dict[Ngram, float] = {}
    for n in range(1, order + 1):
        adj = adjusted[n - 1]
        d = (0.0,) + kneser_ney_discounts(adj, n)
        total: dict[Ngram, float] = defaultdict(float)
        removed: dict[Ngram, float] = defaultdict(float)  # discount mass plus pruned N-grams' whole count
        for g, a in adj.items():
            h = g[:-1]
            total[h] += a
            removed[h] += d[min(a, 3)] if g in kept[n - 1] else a
        gamma = {h: removed[h] / total[h] for h in total}
        if n == 1:
            uniform = gamma[()] / (len(vocab) - 1)  # over the vocabulary without <s>
            for w in vocab:
                a = adj.get((w,), 0)
                probs[(w,)] = _log10((a - d[min(a, 3)]) / total[()] + uniform) if w != BOS else LOG10_ZERO
            continue
        for h, g_h in gamma.items():
            if h in kept[n - 2]:
                bows[h] = _log10(g_h)
        for g in kept[n - 1]:
            h, a = g[:-1], adj[g]
            lower = 10.0 ** backoff_log10_prob(probs, bows, g[-1], h[1:])
            probs[g] = _log10((a - d[min(a, 3)]) / total[h] + gamma[h] * lower)
    return probs, bows


def train_ngram(sentences: Iterable[Sequence[str]], order: int = 3, smoothing: str = "laplace", *,
                k: float = 1.0, cutoffs: Sequence[int] | None = None, vocab: Iterable[str] | None = None,
                max_vocab: int | None = None, min_count: float = 1) -> NgramLM:
    """Count N-grams in `sentences` (lists of words, without `<s>`/`</s>`) and smooth them into an `NgramLM`.

    `k` is the add-k constant (`smoothing="add_k"`; laplace is k=1); `cutoffs`, `vocab`, `max_vocab` and
    `min_count` are described in the module docstring and `build_vocabulary`.
    """
    sentences = [list(s) for s in sentences]
    for i, s in enumerate(sentences, 1):
        check_sentence(s, f"sentence {i}")
    if not sentences:
        raise AsrError("no training sentences: the text is empty")
    lm = estimate_ngram(count_ngrams(sentences, max(order, 1)), order, smoothing, k=k, cutoffs=cutoffs,
                        vocab=vocab, max_vocab=max_vocab, min_count=min_count)
    logger.info("trained %s %d-gram model on %d sentences: %s", smoothing, order, len(sentences), lm)
    return lm


def estimate_ngram(counts: list[Counter], order: int = 3, smoothing: str = "laplace", *, k: float = 1.0,
                   cutoffs: Sequence[int] | None = None, vocab: Iterable[str] | None = None,
                   max_vocab: int | None = None, min_count: float = 1) -> NgramLM:
    """Smooth N-gram counts (`counts[n-1]`: from `count_ngrams` or `read_counts`) into an `NgramLM` of at most
    `order` (fewer when the counts stop earlier). The vocabulary is built from the unigram counts; words outside
    it are counted as `<unk>`. Options as in `train_ngram`."""
    if smoothing not in SMOOTHINGS:
        raise AsrError(f"unknown smoothing {smoothing!r}; choose one of {', '.join(SMOOTHINGS)}")
    if order < 1:
        raise AsrError(f"order {order}: an N-gram model needs order >= 1")
    if smoothing == "add_k" and not k > 0:
        raise AsrError(f"k={k}: add-k smoothing needs k > 0")
    word_counts = Counter({g[0]: c for g, c in counts[0].items()}) if counts else Counter()
    words = build_vocabulary(word_counts, vocab=vocab, max_vocab=max_vocab, min_count=min_count)
    counts = map_to_vocabulary(counts[:order], words)
    kept = prune_ngrams(counts, _expand_cutoffs(cutoffs, len(counts)))
    if smoothing == "kneser_ney":
        probs, bows = _kneser_ney_model(counts, kept, words)
    elif smoothing == "witten_bell":
        probs, bows = _witten_bell_model(counts, kept, words)
    else:
        probs, bows = _add_k_model(counts, kept, words, 1.0 if smoothing == "laplace" else k)
    return NgramLM(probs, bows, len(counts))


def read_sentences(path: str | os.PathLike, *, has_ids: bool = True) -> list[list[str]]:
    """Sentences from a Kaldi `text` file (first field = utterance id, dropped) or, with has_ids=False, plain
    text with one sentence per line. Blank lines are skipped."""
    sentences = []
    with open_text(path, "text file") as f:
        for number, line in enumerate(f, 1):
            words = line.split()
            if has_ids:
                words = words[1:]
            if not words:
                continue
            check_sentence(words, where(path, number))
            sentences.append(words)
    return sentences


def read_word_list(path: str | os.PathLike) -> list[str]:
    """A vocabulary file: the first field of every non-blank line (a plain word list or Kaldi words.txt)."""
    with open_text(path, "vocabulary file") as f:
        return [line.split()[0] for line in f if line.strip()]


@contextlib.contextmanager
def open_text(path: str | os.PathLike, what: str) -> Iterator[TextIO]:
    """A UTF-8 text file for reading; a missing file, a directory or bad bytes become one-line errors naming it."""
    try:
        with open(path, encoding="utf-8") as f:
            yield f
    except FileNotFoundError:
        raise AsrError(f"{path}: no such {what}") from None
    except UnicodeDecodeError as e:
        raise AsrError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except IsADirectoryError:
        raise AsrError(f"{path}: is a directory, expected a {what}") from None
