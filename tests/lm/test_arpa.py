"""ARPA files: exact round trips, standard back-off files from other toolkits, and malformed files that fail
with an AsrError naming file:line (never any other exception, checked by fuzzing)."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asr.errors import AsrError
from asr.lm import read_arpa, train_ngram, write_arpa

# A small SRILM-style model written by hand (with a preamble, <s> at -99 and back-off weights).
SRILM_STYLE = """\
This preamble is ignored.

\\data\\
ngram 1=5
ngram 2=4
ngram 3=2

\\1-grams:
-0.8\t</s>
-99\t<s>\t-0.3
-0.6\ta\t-0.2
-0.7\tb\t-0.25
-1.5\t<unk>

\\2-grams:
-0.4\t<s> a\t-0.1
-0.3\ta b\t-0.15
-0.5\tb </s>
-0.45\tb a

\\3-grams:
-0.2\t<s> a b
-0.1\ta b </s>

\\end\\
"""


@pytest.fixture()
def srilm_file(tmp_path: Path) -> Path:
    path = tmp_path / "srilm.arpa"
    path.write_text(SRILM_STYLE)
    return path


def test_reads_standard_backoff_file(srilm_file: Path):
    lm = read_arpa(srilm_file)
    assert lm.order == 3 and lm.ngram_counts() == [5, 4, 2]
    assert lm.log10_prob("b", ("<s>", "a")) == pytest.approx(-0.2)  # stored trigram
    assert lm.log10_prob("a", ("a", "b")) == pytest.approx(-0.15 + -0.45)  # bow(a b) + P(a | b)
    assert lm.log10_prob("b", ("b", "a")) == pytest.approx(0.0 + -0.3)  # no bow(b a): P(b | a)
    assert lm.log10_prob("</s>", ("a", "a")) == pytest.approx(-0.2 + -0.8)  # bow(a) P(</s>)
    assert lm.log10_prob("zebra", ("a",)) == pytest.approx(-0.2 + -1.5)  # OOV -> <unk>
    assert lm.log10_prob("b", ("x", "<s>", "a")) == pytest.approx(-0.2)  # context truncated to order-1


def test_gzipped_file(srilm_file: Path, tmp_path: Path):
    gz = tmp_path / "lm.arpa.gz"
    gz.write_bytes(gzip.compress(srilm_file.read_bytes()))
    assert read_arpa(gz).probs == read_arpa(srilm_file).probs


@pytest.mark.parametrize("smoothing", ["laplace", "add_k", "kneser_ney"])
def test_round_trip_is_exact_and_normalised(transcripts, tmp_path: Path, smoothing: str):
    lm = train_ngram(transcripts[:150], 3, smoothing, k=0.1, cutoffs=[0, 0, 1])
    path = tmp_path / "lm.arpa"
    write_arpa(lm, path)
    back = read_arpa(path)
    assert back.probs == lm.probs and back.bows == lm.bows and back.vocab == lm.vocab
    # The file read back is still a proper distribution for every stored history.
    vocab = sorted(back.vocab)
    contexts = {g[:-1] for g in back.probs}
    sums = [math.fsum(10.0 ** back.log10_prob(w, h) for w in vocab) for h in contexts]
    np.testing.assert_allclose(sums, 1.0, atol=1e-6)
    # Our file is itself standard: counts in the header match the sections, the last line is \end\.
    text = path.read_text().splitlines()
    assert text[0] == "\\data\\" and text[-1] == "\\end\\"
    assert [int(line.split("=")[1]) for line in text if line.startswith("ngram ")] == back.ngram_counts()


def _replace(old: str, new: str) -> str:
    assert old in SRILM_STYLE
    return SRILM_STYLE.replace(old, new, 1)


MALFORMED = {
    "count too high": (_replace("ngram 2=4", "ngram 2=5"), ":15:", "says 5 2-grams, the section has 4"),
    "bad probability": (_replace("-0.3\ta b", "-0.3x\ta b"), ":17:", "'-0.3x' is not a number"),
    "bad back-off": (_replace("a b\t-0.15", "a b\tnan"), ":17:", "not a finite"),
    "missing section": (_replace("\\2-grams:", "\\3-grams:"), ":15:", "expected the \\2-grams: section"),
    "missing data": ("\\1-grams:\n-1\ta\n\\end\\\n", "arpa", "no \\data\\"),
    "truncated": (SRILM_STYLE[:SRILM_STYLE.index("-0.1\ta b </s>")], ":21:", "truncated"),
    "no end": (SRILM_STYLE.replace("\\end\\\n", ""), ":25:", "truncated"),
    "too many words": (_replace("-0.5\tb </s>", "-0.5\tb </s> a b"), ":18:", "got 5 fields"),
    "unknown word": (_replace("-0.45\tb a", "-0.45\tb c"), ":19:", "'c' has no 1-gram"),
    "duplicate": (_replace("-0.45\tb a", "-0.45\tb </s>"), ":19:", "duplicate 2-gram"),
    "positive log": (_replace("-0.8\t</s>", "0.8\t</s>"), ":9:", "above 0"),
    "header gap": (_replace("ngram 2=4", "ngram 4=4"), ":5:", "expected 'ngram 2=COUNT'"),
    "empty header": ("\\data\\\n\n\\1-grams:\n", ":3:", "no 'ngram N=COUNT'"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_names_file_and_line(tmp_path: Path, case: str):
    text, location, message = MALFORMED[case]
    path = tmp_path / "bad.arpa"
    path.write_text(text)
    with pytest.raises(AsrError) as info:
        read_arpa(path)
    assert str(path) in str(info.value) and location in str(info.value) and message in str(info.value)
    assert "\n" not in str(info.value)


def test_unreadable_files(tmp_path: Path):
    with pytest.raises(AsrError, match="no such ARPA file"):
        read_arpa(tmp_path / "missing.arpa")
    (tmp_path / "bin.arpa").write_bytes(b"\\data\\\nngram 1=1\n\n\\1-grams:\n-1\t\xff\xfe\n\\end\\\n")
    with pytest.raises(AsrError, match=r"bin.arpa:5: not UTF-8"):
        read_arpa(tmp_path / "bin.arpa")
    (tmp_path / "bad.arpa.gz").write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    with pytest.raises(AsrError, match="cannot read"):
        read_arpa(tmp_path / "bad.arpa.gz")


_LINES = SRILM_STYLE.encode().split(b"\n")


@st.composite
def corrupted_arpa(draw) -> bytes:
    """The valid file with a few lines deleted, duplicated, replaced by noise, or split at a random byte."""
    lines = list(_LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "noise", "edit"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "noise":
            lines[i] = draw(st.binary(max_size=30))
        else:
            j = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:j] + draw(st.sampled_from([b"", b"\\", b"-", b"e9", b"\t", b" x", b"=", b"\xff"]))
    data = b"\n".join(lines)
    return data[:draw(st.integers(0, len(data)))] if draw(st.booleans()) else data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(corrupted_arpa(), st.binary(max_size=200)))
def test_fuzzed_files_raise_only_asr_error(tmp_path: Path, data: bytes):
    path = tmp_path / "fuzz.arpa"
    path.write_bytes(data)
    try:
        lm = read_arpa(path)
    except AsrError as e:
        assert str(path) in str(e)
    else:
        for g in lm.probs:  # whatever parsed is usable
            lm.log10_prob(g[-1], g[:-1])


def test_order_kept_when_corpus_has_no_ngrams_that_long(tmp_path: Path):
    lm = train_ngram([["a", "b"], ["b"]], 5, "kneser_ney")
    assert lm.order == 5 and lm.ngram_counts()[4] == 0
    write_arpa(lm, tmp_path / "lm.arpa")
    assert "ngram 5=0" in (tmp_path / "lm.arpa").read_text()
    back = read_arpa(tmp_path / "lm.arpa")
    assert back.order == 5 and back.probs == lm.probs
