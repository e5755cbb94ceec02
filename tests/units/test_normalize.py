from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from asr.units.normalize import (NormalizeOptions, normalize_text, normalize_transcripts, number_to_words,
                                 write_normalization_report)

ALL = NormalizeOptions(case="upper", remove_punctuation=True, numbers_to_words=True)


@pytest.mark.parametrize("text, expected", [
    ("16", "SIXTEEN"),
    ("I have 16 cats, don't I?", "I HAVE SIXTEEN CATS DON'T I"),
    ("it costs 1,234,567.", "IT COSTS ONE MILLION TWO HUNDRED THIRTY FOUR THOUSAND FIVE HUNDRED SIXTY SEVEN"),
    ("the 21st, 40th and 3rd", "THE TWENTY FIRST FORTIETH AND THIRD"),
    ("code 007, pi 3.14", "CODE ZERO ZERO SEVEN PI THREE POINT ONE FOUR"),
    ("MP3 and B2B stay", "MP3 AND B2B STAY"),
    ("well-known \"quote\" O’Brien", "WELL KNOWN QUOTE O'BRIEN"),
    ("100 101 110 2000 1000000", "ONE HUNDRED ONE HUNDRED ONE ONE HUNDRED TEN TWO THOUSAND ONE MILLION"),
])
def test_all_steps(text, expected):
    assert normalize_text(text, ALL) == expected


def test_number_words_follow_a_lower_case_line():
    assert normalize_text("i am 16", NormalizeOptions(numbers_to_words=True)) == "i am sixteen"
    assert normalize_text("I am 16", NormalizeOptions(numbers_to_words=True)) == "I am SIXTEEN"


def test_case_only():
    assert normalize_text("Hello, World", NormalizeOptions(case="lower")) == "hello, world"


@given(st.integers(min_value=0, max_value=10**15 - 1), st.integers(min_value=0, max_value=10**15 - 1))
def test_number_words_are_distinct_and_plain(a, b):
    words_a, words_b = number_to_words(a), number_to_words(b)
    assert all(w.isalpha() and w.isupper() for w in words_a)
    assert (words_a == words_b) == (a == b)


def test_default_changes_nothing_and_report_lists_changed_lines(tmp_path):
    transcripts = {"u1": "Hi  there 2", "u2": "OK"}
    unchanged, changed = normalize_transcripts(transcripts, NormalizeOptions())
    assert unchanged == transcripts and changed == []
    normalized, changed = normalize_transcripts(transcripts, ALL)
    assert normalized == {"u1": "HI THERE TWO", "u2": "OK"}
    assert changed == [("u1", "Hi  there 2", "HI THERE TWO")]
    write_normalization_report(tmp_path / "report.tsv", changed)
    assert (tmp_path / "report.tsv").read_text(encoding="utf-8") == "u1\tHi  there 2\tHI THERE TWO\n"
