"""Scoring: WER/CER equal jiwer's on generated pairs, alignments are minimal and readable (sclite layout),
missing hypotheses count as deletions, per-speaker and confusion tables add up."""

from __future__ import annotations

import jiwer
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asr.scoring import align, format_alignment, score_texts, speaker_of

words = st.lists(st.sampled_from(["a", "b", "c", "the", "cat", "sat", "ünï"]), min_size=0, max_size=15)
corpora = st.lists(st.tuples(words.filter(bool), words), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(corpora)
def test_wer_equals_jiwer(pairs):
    refs = {f"u{i}": " ".join(r) for i, (r, _) in enumerate(pairs)}
    hyps = {f"u{i}": " ".join(h) for i, (_, h) in enumerate(pairs)}
    report = score_texts(refs, hyps)
    expected = jiwer.process_words(list(refs.values()), list(hyps.values()))
    assert report.error_rate == pytest.approx(100 * expected.wer, abs=1e-9)
    t = report.totals
    assert t.errors == expected.substitutions + expected.deletions + expected.insertions
    assert t.ref_tokens == t.correct + t.substitutions + t.deletions
    assert sum(len(h) for _, h in pairs) == t.correct + t.substitutions + t.insertions
    assert t.correct >= expected.hits  # same distance, and we keep the most correct words


@settings(max_examples=200, deadline=None)
@given(corpora)
def test_cer_equals_jiwer(pairs):
    refs = {f"u{i}": " ".join(r) for i, (r, _) in enumerate(pairs)}
    hyps = {f"u{i}": " ".join(h) for i, (_, h) in enumerate(pairs)}
    report = score_texts(refs, hyps, cer=True)
    expected = jiwer.process_characters(list(refs.values()), list(hyps.values()))
    assert report.error_rate == pytest.approx(100 * expected.cer, abs=1e-9)
    assert report.totals.ref_tokens == sum(len(r) for r in refs.values())


@settings(max_examples=200, deadline=None)
@given(words, words)
def test_alignment_reconstructs_both_sides(ref, hyp):
    pairs = align(ref, hyp)
    assert [p.ref for p in pairs if p.ref is not None] == ref
    assert [p.hyp for p in pairs if p.hyp is not None] == hyp
    assert all((p.op == "C") == (p.ref == p.hyp) for p in pairs)


def test_summary_and_sclite_layout():
    report = score_texts({"s1-u1": "the cat sat on the mat"}, {"s1-u1": "the bat sat a on mat"})
    assert report.summary() == "%WER 50.00 [ 3 / 6, 1 ins, 1 del, 1 sub ]"
    assert format_alignment(report.utterances[0].alignment) == [
        "REF:  the CAT sat *** on THE mat",
        "HYP:  the BAT sat A   on *** mat",
        "Eval:     S       I      D",
    ]


def test_missing_and_extra_hypotheses():
    refs = {"a-1": "one two", "a-2": "three four five", "b-1": "six"}
    report = score_texts(refs, {"a-1": "one two", "b-1": "six seven", "c-9": "stray"})
    assert report.missing_hyps == ["a-2"] and report.extra_hyps == ["c-9"]
    assert report.summary() == "%WER 66.67 [ 4 / 6, 1 ins, 3 del, 0 sub ]"
    lines = report.summary_lines()
    assert lines[1] == "%SER 66.67 [ 2 / 3 ]" and lines[2] == "Scored 3 sentences, 1 not present in hyp."
    assert "[no hypothesis]" in report.alignment_report()


def test_speaker_table_and_confusions():
    refs = {"alice-1": "yes no", "alice-2": "no", "bob_1": "yes yes"}
    hyps = {"alice-1": "yes yes", "alice-2": "no", "bob_1": "no"}
    table = score_texts(refs, hyps).speaker_table().splitlines()
    alice = next(line for line in table if line.startswith("| alice"))
    bob = next(line for line in table if line.startswith("| bob"))
    total = next(line for line in table if line.startswith("| Sum/Avg"))
    assert alice.split("|")[2].split() == ["2", "3"] and alice.split("|")[3].split()[4] == "33.3"
    assert bob.split("|")[3].split()[4] == "100.0"
    assert total.split("|")[3].split()[4] == "60.0"
    # utt2spk overrides the id prefix
    table = score_texts(refs, hyps, utt2spk={"alice-1": "x", "alice-2": "x", "bob_1": "x"}).speaker_table()
    assert "| x " in table and "alice" not in table
    confusions = score_texts(refs, hyps).confusions()
    assert confusions["substitutions"] == {"no -> yes": 1, "yes -> no": 1}
    assert confusions["deletions"] == {"yes": 1}
    assert speaker_of("spk_utt-1") == "spk" and speaker_of("0001") == "0001"


def test_empty_reference():
    assert score_texts({"u": ""}, {"u": ""}).error_rate == 0.0
    assert score_texts({"u": ""}, {"u": "x"}).error_rate == float("inf")
