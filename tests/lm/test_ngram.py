"""N-gram training: add-one/add-k equal nltk exactly, every distribution sums to one, Kneser-Ney is right and
better than Laplace on held-out speech transcripts, vocabulary and cutoff options do what they say."""

from __future__ import annotations

import math

import numpy as np
import pytest
from nltk.lm import Laplace, Lidstone
from nltk.lm.preprocessing import padded_everygram_pipeline

from asr.errors import AsrError
from asr.lm import BOS, EOS, UNK, NgramLM, train_ngram
from asr.lm.ngram import kneser_ney_discounts


def nltk_reference(sentences, order: int, smoothing: str, k: float):
    train, vocab = padded_everygram_pipeline(order, sentences)
    ref = Laplace(order) if smoothing == "laplace" else Lidstone(k, order)
    ref.fit(train, vocab)
    return ref


def queries(sentences, order: int):
    """(word, our context, nltk's context) for every token of every sentence, </s> included.

    We pad with one <s> and truncate histories at the sentence start; nltk pads with order-1 <s>, so its
    history for the same position carries extra <s> on the left (which hold the same counts)."""
    for words in sentences:
        ours = [BOS] + list(words) + [EOS]
        theirs = [BOS] * (order - 1) + list(words) + [EOS]
        for i in range(1, len(ours)):
            j = i + order - 2
            yield ours[i], tuple(ours[max(0, i - order + 1):i]), tuple(theirs[j - order + 1:j])


def context_sums(lm: NgramLM) -> np.ndarray:
    """Total probability over the vocabulary for every history the model stores N-grams for."""
    contexts = {g[:-1] for g in lm.probs}
    vocab = sorted(lm.vocab)
    return np.array([math.fsum(10.0 ** lm.log10_prob(w, h) for w in vocab) for h in contexts])


@pytest.mark.parametrize("order", [2, 3, 4])
@pytest.mark.parametrize("smoothing,k", [("laplace", 1.0), ("add_k", 0.25)])
def test_add_k_equals_nltk(train_heldout, order, smoothing, k):
    train, heldout = train_heldout
    train = train[:600]
    lm = train_ngram(train, order, smoothing, k=k)
    ref = nltk_reference(train, order, smoothing, k)
    assert len(lm.vocab) == len(ref.vocab)
    # Seen training positions and held-out text (unseen words and histories) alike.
    checked = 0
    for word, ctx, ref_ctx in queries(train[:200] + heldout[:200], order):
        ours = 10.0 ** lm.log10_prob(word, ctx)
        theirs = ref.score(word if word in lm.vocab else "<UNK>", ref_ctx)
        assert ours == pytest.approx(theirs, abs=1e-9, rel=1e-9), (word, ctx)
        checked += 1
    assert checked > 1000


@pytest.mark.parametrize("smoothing", ["laplace", "add_k", "witten_bell", "kneser_ney"])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_every_context_sums_to_one(transcripts, smoothing, order):
    lm = train_ngram(transcripts[:120], order, smoothing, k=0.5)
    sums = context_sums(lm)
    assert len(sums) > (100 if order > 1 else 0)
    np.testing.assert_allclose(sums, 1.0, atol=1e-6)


@pytest.mark.parametrize("smoothing", ["laplace", "kneser_ney"])
def test_pruned_model_sums_to_one(transcripts, smoothing):
    full = train_ngram(transcripts[:200], 3, smoothing)
    pruned = train_ngram(transcripts[:200], 3, smoothing, cutoffs=[0, 1, 1])
    assert pruned.ngram_counts()[2] < full.ngram_counts()[2] / 2
    np.testing.assert_allclose(context_sums(pruned), 1.0, atol=1e-6)


def test_cutoffs_drop_rare_ngrams_but_keep_needed_prefixes():
    sentences = [["a", "b", "c"]] * 3 + [["a", "b", "d"], ["x", "b", "c"]]
    lm = train_ngram(sentences, 3, "kneser_ney", cutoffs=[0, 0, 1])
    trigrams = {g for g in lm.probs if len(g) == 3}
    assert trigrams == {(BOS, "a", "b"), ("a", "b", "c"), ("b", "c", EOS)}
    assert all(g[:-1] in lm.probs and g[1:] in lm.probs for g in lm.probs if len(g) > 1)
    with pytest.raises(AsrError, match="unigrams cannot be pruned"):
        train_ngram(sentences, 3, cutoffs=[1, 1])


def test_kneser_ney_beats_laplace_on_heldout(train_heldout):
    train, heldout = train_heldout
    kn = train_ngram(train, 3, "kneser_ney").perplexity(heldout)
    laplace = train_ngram(train, 3, "laplace").perplexity(heldout)
    add_k = train_ngram(train, 3, "add_k", k=0.01).perplexity(heldout)
    assert kn < add_k < laplace
    assert kn < 0.5 * laplace


def test_kneser_ney_discounts_follow_chen_goodman():
    # counts-of-counts n1=10, n2=5, n3=3, n4=2: Y = 10/20; D1 = 1-2Y*5/10, D2 = 2-3Y*3/5, D3+ = 3-4Y*2/3
    adjusted = {(f"w{i}",): c for i, c in enumerate([1] * 10 + [2] * 5 + [3] * 3 + [4] * 2 + [9])}
    assert kneser_ney_discounts(adjusted, 1) == pytest.approx((0.5, 1.1, 3 - 4 / 3))
    assert kneser_ney_discounts({("a",): 1}, 1) == (0.5, 1.0, 1.5)  # KenLM's fallback when undefined


def test_kneser_ney_bigram_by_hand():
    """A corpus small enough to work out by hand; discounts fall back to D1=0.5, D2=1, D3+=1.5."""
    lm = train_ngram([["a", "b"], ["a", "b"], ["b", "a"]], 2, "kneser_ney")
    # Continuation counts (distinct left neighbours): a {<s>, b}, b {a, <s>}, </s> {a, b}: 2 each, total 6.
    # Unigram discount mass 3 * D2 = 3 over 6 -> gamma 0.5, spread evenly over {a, b, </s>, <unk>}.
    uni = {"a": (2 - 1) / 6 + 0.5 / 4, "b": (2 - 1) / 6 + 0.5 / 4, EOS: (2 - 1) / 6 + 0.5 / 4, UNK: 0.5 / 4}
    for w, p in uni.items():
        assert 10 ** lm.log10_prob(w, ()) == pytest.approx(p, rel=1e-12)
    assert lm.log10_prob(BOS) == -99.0
    # After "a": raw counts b:2, </s>:1 (total 3); gamma = (D2 + D1) / 3.
    gamma_a = (1.0 + 0.5) / 3
    assert 10 ** lm.log10_prob("b", ("a",)) == pytest.approx((2 - 1) / 3 + gamma_a * uni["b"], rel=1e-12)
    assert 10 ** lm.log10_prob(EOS, ("a",)) == pytest.approx((1 - 0.5) / 3 + gamma_a * uni[EOS], rel=1e-12)
    assert 10 ** lm.log10_prob("a", ("a",)) == pytest.approx(gamma_a * uni["a"], rel=1e-12)
    # After <s>: a:2, b:1.
    gamma_s = (1.0 + 0.5) / 3
    assert 10 ** lm.log10_prob("a", (BOS,)) == pytest.approx((2 - 1) / 3 + gamma_s * uni["a"], rel=1e-12)


def test_vocabulary_options_map_other_words_to_unk():
    sentences = [["the", "cat", "sat"], ["the", "dog", "sat"], ["the", "cat", "ran"]]
    specials = {BOS, EOS, UNK}
    assert train_ngram(sentences, 2, min_count=2).vocab == {"the", "cat", "sat"} | specials
    assert train_ngram(sentences, 2, max_vocab=2).vocab == {"the", "cat"} | specials  # ties: alphabetical
    lm = train_ngram(sentences, 2, "kneser_ney", vocab=["the", "sat", "mat"])
    assert lm.vocab == {"the", "sat", "mat"} | specials
    assert ("the", UNK) in lm.probs and ("the", "cat") not in lm.probs
    # Unknown words in a query are scored as <unk>, in the word and in the context.
    assert lm.log10_prob("zebra", ("the",)) == lm.log10_prob(UNK, ("the",))
    assert lm.log10_prob("sat", ("cat",)) == lm.log10_prob("sat", (UNK,))


def test_bad_options_and_reserved_tokens():
    with pytest.raises(AsrError, match="reserved token <s>"):
        train_ngram([["a", "<s>", "b"]])
    with pytest.raises(AsrError, match="unknown smoothing"):
        train_ngram([["a"]], smoothing="good_turing")
    with pytest.raises(AsrError, match="k > 0"):
        train_ngram([["a"]], smoothing="add_k", k=0)
    with pytest.raises(AsrError, match="empty"):
        train_ngram([])


def test_witten_bell_bigram_by_hand():
    lm = train_ngram([["a", "b"], ["a", "b"], ["b", "a"]], 2, "witten_bell")
    # Unigrams (no <s>): a 3, b 3, </s> 3 -> N = 9, T = 3 types; gamma 3/12 spread over {a, b, </s>, <unk>}.
    uni = {"a": 3 / 12 + 0.25 / 4, "b": 3 / 12 + 0.25 / 4, EOS: 3 / 12 + 0.25 / 4, UNK: 0.25 / 4}
    for w, p in uni.items():
        assert 10 ** lm.log10_prob(w) == pytest.approx(p, rel=1e-12)
    # After "a": b 2, </s> 1 -> c = 3, T = 2: P(w | a) = (c(a, w) + 2 P(w)) / 5.
    assert 10 ** lm.log10_prob("b", ("a",)) == pytest.approx((2 + 2 * uni["b"]) / 5, rel=1e-12)
    assert 10 ** lm.log10_prob("a", ("a",)) == pytest.approx(2 * uni["a"] / 5, rel=1e-12)


def write_counts(path, counts) -> None:
    path.write_text("".join(f"{' '.join(g)}\t{c}\n" for level in counts for g, c in level.items()))


@pytest.mark.parametrize("smoothing", ["laplace", "witten_bell", "kneser_ney"])
def test_counts_of_a_text_give_the_text_model(transcripts, tmp_path, smoothing):
    """`ngram-count -write` then `-read`: the count file of a text trains exactly the text's model."""
    from asr.lm import count_ngrams, estimate_ngram, read_counts

    text = transcripts[:300]
    path = tmp_path / "counts"
    write_counts(path, count_ngrams(text, 3))
    from_counts = estimate_ngram(read_counts(path), 3, smoothing, cutoffs=[0, 1])
    from_text = train_ngram(text, 3, smoothing, cutoffs=[0, 1])
    assert from_counts.probs.keys() == from_text.probs.keys()
    for g, p in from_text.probs.items():
        assert from_counts.probs[g] == pytest.approx(p, abs=1e-9)
    assert from_counts.bows == pytest.approx(from_text.bows, abs=1e-9)


def test_truncated_count_list_backs_off_with_the_left_out_mass(tmp_path):
    """A list of frequent bigrams only: what `a`'s count leaves unlisted goes to its back-off weight."""
    from asr.lm import estimate_ngram, read_counts

    path = tmp_path / "counts"
    path.write_text("a 10\nb 5\nc 5\na b 4\n")
    lm = estimate_ngram(read_counts(path), 2, "witten_bell")
    # c(a) = 10 of which 4 listed, T = 1: gamma = (1 + 6) / 11, P(b | a) = 4 / 11 + gamma P(b)
    gamma = 7 / 11
    p_b = 10 ** lm.log10_prob("b")
    assert 10 ** lm.log10_prob("b", ("a",)) == pytest.approx(4 / 11 + gamma * p_b, rel=1e-12)
    assert 10 ** lm.log10_prob("c", ("a",)) == pytest.approx(gamma * 10 ** lm.log10_prob("c"), rel=1e-12)
    np.testing.assert_allclose(context_sums(lm), 1.0, atol=1e-9)
    # Words outside --vocab pool into <unk>; the order stops where the counts stop.
    small = estimate_ngram(read_counts(path), 3, "witten_bell", vocab=["a", "b"])
    assert small.order == 2 and small.vocab == {"a", "b", BOS, EOS, UNK}


def test_count_file_errors_name_the_line(tmp_path):
    from asr.lm import read_counts

    path = tmp_path / "counts"
    path.write_text("a 10\na b many\n")
    with pytest.raises(AsrError, match=f"{path}:2: expected `w1 .. wN count`"):
        read_counts(path)
    path.write_text("a b 3\n")
    with pytest.raises(AsrError, match="no unigram counts"):
        read_counts(path)
