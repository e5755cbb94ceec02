"""The search of an inference run, whole or streamed: a stream of posterior blocks gives the whole search's result."""

from __future__ import annotations

import numpy as np
import pytest

from asr.decoding import DecodeOptions
from asr.inference.search import Searcher
from asr.lm import train_ngram
from asr.units import train_tokenizer

TEXTS = ["THE CAT SAT ON THE MAT", "A HAT IS ON THE CAT", "THE DOG SAW A CAT", "KEEP THE BOX"]


@pytest.mark.parametrize("kind", ["char", "phone"])
@pytest.mark.parametrize("greedy", [True, False])
def test_a_streamed_search_gives_the_whole_search_result(kind, greedy, peaky):
    tokenizer = train_tokenizer(kind, TEXTS)
    lm = train_ngram([t.split() for t in TEXTS], order=2)
    searcher = Searcher(tokenizer, lm=None if greedy else lm, options=DecodeOptions(beam_size=8), greedy=greedy)
    lp, _ = peaky(tokenizer.encode("THE DOG SAW THE CAT"), len(tokenizer.tokens), noise=1.0, seed=1, gap=3)
    lp = lp.astype(np.float32)
    whole = searcher(lp)
    for size in (1, 4, 13, len(lp)):
        stream = searcher.stream()
        for start in range(0, len(lp), size):
            stream.accept(lp[start:start + size])
            partial = stream.best_text()
            if greedy:  # words as their runs close; beam search may still revise a partial (the LM's choice)
                assert "THE DOG SAW THE CAT".startswith(partial)
        if not greedy:
            assert partial == whole[0].text  # the partial after the last block is the final text
        streamed = stream.finish()
        assert [h.text for h in streamed] == [h.text for h in whole]
        assert streamed[0].words == whole[0].words  # times and confidences
        assert streamed[0].score == pytest.approx(whole[0].score)
    assert whole[0].text == "THE DOG SAW THE CAT"
