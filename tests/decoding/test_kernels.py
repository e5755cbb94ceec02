"""CTC forced alignment against brute force over every path of a tiny input; the kernels give the same results as
plain Python and compiled, and compile once a process has searched enough frames."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import log_softmax

from asr.decoding import kernels
from asr.decoding.ctc import CTCDecoder
from asr.lm import train_ngram
from asr.units import train_tokenizer


@pytest.fixture
def plain_kernels(monkeypatch):
    """The kernels as plain Python (whatever an earlier test compiled), restored afterwards."""
    for name in kernels.KERNELS:
        function = getattr(kernels, name)
        monkeypatch.setattr(kernels, name, getattr(function, "py_func", function))
    monkeypatch.setattr(kernels, "_searched", 0)
    return kernels


@pytest.mark.parametrize("labels", [[1], [1, 2], [1, 1], [2, 1, 2]])
def test_align_finds_the_best_path_of_the_labels(labels):
    rng = np.random.default_rng(len(labels))
    T, V = 6, 3
    lp = log_softmax(2.0 * rng.standard_normal((T, V)), axis=1)
    best, best_path = -np.inf, None
    for path in itertools.product(range(V), repeat=T):
        collapsed = [u for i, u in enumerate(path) if u != 0 and (i == 0 or path[i - 1] != u)]
        score = lp[np.arange(T), path].sum()
        if collapsed == labels and score > best:
            best, best_path = score, path
    start, end = kernels.align(lp, np.array(labels, dtype=np.int64), 0)
    # rebuild the path the spans describe and compare it with the brute-force best
    path = [0] * T
    for unit, s, e in zip(labels, start, end):
        path[s:e] = [unit] * (e - s)
    assert lp[np.arange(T), path].sum() == pytest.approx(best)
    assert all(0 <= s < e <= T for s, e in zip(start, end))
    assert list(start) == sorted(start)


def test_plain_and_compiled_kernels_search_and_align_alike(plain_kernels, peaky):
    texts = ["the cat sat", "a cat ran", "the dog sat on the mat"]
    tokenizer = train_tokenizer("char", texts)
    decoder = CTCDecoder(tokenizer, lm=train_ngram([t.split() for t in texts], order=2, smoothing="laplace"),
                         beam_size=8, nbest=3)
    posteriors = [peaky(tokenizer.encode(text), len(tokenizer.tokens), noise=2.0, seed=seed)[0]
                  for seed, text in enumerate(texts)]
    plain_kernels.COMPILE_AFTER_FRAMES = 10**9
    plain = [decoder.decode(lp) for lp in posteriors]
    assert not plain_kernels.is_compiled()
    plain_kernels.compile_kernels()
    compiled = [decoder.decode(lp) for lp in posteriors]
    assert plain_kernels.is_compiled()
    for a, b in zip(plain, compiled):
        assert [(h.text, h.score, h.tokens, h.words) for h in a] == [(h.text, h.score, h.tokens, h.words) for h in b]


def test_the_kernels_compile_once_a_process_has_searched_enough(plain_kernels, peaky, monkeypatch):
    monkeypatch.setattr(kernels, "COMPILE_AFTER_FRAMES", 50)
    tokenizer = train_tokenizer("char", ["ab"])
    decoder = CTCDecoder(tokenizer)
    lp, _ = peaky(tokenizer.encode("ab ab ab"), len(tokenizer.tokens))  # 28 frames
    decoder.decode(lp)
    assert not kernels.is_compiled()
    decoder.decode(lp)
    assert kernels.is_compiled()
