"""CTC greedy and prefix beam search against hand references, brute force and constructed confusions."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.special import log_softmax

from asr.decoding import CTCDecoder, DecodeOptions, greedy_search, prefix_beam_search
from asr.errors import AsrError
from asr.lm import train_ngram
from asr.units import train_tokenizer


TEXTS = ["THE CAT SAT ON THE MAT", "A HAT IS ON THE CAT", "THE CAT RAN", "MY CAT SAT", "HELLO WORLD",
         "KEEP THE BOX", "THE DOG SAW A CAT"]


EXACT = dict(beam_size=100_000, token_min_logp=-math.inf, beam_prune_logp=-math.inf)


@pytest.fixture(scope="module")
def chars():
    return train_tokenizer("char", TEXTS)


@pytest.fixture(scope="module")
def lm():
    return train_ngram([t.split() for t in TEXTS * 3], order=3, smoothing="laplace")


@pytest.fixture(scope="module")
def spell(peaky):
    """Posteriors that spell `text` in `tokenizer`'s units."""
    def spell(tokenizer, text: str, **kwargs) -> tuple[np.ndarray, list[int]]:
        return peaky(tokenizer.encode(text), len(tokenizer.tokens), **kwargs)
    return spell


def test_greedy_matches_hand_reference():
    # best units per frame: blank a a blank a b b blank c -> a a b c
    best = [0, 1, 1, 0, 1, 2, 2, 0, 3]
    logits = np.full((len(best), 4), -3.0)
    logits[np.arange(len(best)), best] = 1.0
    assert greedy_search(log_softmax(logits, axis=1)) == [1, 1, 2, 3]
    assert greedy_search(log_softmax(logits, axis=1), blank=3) == [0, 1, 0, 1, 2, 0]


@pytest.mark.parametrize("seed", range(5))
def test_beam_without_lm_equals_greedy_on_peaked_posteriors(chars, seed, spell):
    text = TEXTS[seed]
    lp, _ = spell(chars, text, noise=1.0, seed=seed)
    hyp = prefix_beam_search(lp, chars, beam_size=8)[0]
    assert hyp.text == chars.decode(greedy_search(lp)) == text
    assert hyp.tokens == greedy_search(lp)


@pytest.mark.parametrize("seed", range(3))
def test_wide_beam_scores_at_least_the_greedy_path(seed):
    """The greedy path is one alignment; the beam's labelling sums many, so it cannot score lower."""
    tokenizer = train_tokenizer("char", ["AB BA"])
    rng = np.random.default_rng(seed)
    lp = log_softmax(1.5 * rng.standard_normal((30, len(tokenizer.tokens))), axis=1)
    greedy_path_score = lp.max(axis=1).sum()
    hyp = prefix_beam_search(lp, tokenizer, beam_size=64)[0]
    assert hyp.score >= greedy_path_score
    assert hyp.score == pytest.approx(hyp.acoustic_score)  # no LM, no bonuses


def brute_force_best(lp: np.ndarray, tokenizer) -> tuple[str, float]:
    """Most probable text by summing every alignment of every length-T path (exponential: tiny inputs only)."""
    T, V = lp.shape
    totals: dict[str, float] = {}
    for path in itertools.product(range(V), repeat=T):
        score = lp[np.arange(T), path].sum()
        labels = [u for i, u in enumerate(path) if u != 0 and (i == 0 or path[i - 1] != u)]
        text = tokenizer.decode(labels)
        totals[text] = np.logaddexp(totals.get(text, -np.inf), score)
    best = max(totals, key=totals.get)
    return best, totals[best]


@pytest.mark.parametrize("seed", range(8))
def test_huge_beam_finds_the_most_probable_labelling(seed):
    tokenizer = train_tokenizer("char", ["AB"])  # <blk> <unk> | A B
    rng = np.random.default_rng(seed)
    lp = log_softmax(2.0 * rng.standard_normal((5, len(tokenizer.tokens))), axis=1)
    text, score = brute_force_best(lp, tokenizer)
    hyp = prefix_beam_search(lp, tokenizer, **EXACT)[0]
    assert hyp.text == text
    assert hyp.score == pytest.approx(score, abs=1e-9)


def test_lm_fixes_an_acoustic_confusion(chars, lm, spell):
    """H outscores C at one frame, so the acoustics say THE HAT SAT; the LM knows THE CAT SAT."""
    c, h = chars.token_to_id["C"], chars.token_to_id["H"]
    units = chars.encode("THE CAT SAT")
    lp, _ = spell(chars, "THE CAT SAT", confusions={units.index(c): {h: 0.5}})
    assert chars.decode(greedy_search(lp)) == "THE HAT SAT"
    assert prefix_beam_search(lp, chars, beam_size=16)[0].text == "THE HAT SAT"
    assert prefix_beam_search(lp, chars, beam_size=16, lm=lm)[0].text == "THE CAT SAT"


def test_scores_add_up_to_acoustic_plus_weighted_lm(chars, lm, spell):
    lp, _ = spell(chars, "THE CAT RAN")
    options = DecodeOptions(beam_size=16, lm_weight=0.7, word_bonus=0.3)
    hyp = prefix_beam_search(lp, chars, lm=lm, options=options)[0]
    words = hyp.text.split()
    assert words == ["THE", "CAT", "RAN"]
    assert hyp.lm_score == pytest.approx(math.log(10) * lm.sentence_log10_prob(words, eos=True))
    assert hyp.score == pytest.approx(hyp.acoustic_score + 0.7 * hyp.lm_score + 0.3 * len(words))
    no_eos = prefix_beam_search(lp, chars, lm=lm, options=options, score_eos=False)[0]
    assert no_eos.lm_score == pytest.approx(math.log(10) * lm.sentence_log10_prob(words, eos=False))


def test_unknown_words_pay_the_penalty(chars, lm, spell):
    lp, _ = spell(chars, "THE BOX")  # BOX is a word of the units' text but not of an LM trained without it
    small_lm = train_ngram([["THE", "CAT"], ["THE", "DOG"]], order=2)
    base = dict(beam_size=16, lm_weight=0.0, word_bonus=0.0)
    with_penalty = prefix_beam_search(lp, chars, lm=small_lm, unk_penalty=-4.0, **base)[0]
    without = prefix_beam_search(lp, chars, lm=small_lm, unk_penalty=0.0, **base)[0]
    assert with_penalty.text == without.text == "THE BOX"
    assert with_penalty.score == pytest.approx(without.score - 4.0)


def test_lexicon_constraint_yields_only_lexicon_words(chars, spell):
    x, t = chars.token_to_id["X"], chars.token_to_id["T"]
    units = chars.encode("THE CAT")
    lp, _ = spell(chars, "THE CAT", confusions={len(units) - 1: {x: 1.0}})
    assert prefix_beam_search(lp, chars, beam_size=16)[0].text == "THE CAX"
    lexicon = {"THE", "CAT", "HAT"}
    assert prefix_beam_search(lp, chars, beam_size=16, lexicon=lexicon,
                              lexicon_constraint=True)[0].text == "THE CAT"
    rng = np.random.default_rng(0)
    decoder = CTCDecoder(chars, lexicon=lexicon, beam_size=16, nbest=5, lexicon_constraint=True)
    for _ in range(5):
        noisy = log_softmax(rng.standard_normal((40, len(chars.tokens))) * 3, axis=1)
        for hyp in decoder.decode(noisy):
            assert set(hyp.text.split()) <= lexicon


def test_lexicon_constraint_defaults_to_the_lm_words(chars, lm, spell):
    x = chars.token_to_id["X"]
    lp, _ = spell(chars, "THE CAT", confusions={6: {x: 1.0}})
    assert prefix_beam_search(lp, chars, lm=lm, lm_weight=0.0, word_bonus=0.0, unk_penalty=0.0,
                              lexicon_constraint=True)[0].text == "THE CAT"


def test_hotword_promotes_a_word(chars, spell):
    c, h = chars.token_to_id["C"], chars.token_to_id["H"]
    lp, _ = spell(chars, "THE HAT", confusions={4: {c: -0.5}})
    assert prefix_beam_search(lp, chars)[0].text == "THE HAT"
    assert prefix_beam_search(lp, chars, hotwords=["CAT"])[0].text == "THE CAT"
    assert prefix_beam_search(lp, chars, hotwords=["CAT"], hotword_weight=0.1)[0].text == "THE HAT"


def test_word_times_land_where_the_words_were_placed(chars, spell):
    lp, frames = spell(chars, "HELLO WORLD", lead=5, gap=3)
    hyp = prefix_beam_search(lp, chars)[0]
    # units: H E L L O | W O R L D -> HELLO spans units 0..4, WORLD 6..10
    assert [(w.word, w.start_frame, w.end_frame) for w in hyp.words] == [
        ("HELLO", frames[0], frames[4] + 1), ("WORLD", frames[6], frames[10] + 1)]
    assert hyp.word_times(0.04)[1] == pytest.approx(("WORLD", frames[6] * 0.04, (frames[10] + 1) * 0.04))


def test_a_unit_held_over_frames_extends_the_word_end(chars, peaky):
    units = chars.encode("CAT")
    lp, frames = peaky(units, len(chars.tokens), gap=4)
    t = chars.token_to_id["T"]
    lp[frames[2] + 1] = lp[frames[2]]  # T for two frames
    lp[frames[2] + 2] = lp[frames[2]]  # and three
    word = prefix_beam_search(lp, chars)[0].words[0]
    assert (word.start_frame, word.end_frame) == (frames[0], frames[2] + 3)
    assert prefix_beam_search(lp, chars)[0].tokens == [*units[:2], t]


def test_nbest_lists_distinct_texts_best_first(chars, spell):
    c, h = chars.token_to_id["C"], chars.token_to_id["H"]
    lp, _ = spell(chars, "THE CAT", confusions={4: {h: -0.3}})
    hyps = prefix_beam_search(lp, chars, beam_size=16, nbest=4)
    assert len(hyps) == 4
    assert hyps[0].text == "THE CAT" and hyps[1].text == "THE HAT"
    assert len({h.text for h in hyps}) == 4
    assert all(a.score >= b.score for a, b in zip(hyps, hyps[1:]))


def test_phone_units_make_words_through_the_lexicon(peaky):
    """TWO, TOO and TO share the phones T UW1: only the LM can tell which one was said."""
    sentences = ["I HAVE TWO CATS", "YOU HAVE TWO DOGS", "ME TOO", "YOU TOO", "GO TO SCHOOL", "I WANT TO GO"]
    phones = train_tokenizer("phone", sentences)
    lm = train_ngram([s.split() for s in sentences], order=3)
    for text in ["I HAVE TWO CATS", "ME TOO", "I WANT TO GO"]:
        lp, frames = peaky(phones.encode(text), len(phones.tokens))
        hyp = prefix_beam_search(lp, phones, lm=lm, beam_size=16)[0]
        assert hyp.text == text
        assert phones.decode(hyp.tokens) == phones.decode(phones.encode(text))
        assert hyp.words[0].start_frame == frames[0]
        assert hyp.words[-1].end_frame == frames[-1] + 1
    lp, _ = peaky(phones.encode("GO CATS"), len(phones.tokens))
    assert prefix_beam_search(lp, phones, beam_size=16)[0].text == "GO CATS"  # no LM: the lexicon alone


def test_subword_units(speechocean_dir, peaky):
    texts = [line.split(maxsplit=1)[1] for line in (speechocean_dir / "text").read_text().splitlines()[:400]]
    bpe = train_tokenizer("bpe", texts, {"vocab_size": 80})
    lm = train_ngram([t.split() for t in texts], order=3)
    decoder = CTCDecoder(bpe, lm=lm, beam_size=16)
    for i, text in enumerate(texts[:10]):
        lp, frames = peaky(bpe.encode(text), len(bpe.tokens), noise=0.5, seed=i)
        hyp = decoder.decode(lp)[0]
        assert hyp.text == text
        assert len(hyp.words) == len(text.split())
        assert hyp.words[0].start_frame == frames[0] and hyp.words[-1].end_frame == frames[-1] + 1


def test_rejects_posteriors_that_do_not_fit(chars, spell):
    with pytest.raises(AsrError, match="tokenizer has"):
        prefix_beam_search(np.zeros((4, 3)) - 1.0, chars)
    lp, _ = spell(chars, "CAT")
    with pytest.raises(AsrError, match="log-probabilities"):
        prefix_beam_search(np.exp(lp), chars)
    with pytest.raises(AsrError, match="unknown decoding options"):
        prefix_beam_search(lp, chars, beam_width=4)


def test_empty_utterance(chars):
    hyp = prefix_beam_search(np.zeros((0, len(chars.tokens))), chars)[0]
    assert (hyp.text, hyp.tokens, hyp.words) == ("", [], [])


def test_word_end_follows_the_repeated_unit_not_an_early_alignment(chars, peaky):
    """ADD: the first D wavers (D, near-blank, D) so the prefix ADD is in the beam early, but the second D
    sounds much later; the word ends there."""
    d = chars.token_to_id["D"]
    lp, frames = peaky(chars.encode("ADD"), len(chars.tokens), gap=8)
    lp[frames[1] + 1] = np.log(np.full(len(chars.tokens), 1e-4))
    lp[frames[1] + 1, 0] = lp[frames[1] + 1, d] = np.log(0.5 - 1e-4 * (len(chars.tokens) - 2) / 2)
    lp[frames[1] + 2] = lp[frames[1]]
    hyp = prefix_beam_search(lp, chars, beam_size=16)[0]
    assert hyp.text == "ADD"
    assert (hyp.words[0].start_frame, hyp.words[0].end_frame) == (frames[0], frames[2] + 1)


@pytest.mark.parametrize("kind", ["char", "phone"])
def test_a_stream_of_blocks_decodes_as_the_whole_utterance(kind, lm, peaky):
    """Streaming: the beam carried across blocks of any size (partial results asked for in between) ends with
    the n-best, scores and word times of one decode of the whole matrix."""
    tokenizer = train_tokenizer(kind, TEXTS)
    units = tokenizer.encode("THE CAT SAT ON THE MAT")
    lp, _ = peaky(units, len(tokenizer.tokens), noise=1.5, seed=3)
    decoder = CTCDecoder(tokenizer, lm=lm, beam_size=8, nbest=3)
    whole = decoder.decode(lp)
    for sizes in ([1], [7], [16, 3, 1], [len(lp)]):
        stream = decoder.stream()
        start, i = 0, 0
        while start < len(lp):
            stop = start + sizes[i % len(sizes)]
            stream.accept(lp[start:stop])
            stream.best_text()  # a partial result must not disturb the search
            start, i = stop, i + 1
        streamed = stream.finish()
        assert [h.text for h in streamed] == [h.text for h in whole]
        assert [h.score for h in streamed] == pytest.approx([h.score for h in whole])
        assert [h.words for h in streamed] == [h.words for h in whole]
    partial = decoder.stream()
    partial.accept(lp[:len(lp) // 2])
    assert partial.best_text().startswith("THE CAT") and len(partial.log_probs()) == len(lp) // 2
