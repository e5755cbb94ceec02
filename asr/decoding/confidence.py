"""Word confidence from CTC posteriors, and how well confidences are calibrated.

A hypothesis' units are aligned to the frames by CTC Viterbi (the best path that spells exactly them); a unit's
confidence is its highest posterior over the frames aligned to it, and a word's the mean of its units'. A unit
belongs to the word whose frame span holds its first aligned frame; word separators belong to none. `asr decode`
writes how well these predict correct words (`confidence` in the decode dir): the raw posteriors are
under-confident where an LM corrects uncertain letters, so a calibration map learnt on a dev set would be needed
for calibrated values there.

Calibration against a reference (`calibration`): normalized cross entropy (NIST sclite's NCE: the information
the confidences carry about correctness, 1 = perfect, 0 = no better than the overall rate, negative = worse)
and a reliability table (mean confidence against the fraction correct, per confidence bin).
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Mapping, Sequence

import numpy as np

NEG_INF = -np.inf


def ctc_viterbi(log_probs: np.ndarray, labels: Sequence[int], blank: int = 0) -> np.ndarray:
    """The frame range of each label on the best CTC path spelling `labels`: an (L, 2) array of [first, last]
    frames (inclusive). Raises ValueError when the frames cannot hold the labels (too few for the repeats)."""
    T, L = len(log_probs), len(labels)
    if L == 0:
        return np.zeros((0, 2), dtype=np.int64)
    states = np.full(2 * L + 1, blank, dtype=np.int64)
    states[1::2] = labels
    S = len(states)
    skip = np.zeros(S, dtype=bool)  # s may come from s-2: a label after a blank, unless it repeats the one before
    skip[3::2] = states[3::2] != states[1:-2:2]
    delta = np.full(S, NEG_INF)
    delta[:2] = log_probs[0, states[:2]] if T else NEG_INF
    back = np.zeros((T, S), dtype=np.int8)  # 0: stay, 1: from s-1, 2: from s-2
    for t in range(1, T):
        stay, step = delta, np.concatenate([[NEG_INF], delta[:-1]])
        jump = np.where(skip, np.concatenate([[NEG_INF, NEG_INF], delta[:-2]]), NEG_INF)
        choice = np.argmax(np.stack([stay, step, jump]), axis=0)
        delta = np.choose(choice, [stay, step, jump]) + log_probs[t, states]
        back[t] = choice
    s = S - 1 if delta[S - 1] >= delta[S - 2] else S - 2
    if not np.isfinite(delta[s]):
        raise ValueError(f"{T} frames cannot spell {L} units")
    spans = np.full((L, 2), -1, dtype=np.int64)
    for t in range(T - 1, -1, -1):
        if s % 2:
            label = s // 2
            spans[label, 1] = t if spans[label, 1] < 0 else spans[label, 1]
            spans[label, 0] = t
        s -= int(back[t, s])
    return spans


def word_confidences(log_probs: np.ndarray, tokens: Sequence[int], word_spans: Sequence[tuple[int, int]],
                     separators: Sequence[int] = (), blank: int = 0) -> list[float]:
    """Each word's confidence in [0, 1] (see the module docstring); `word_spans` are the words' [start, end) output
    frames, `tokens` the hypothesis' units. Words whose units cannot be placed get 0."""
    if not word_spans:
        return []
    try:
        spans = ctc_viterbi(log_probs, tokens, blank)
    except ValueError:
        return [0.0] * len(word_spans)
    starts = np.array([start for start, _ in word_spans])
    units: list[list[float]] = [[] for _ in word_spans]
    for token, (first, last) in zip(tokens, spans):
        if token in separators:
            continue
        word = max(0, int(np.searchsorted(starts, first, side="right")) - 1)
        units[word].append(float(np.exp(log_probs[first:last + 1, token].max())))
    return [sum(u) / len(u) if u else 0.0 for u in units]


@dataclasses.dataclass
class Calibration:
    """How confidences predict correctness: NCE and a reliability table."""

    words: int
    correct: int
    nce: float
    bins: list[tuple[float, float, int, float]]  # (low, high, words in the bin, fraction of them correct)
    mean_confidence: list[float]                 # per bin

    def report(self) -> str:
        lines = [f"NCE {self.nce:.4f} over {self.words} hypothesis words, {self.correct} correct "
                 f"({100.0 * self.correct / max(self.words, 1):.2f}%)",
                 "confidence bin   words  mean confidence  fraction correct"]
        for (low, high, count, fraction), mean in zip(self.bins, self.mean_confidence):
            lines.append(f"[{low:.1f}, {high:.1f})  {count:9d}  {mean:15.3f}  {fraction:16.3f}" if count else
                         f"[{low:.1f}, {high:.1f})  {count:9d}  {'-':>15}  {'-':>16}")
        return "\n".join(lines) + "\n"


def calibration(confidences: Sequence[float], correct: Sequence[bool], num_bins: int = 10) -> Calibration:
    """NCE (sclite's definition, log base 2) and a `num_bins`-bin reliability table of word confidences against
    whether each hypothesis word is correct."""
    conf = np.clip(np.asarray(confidences, dtype=np.float64), 1e-7, 1 - 1e-7)
    ok = np.asarray(correct, dtype=bool)
    n, c = len(conf), int(ok.sum())
    p = c / n if n else 0.0
    if n == 0 or c in (0, n):
        nce = math.nan  # correctness carries no information to predict
    else:
        h_max = -(c * math.log2(p) + (n - c) * math.log2(1 - p))
        h_conf = -(np.log2(conf[ok]).sum() + np.log2(1 - conf[~ok]).sum())
        nce = float((h_max - h_conf) / h_max)
    edges = np.linspace(0.0, 1.0, num_bins + 1)
    which = np.minimum((conf * num_bins).astype(int), num_bins - 1)
    bins, means = [], []
    for b in range(num_bins):
        members = which == b
        count = int(members.sum())
        bins.append((float(edges[b]), float(edges[b + 1]), count, float(ok[members].mean()) if count else math.nan))
        means.append(float(conf[members].mean()) if count else math.nan)
    return Calibration(n, c, nce, bins, means)


def score_calibration(report, confidences: Mapping[str, Sequence[float]], num_bins: int = 10) -> Calibration:
    """Calibration of hypothesis words scored in `report` (asr.scoring.ScoreReport), given each utterance's word
    confidences in hypothesis order; an utterance whose scored words do not match its confidences is left out."""
    from asr.scoring import hyp_word_correct

    values, correct = [], []
    for utterance in report.utterances:
        labels = hyp_word_correct(utterance.alignment)
        conf = confidences.get(utterance.utt, [])
        if len(labels) == len(conf):
            values += list(conf)
            correct += labels
    return calibration(values, correct, num_bins)


def ctm_calibration(refs: Mapping[str, str], ctm_path: str | os.PathLike, utt2spk: Mapping[str, str] | None = None):
    """(ScoreReport, Calibration) of a ctm with confidences (its words, in time order, are each name's hypothesis)
    against reference texts: what `asr score --confidence` and `asr plot reliability` show."""
    from asr.errors import AsrError
    from asr.kaldi_io.ctm import read_ctm
    from asr.scoring import score_texts

    ctm = read_ctm(ctm_path)
    bare = next((name for name, words in ctm.items() for _, _, c in words if c is None), None)
    if bare is not None:
        raise AsrError(f"{ctm_path}: the words of {bare} have no confidence (sixth column); give a ctm from asr decode "
                       f"or asr transcribe --format ctm")
    report = score_texts(refs, {name: [w for _, w, _ in words] for name, words in ctm.items()}, utt2spk=utt2spk)
    return report, score_calibration(report, {name: [c for _, _, c in words] for name, words in ctm.items()})
