"""Word and character error rates with Levenshtein alignments, reported like Kaldi's compute-wer and sclite.

`score_texts(refs, hyps)` aligns every reference utterance with its hypothesis and returns a `ScoreReport`:
totals (`%WER 12.34 [ 56 / 454, 10 ins, 20 del, 26 sub ]`, Kaldi's compute-wer line), per-utterance
alignments in sclite's REF/HYP layout (correct words lowercase, errors uppercase, `***` for gaps), a per-speaker
table and the most frequent confusions. A reference utterance with no hypothesis counts as all deletions (Kaldi's
`--mode=all`) and is listed; hypotheses without a reference are listed and ignored.

Character error rate (`cer=True`) aligns the characters of the words joined by single spaces, spaces included,
as jiwer and Hugging Face `evaluate` define it. Tokens are compared exactly (no case folding or normalisation).

The alignment is a Levenshtein DP (unit costs for substitution, deletion, insertion); among alignments with
the minimum number of errors it takes one with the most correct tokens, then prefers, from the end, a
match/substitution over a deletion over an insertion. Each DP row is a few numpy vector operations (insertions
within a row become a running minimum: D[i, j] = j c + min_{k<=j}(T[k] - k c) for insertion cost c).
"""

from __future__ import annotations

import logging
import math
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from asr.fileio import write_text_atomic

logger = logging.getLogger(__name__)

GAP = "***"
CORRECT, SUBSTITUTION, DELETION, INSERTION = "C", "S", "D", "I"


@dataclass(frozen=True)
class AlignedPair:
    """One column of an alignment: op is C, S, D (ref only) or I (hyp only)."""

    op: str
    ref: str | None
    hyp: str | None


def _cost_table(ref: Sequence[str], hyp: Sequence[str]) -> tuple[np.ndarray, int]:
    """The full (len(ref)+1, len(hyp)+1) DP table of costs `edits * big - matches`, and `big`.

    `big` exceeds any possible number of matches, so the table minimises the edit distance first and, among
    alignments with that distance, maximises correct tokens (sclite's preference: "a b" vs "x a" aligns
    `*** a b` / `x a ***`, not two substitutions)."""
    ids: dict[str, int] = {}
    r = np.array([ids.setdefault(t, len(ids)) for t in ref], dtype=np.int64)
    h = np.array([ids.setdefault(t, len(ids)) for t in hyp], dtype=np.int64)
    n, m = len(r), len(h)
    big = n + m + 1
    table = np.empty((n + 1, m + 1), dtype=np.int64)
    insertion_costs = np.arange(m + 1) * big
    table[0] = insertion_costs
    for i in range(1, n + 1):
        prev = table[i - 1]
        best = np.empty(m + 1, dtype=np.int64)
        best[0] = i * big
        # deletion (from above) or match/substitution (diagonal); insertions (from the left) via a running min
        np.minimum(prev[1:] + big, prev[:-1] + np.where(h == r[i - 1], -1, big), out=best[1:])
        table[i] = np.minimum.accumulate(best - insertion_costs) + insertion_costs
    return table, big


def align(ref: Sequence[str], hyp: Sequence[str]) -> list[AlignedPair]:
    """A minimum-edit-distance alignment of two token sequences (the one with the most correct tokens)."""
    table, big = _cost_table(ref, hyp)
    i, j = len(ref), len(hyp)
    pairs: list[AlignedPair] = []
    while i > 0 or j > 0:
        if i > 0 and j > 0 and table[i, j] == table[i - 1, j - 1] + (-1 if ref[i - 1] == hyp[j - 1] else big):
            op = CORRECT if ref[i - 1] == hyp[j - 1] else SUBSTITUTION
            pairs.append(AlignedPair(op, ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i > 0 and table[i, j] == table[i - 1, j] + big:
            pairs.append(AlignedPair(DELETION, ref[i - 1], None))
            i -= 1
        else:
            pairs.append(AlignedPair(INSERTION, None, hyp[j - 1]))
            j -= 1
    pairs.reverse()
    return pairs


@dataclass
class ErrorCounts:
    """Correct, substituted, deleted and inserted tokens against `ref_tokens` reference tokens."""

    ref_tokens: int = 0
    correct: int = 0
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0

    @classmethod
    def from_alignment(cls, pairs: Sequence[AlignedPair]) -> ErrorCounts:
        ops = Counter(p.op for p in pairs)
        return cls(ref_tokens=ops[CORRECT] + ops[SUBSTITUTION] + ops[DELETION], correct=ops[CORRECT],
                   substitutions=ops[SUBSTITUTION], deletions=ops[DELETION], insertions=ops[INSERTION])

    def __iadd__(self, other: ErrorCounts) -> ErrorCounts:
        self.ref_tokens += other.ref_tokens
        self.correct += other.correct
        self.substitutions += other.substitutions
        self.deletions += other.deletions
        self.insertions += other.insertions
        return self

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    def percent(self, count: int) -> float:
        """`count` as a percentage of the reference tokens (errors against an empty reference: inf)."""
        if self.ref_tokens:
            return 100.0 * count / self.ref_tokens
        return 0.0 if count == 0 else math.inf

    @property
    def error_rate(self) -> float:
        """WER or CER in percent."""
        return self.percent(self.errors)


@dataclass
class UtteranceScore:
    utt: str
    speaker: str
    alignment: list[AlignedPair]
    counts: ErrorCounts
    missing_hyp: bool = False


def hyp_word_correct(alignment: Sequence[AlignedPair]) -> list[bool]:
    """For each hypothesis token in order, whether the alignment found it correct (what confidence predicts)."""
    return [pair.op == CORRECT for pair in alignment if pair.hyp is not None]


def speaker_of(utt: str) -> str:
    """Kaldi's convention when there is no utt2spk: the speaker id is the utterance id's prefix before the first
    `-` or `_` (the whole id if it has neither)."""
    for i, ch in enumerate(utt):
        if ch in "-_":
            return utt[:i]
    return utt


@dataclass
class ScoreReport:
    """The result of `score_texts`; `summary()` is Kaldi's one-line figure, `write(dir)` the detailed reports."""

    unit: str  # "WER" or "CER"
    utterances: list[UtteranceScore]
    totals: ErrorCounts
    missing_hyps: list[str] = field(default_factory=list)
    extra_hyps: list[str] = field(default_factory=list)

    @property
    def error_rate(self) -> float:
        return self.totals.error_rate

    @property
    def sentence_errors(self) -> int:
        return sum(1 for u in self.utterances if u.counts.errors)

    def summary(self) -> str:
        t = self.totals
        return (f"%{self.unit} {t.error_rate:.2f} [ {t.errors} / {t.ref_tokens}, {t.insertions} ins, "
                f"{t.deletions} del, {t.substitutions} sub ]")

    def summary_lines(self) -> list[str]:
        """compute-wer's three lines: the error rate, the sentence error rate, what was scored."""
        n = len(self.utterances)
        ser = 100.0 * self.sentence_errors / n if n else 0.0
        lines = [self.summary(), f"%SER {ser:.2f} [ {self.sentence_errors} / {n} ]",
                 f"Scored {n} sentences, {len(self.missing_hyps)} not present in hyp."]
        if self.extra_hyps:
            lines.append(f"{len(self.extra_hyps)} hypotheses have no reference and were ignored.")
        return lines

    def speaker_table(self) -> str:
        """sclite-style per-speaker table: sentences, reference tokens, then percentages of the reference."""
        per_spk: dict[str, ErrorCounts] = defaultdict(ErrorCounts)
        sentences: Counter = Counter()
        sentence_errors: Counter = Counter()
        for u in self.utterances:
            per_spk[u.speaker] += u.counts
            sentences[u.speaker] += 1
            sentence_errors[u.speaker] += bool(u.counts.errors)
        per_spk["Sum/Avg"] = self.totals
        sentences["Sum/Avg"] = len(self.utterances)
        sentence_errors["Sum/Avg"] = self.sentence_errors
        width = max(len(s) for s in per_spk)
        unit = "Wrd" if self.unit == "WER" else "Chr"
        header = (f"| {'SPKR':<{width}} | {'# Snt':>6} {'# ' + unit:>7} | {'Corr':>6} {'Sub':>6} {'Del':>6} "
                  f"{'Ins':>6} {'Err':>6} {'S.Err':>6} |")
        rule = "|" + "-" * (len(header) - 2) + "|"
        lines = [rule, header, rule]
        for spk in sorted(per_spk, key=lambda s: (s == "Sum/Avg", s)):
            c = per_spk[spk]
            if spk == "Sum/Avg":
                lines.append(rule)
            ser = 100.0 * sentence_errors[spk] / sentences[spk] if sentences[spk] else 0.0
            lines.append(f"| {spk:<{width}} | {sentences[spk]:>6} {c.ref_tokens:>7} | {c.percent(c.correct):>6.1f} "
                         f"{c.percent(c.substitutions):>6.1f} {c.percent(c.deletions):>6.1f} "
                         f"{c.percent(c.insertions):>6.1f} {c.error_rate:>6.1f} {ser:>6.1f} |")
        lines.append(rule)
        return "\n".join(lines)

    def confusions(self) -> dict[str, Counter]:
        """Counters of substitution pairs `ref -> hyp`, deleted reference tokens, inserted hypothesis tokens."""
        subs: Counter = Counter()
        dels: Counter = Counter()
        ins: Counter = Counter()
        for u in self.utterances:
            for p in u.alignment:
                if p.op == SUBSTITUTION:
                    subs[f"{p.ref} -> {p.hyp}"] += 1
                elif p.op == DELETION:
                    dels[p.ref] += 1
                elif p.op == INSERTION:
                    ins[p.hyp] += 1
        return {"substitutions": subs, "deletions": dels, "insertions": ins}

    def confusion_report(self, top: int | None = None) -> str:
        """The most frequent substitutions, deletions and insertions, most frequent first."""
        lines = []
        for name, counter in self.confusions().items():
            lines.append(f"{name.upper()} ({sum(counter.values())} total, {len(counter)} distinct)")
            for item, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
                lines.append(f"  {count:>5}  {item}")
            lines.append("")
        return "\n".join(lines)

    def alignment_report(self) -> str:
        """Every utterance in sclite's layout, with Kaldi's per-utterance counts."""
        blocks = []
        for u in self.utterances:
            c = u.counts
            head = [f"id: ({u.utt})" + ("  [no hypothesis]" if u.missing_hyp else ""),
                    f"Scores: (#C #S #D #I) {c.correct} {c.substitutions} {c.deletions} {c.insertions}"]
            blocks.append("\n".join(head + format_alignment(u.alignment, self.unit == "CER")))
        return "\n\n".join(blocks) + "\n"

    def write(self, directory: str | os.PathLike) -> None:
        """Write `wer` (or `cer`: the summary), `per_utt` (alignments), `per_spk` and `confusions`."""
        directory = Path(directory)
        write_text_atomic(directory / self.unit.lower(), "\n".join(self.summary_lines()) + "\n")
        missing = "".join(f"no hypothesis: {u}\n" for u in self.missing_hyps)
        extra = "".join(f"no reference: {u}\n" for u in self.extra_hyps)
        write_text_atomic(directory / "per_utt", missing + extra + self.alignment_report())
        write_text_atomic(directory / "per_spk", self.speaker_table() + "\n")
        write_text_atomic(directory / "confusions", self.confusion_report())
        logger.info("wrote the %s reports (%s, per_utt, per_spk, confusions) to %s", self.unit, self.unit.lower(),
                    directory)


def format_alignment(pairs: Sequence[AlignedPair], chars: bool = False) -> list[str]:
    """sclite's REF/HYP/Eval lines: correct tokens lowercase, errors uppercase, `***` for gaps, columns aligned.

    Character alignments show a space as `_` so the columns stay readable."""
    show = (lambda t: "_" if t == " " else t) if chars else (lambda t: t)
    ref_cols, hyp_cols, eval_cols = [], [], []
    for p in pairs:
        if p.op == CORRECT:
            r = h = show(p.ref).lower()
        else:
            r = show(p.ref).upper() if p.ref is not None else GAP
            h = show(p.hyp).upper() if p.hyp is not None else GAP
        width = max(len(r), len(h))
        ref_cols.append(r.ljust(width))
        hyp_cols.append(h.ljust(width))
        eval_cols.append(("" if p.op == CORRECT else p.op).ljust(width))
    return ["REF:  " + " ".join(ref_cols).rstrip(), "HYP:  " + " ".join(hyp_cols).rstrip(),
            ("Eval: " + " ".join(eval_cols)).rstrip()]


def _tokens(text: str | Sequence[str], chars: bool) -> list[str]:
    words = text.split() if isinstance(text, str) else list(text)
    return list(" ".join(words)) if chars else words


def score_texts(refs: Mapping[str, str | Sequence[str]], hyps: Mapping[str, str | Sequence[str]], *,
                cer: bool = False, utt2spk: Mapping[str, str] | None = None) -> ScoreReport:
    """Score hypotheses against references (utterance id -> text or word list); see the module docstring."""
    totals = ErrorCounts()
    utterances = []
    missing = []
    for utt in sorted(refs):
        ref = _tokens(refs[utt], cer)
        hyp_text = hyps.get(utt)
        if hyp_text is None:
            missing.append(utt)
        hyp = _tokens(hyp_text, cer) if hyp_text is not None else []
        pairs = align(ref, hyp)
        counts = ErrorCounts.from_alignment(pairs)
        totals += counts
        speaker = utt2spk.get(utt, speaker_of(utt)) if utt2spk is not None else speaker_of(utt)
        utterances.append(UtteranceScore(utt, speaker, pairs, counts, missing_hyp=hyp_text is None))
    extra = sorted(set(hyps) - set(refs))
    if missing:
        logger.warning("%d of %d reference utterances have no hypothesis (scored as deletions), e.g. %s",
                       len(missing), len(refs), missing[0])
    if extra:
        logger.warning("%d hypotheses have no reference and are ignored, e.g. %s", len(extra), extra[0])
    return ScoreReport("CER" if cer else "WER", utterances, totals, missing, extra)
