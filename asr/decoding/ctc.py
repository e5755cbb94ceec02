"""CTC decoding: greedy search, and prefix beam search with word-level N-gram shallow fusion.

The prefix beam search keeps, for every prefix (a unit sequence after CTC collapsing), the probability of all
alignments ending in blank (`pb`) and in its last unit (`pnb`), so alignments of one labelling are summed, not
maxed. A prefix is a node of a tree that lives for one utterance: node = parent + one unit (+ for phone units,
the word closed there). Its word-level state (LM state, hotword history, partial word) is computed once when the
node is made, so a word's LM score is looked up once per prefix, not once per frame.

Per frame the work is vectorised over the beam: blank/repeat updates, merging a parent's extension into a child
already in the beam, and the extension scores of every (prefix, proposed unit) pair. Only the candidates that
can still reach the beam (by an upper bound on their score) are made into nodes, best first, and the loop stops
as soon as the next bound is below the current beam_size-th score. Units below `token_min_logp` are never
proposed (the frame's best unit always is).

Words: characters use `|` as the word separator (a `|` at a word boundary is treated like a blank, so "A||B"
and "|A" are the labellings "A|B" and "A"); sentencepiece pieces starting with `▁` begin a word; phones become
words through a pronunciation trie, with the choice of closing a word at every trie node that ends one.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterable, NamedTuple

import numpy as np

from asr.decoding import kernels
from asr.decoding.hotwords import HotwordScorer
from asr.decoding.lexicon import PronunciationTrie, word_prefixes
from asr.decoding.options import DecodeOptions
from asr.errors import AsrError

LN10 = math.log(10.0)
NEG_INF = -math.inf
WORD_SEPARATORS = ("|", " ")  # char units: wav2vec2/flashlight `|` (ours), or a plain space
WORD_START = "▁"  # sentencepiece's word-start mark
SPECIAL_UNITS = ("<blk>", "<unk>", "<s>", "</s>", "<pad>")
_MEMO_LIMIT = 2_000_000  # word-closing memo entries kept across utterances before it is dropped


@dataclasses.dataclass
class WordTiming:
    """A word and the frames it spans: [start_frame, end_frame), at the model's output frame rate; its confidence
    in [0, 1] once computed (asr.decoding.confidence)."""

    word: str
    start_frame: int
    end_frame: int
    confidence: float | None = None

    def seconds(self, frame_shift_s: float) -> tuple[float, float]:
        """(start, end) in seconds, given the seconds per output frame (subsampling included)."""
        return self.start_frame * frame_shift_s, self.end_frame * frame_shift_s


@dataclasses.dataclass
class Hypothesis:
    """One decoding result. `score` = acoustic_score + the LM/bonus terms of DecodeOptions (natural logs)."""

    text: str
    tokens: list[int]
    score: float
    acoustic_score: float  # ln of the summed probability of the labelling's alignments
    lm_score: float  # ln P_lm(words, </s>), unweighted; 0.0 without an LM
    words: list[WordTiming]

    def word_times(self, frame_shift_s: float) -> list[tuple[str, float, float]]:
        """(word, start_s, end_s) for every word."""
        return [(w.word, *w.seconds(frame_shift_s)) for w in self.words]


def check_log_probs(log_probs: Any, num_units: int | None = None) -> np.ndarray:
    """The posteriors as a float64 (T, V) array, with the mistakes a user can make named."""
    if hasattr(log_probs, "detach"):  # a torch tensor
        log_probs = log_probs.detach().cpu().numpy()
    lp = np.asarray(log_probs, dtype=np.float64)
    if lp.ndim != 2:
        raise AsrError(f"CTC posteriors must be a (frames, units) matrix, got shape {lp.shape}")
    if num_units is not None and lp.shape[1] != num_units:
        raise AsrError(f"the posteriors have {lp.shape[1]} units but the tokenizer has {num_units}; "
                       f"decode with the lang dir the model was trained with")
    if lp.size and (np.isnan(lp).any() or lp.max() > 1e-3):
        raise AsrError("the posteriors contain NaN or values above 0; pass log-probabilities (log_softmax "
                       "output), not probabilities or raw logits")
    return lp


def greedy_search(log_probs: Any, blank: int = 0) -> list[int]:
    """Best unit per frame, repeats collapsed, blanks dropped."""
    lp = check_log_probs(log_probs)
    best = lp.argmax(axis=1)
    keep = np.ones(best.shape, dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    return best[keep & (best != blank)].tolist()


class _LMScorer:
    """Natural-log word scores from an N-gram LM, through its decoder state API when it has one
    (asr.lm.NgramLM: minimised, memoised states) or `log10_prob(word, context)` with context tuples."""

    def __init__(self, lm: Any) -> None:
        self.lm = lm
        self.vocab = frozenset(lm.vocab)
        self._stateful = hasattr(lm, "begin_state") and hasattr(lm, "score")
        self._n = max(int(lm.order) - 1, 0)

    def begin(self) -> tuple[str, ...]:
        return self.lm.begin_state() if self._stateful else ("<s>",)[: self._n]

    def score(self, state: tuple[str, ...], word: str) -> tuple[float, tuple[str, ...]]:
        if self._stateful:
            log10p, new_state = self.lm.score(state, word)
        else:
            log10p = self.lm.log10_prob(word, state)
            new_state = (state + (word,))[len(state) + 1 - self._n:] if self._n else ()
        return log10p * LN10, new_state


class CTCDecoder:
    """A prefix beam search set up once (units, lexicon tries, LM, hotwords) and reused across utterances.

    `lexicon`: char/bpe units: the allowed words (any iterable; a mapping's keys), used when
    `lexicon_constraint` is on (default without a lexicon: the LM's words). Phone units: word -> pronunciations
    (default: the tokenizer's lexicon) -- phone hypotheses only ever make words through it.
    """

    def __init__(self, tokenizer: Any, *, lm: Any = None, lexicon: Any = None,
                 hotwords: Iterable[str] | None = None, options: DecodeOptions | None = None,
                 **overrides: Any) -> None:
        options = options or DecodeOptions()
        if overrides:
            unknown = set(overrides) - {f.name for f in dataclasses.fields(DecodeOptions)}
            if unknown:
                raise AsrError(f"unknown decoding options {sorted(unknown)}; "
                               f"known: {', '.join(f.name for f in dataclasses.fields(DecodeOptions))}")
            options = dataclasses.replace(options, **overrides)
        self.options = options
        self.kind: str = tokenizer.kind
        self.tokens: list[str] = list(tokenizer.tokens)
        self.num_units = len(self.tokens)
        if self.kind not in ("char", "bpe", "phone"):
            raise AsrError(f"unknown unit kind {self.kind!r}; expected char, bpe or phone")
        token_to_id = {t: i for i, t in enumerate(self.tokens)}
        self.lm = _LMScorer(lm) if lm is not None else None
        self.hotwords = HotwordScorer(hotwords, options.hotword_weight) if hotwords else None
        if self.hotwords is not None and not self.hotwords:
            self.hotwords = None

        self.separator: int | None = None
        self.pieces = ["" if t in SPECIAL_UNITS else t for t in self.tokens]  # text each unit spells
        self.starts_word = np.zeros(self.num_units, dtype=bool)
        self.trie: PronunciationTrie | None = None
        self.lexicon_words: frozenset[str] | None = None
        self.lexicon_prefixes: frozenset[str] | None = None
        self.lm_prefixes: frozenset[str] | None = None
        if self.kind == "phone":
            if lexicon is None:
                lexicon = getattr(tokenizer, "lexicon", None)
            if not lexicon:
                raise AsrError("phone units need a lexicon (word -> phones) to make words; pass the lang dir's "
                               "lexicon.txt")
            self.trie = PronunciationTrie(lexicon, token_to_id)
        else:
            if self.kind == "char":
                self.separator = next((token_to_id[s] for s in WORD_SEPARATORS if s in token_to_id), None)
                if self.separator is not None:
                    self.pieces[self.separator] = ""
            else:
                for i, t in enumerate(self.pieces):
                    if t.startswith(WORD_START):
                        self.starts_word[i] = True
                        self.pieces[i] = t[len(WORD_START):]
            if options.lexicon_constraint:
                if lexicon is None and self.lm is None:
                    raise AsrError("lexicon_constraint needs a lexicon (word list) or an LM whose words to allow")
                words = lexicon if lexicon is not None else self.lm.vocab
                self.lexicon_words = frozenset(w for w in words if w not in SPECIAL_UNITS)
                self.lexicon_prefixes = word_prefixes(self.lexicon_words)
            if self.lm is not None:
                self.lm_prefixes = word_prefixes(w for w in self.lm.vocab if w not in SPECIAL_UNITS)

        # Upper bound of what extending a prefix by a unit can add to its LM/bonus terms: closing a word adds at
        # most the word bonus (and removes a partial-word penalty it then pays again as an OOV word).
        closes = np.ones(self.num_units, dtype=bool)
        if self.kind == "char":
            closes[:] = False
            if self.separator is not None:
                closes[self.separator] = True
        elif self.kind == "bpe":
            closes = self.starts_word.copy()
        gain = np.zeros(self.num_units)
        if self.lm is not None:
            gain[closes] += max(0.0, options.word_bonus) + max(0.0, options.unk_penalty)
        if self.hotwords is not None:
            gain += self.hotwords.max_gain
        self.gain_bound = gain
        self._close_memo: dict[tuple, tuple | None] = {}
        # Per partial word, a row over units: how much extending by the unit can change the LM/bonus terms at
        # most (-inf: the lexicon forbids it). Rows live in one growing table so the beam gathers them at once.
        self.partials: dict[Any, tuple[int, float]] = {}
        self.row_table = np.zeros((0, self.num_units))

    def partial_info(self, partial: Any) -> tuple[int, float]:
        """(row of `row_table` bounding the children, terms of the word being spelled) of a prefix whose current
        word is `partial`; memoised in `partials`."""
        info = self.partials.get(partial)
        if info is not None:
            return info
        row = self.gain_bound.copy()
        if self.kind == "phone":
            trie = self.trie
            allowed = set(trie.children[partial])
            if partial != trie.ROOT and trie.words[partial]:
                allowed |= set(trie.children[trie.ROOT])
            row[[u for u in range(self.num_units) if u not in allowed]] = NEG_INF
        else:
            lexicon, known = self.lexicon_prefixes, self.lm_prefixes
            penalised = bool(partial) and known is not None and partial not in known
            for unit, piece in enumerate(self.pieces):
                if unit == self.separator or unit == self.options.blank:
                    continue
                spelled = piece if self.starts_word[unit] else partial + piece
                if not spelled:
                    continue
                if lexicon is not None and spelled not in lexicon:
                    row[unit] = NEG_INF
                elif not self.starts_word[unit] and known is not None and not penalised and spelled not in known:
                    row[unit] += self.options.unk_penalty
        if len(self.partials) == self.row_table.shape[0]:
            grown = np.zeros((max(16, 2 * self.row_table.shape[0]), self.num_units))
            grown[:self.row_table.shape[0]] = self.row_table
            self.row_table = grown
        info = (len(self.partials), 0.0 if self.kind == "phone" else self._partial_score(partial))
        self.row_table[info[0]] = row
        self.partials[partial] = info
        return info

    # --- word-level scoring -------------------------------------------------------------------------------

    def close_word(self, lm_state: tuple, hw_history: tuple, word: str) -> tuple | None:
        """Scores of appending `word`: (fusion gain, ln P_lm, LM state, hotword phrase credit, hotword history);
        None if the lexicon forbids the word. Memoised across utterances."""
        key = (lm_state, hw_history, word)
        hit = self._close_memo.get(key, False)
        if hit is not False:
            return hit
        if self.lexicon_words is not None and word not in self.lexicon_words:
            result = None
        else:
            gain = ln_p = 0.0
            if self.lm is not None:
                ln_p, lm_state = self.lm.score(lm_state, word)
                gain = self.options.lm_weight * ln_p + self.options.word_bonus
                if word not in self.lm.vocab:
                    gain += self.options.unk_penalty
            phrase_credit = 0.0
            if self.hotwords is not None:
                completed, phrase_credit, hw_history = self.hotwords.add_word(hw_history, word)
                gain += completed
            result = (gain, ln_p, lm_state, phrase_credit, hw_history)
        if len(self._close_memo) >= _MEMO_LIMIT:
            self._close_memo.clear()
        self._close_memo[key] = result
        return result

    def _partial_score(self, partial: str) -> float:
        """Terms of a word still being spelled: the LM's unknown-word penalty if no LM word starts so, and the
        hotword share."""
        score = 0.0
        if partial:
            if self.lm_prefixes is not None and partial not in self.lm_prefixes:
                score += self.options.unk_penalty
            if self.hotwords is not None:
                score += self.hotwords.partial_bonus(partial)
        return score

    # --- search -------------------------------------------------------------------------------------------

    def decode(self, log_probs: Any) -> list[Hypothesis]:
        """The `nbest` most probable hypotheses of one utterance's (T, V) log-posteriors, best first."""
        stream = self.stream()
        stream.accept(log_probs)
        return stream.finish()

    def stream(self) -> "DecodeStream":
        """A search that takes an utterance's posteriors a block at a time (streaming recognition); the result
        is the same as `decode` of all the blocks at once."""
        return DecodeStream(self)


class DecodeStream:
    """One utterance's prefix beam search, carried across blocks of frames: `accept` each block's (T, V)
    log-posteriors as they arrive, `best` for the partial result so far, `finish` for the final n-best."""

    def __init__(self, decoder: CTCDecoder) -> None:
        self.decoder = decoder
        self.tree = _PrefixTree(decoder)
        V = decoder.num_units
        # the beam: node ids, their parents, log P(alignments ending in blank / in the last unit), last unit,
        # LM/bonus terms, row_table row of the partial word
        self.nodes = np.zeros(1, dtype=np.int64)
        self.par = np.full(1, -1, dtype=np.int64)
        self.pb = np.zeros(1)
        self.pnb = np.full(1, NEG_INF)
        self.last = np.full(1, V, dtype=np.int64)  # V: "no unit", the root's last unit
        self.fus = np.zeros(1)
        self.row_ids = np.array([decoder.partial_info(self.tree.node[0][2])[0]], dtype=np.int64)
        self.tree.pos[1] = 0
        self.blocks: list[np.ndarray] = []  # every accepted block, for the final alignment (word times)

    def accept(self, log_probs: Any) -> None:
        """Advance the beam over a block of frames."""
        decoder, o, tree = self.decoder, self.decoder.options, self.tree
        lp_all = check_log_probs(log_probs, decoder.num_units)
        self.blocks.append(lp_all)
        T, V = lp_all.shape
        kernels.count_frames(T)  # compiled once the process has searched enough to pay for it
        K, blank, prune = int(o.beam_size), int(o.blank), float(o.beam_prune_logp)
        lpx = np.full((T, V + 1), NEG_INF)  # column V: "no unit", the root's last unit
        lpx[:, :V] = lp_all
        proposed = np.zeros((T, V + 1), dtype=bool)
        proposed[:, :V] = lp_all >= o.token_min_logp
        if T:
            proposed[np.arange(T), lp_all.argmax(axis=1)] = True
        proposed[:, blank] = False
        frame_of, cols = np.nonzero(proposed)
        cols = np.ascontiguousarray(cols)  # one compiled signature for `kernels.extend`
        bounds = np.searchsorted(frame_of, np.arange(T + 1)).tolist()
        sep = -1 if decoder.separator is None else decoder.separator
        stride = V + 1
        nodes, par, pb, pnb, last, fus, row_ids = (self.nodes, self.par, self.pb, self.pnb, self.last, self.fus,
                                                   self.row_ids)
        for t in range(T):
            new_pb, new_pnb, scores, kth, cand_entry, cand_unit, cand_e, cand_bound = kernels.extend(
                lpx[t], proposed[t], nodes, par, pb, pnb, last, fus, row_ids, decoder.row_table, tree.pos,
                cols[bounds[t]:bounds[t + 1]], sep, blank, K, prune)
            if not cand_entry.size:  # no prefix can change: the beam stays as it is
                pb, pnb = new_pb, new_pnb
                continue
            if cand_entry.size > K:  # best first, so the loop can stop at the first bound below the K-th score
                order = np.argsort(-cand_bound, kind="stable")
                cand_entry, cand_unit, cand_e, cand_bound = (cand_entry[order], cand_unit[order], cand_e[order],
                                                             cand_bound[order])
            bound_list = cand_bound.tolist()
            e_list = cand_e.tolist()
            node_list = nodes[cand_entry].tolist()
            unit_list = cand_unit.tolist()
            n_before = len(tree.node)
            pos = tree.pos
            kids = tree.kids
            new: list[tuple[int, int, int, float, float, int]] = []  # node, parent, unit, e, fus, row
            new_s: list[float] = []
            for i in range(len(bound_list)):
                if i and i % K == 0:  # tighten the bound with the scores found so far
                    pool = np.concatenate([scores, new_s])
                    if pool.size >= K:
                        kth = max(kth, float(np.partition(pool, -K)[-K]))
                if bound_list[i] <= kth:
                    break
                node, unit, e = node_list[i], unit_list[i], e_list[i]
                entries = kids.get(node * stride + unit)
                if entries is None:
                    entries = tree.expand(node, unit)
                for entry in entries:
                    s = e + entry[0]
                    if s <= kth:
                        continue
                    child = entry[1]
                    if child < 0:
                        child = tree.make(node, unit, entry)
                    elif child < n_before and pos[child + 1] >= 0:
                        continue  # in the beam: merged by `extend`
                    new.append((child, node, unit, e, entry[0], entry[5]))
                    new_s.append(s)
            if not new:
                pb, pnb = new_pb, new_pnb
                continue
            nodes, par, pb, pnb, last, fus, row_ids = kernels.select(
                nodes, par, new_pb, new_pnb, last, fus, row_ids, scores, np.array(new, dtype=np.float64),
                tree.pos, K, prune)
        self.nodes, self.par, self.pb, self.pnb, self.last, self.fus, self.row_ids = (nodes, par, pb, pnb, last,
                                                                                      fus, row_ids)

    def log_probs(self) -> np.ndarray:
        """Every frame accepted so far, (T, V)."""
        if len(self.blocks) == 1:
            return self.blocks[0]
        return np.concatenate(self.blocks) if self.blocks else np.zeros((0, self.decoder.num_units))

    def finish(self) -> list[Hypothesis]:
        """The n-best of the frames accepted so far, best first, with word times (aligned over every frame)."""
        return self.tree.finish(self.nodes, np.logaddexp(self.pb, self.pnb), self.log_probs(), self.decoder.options)

    def best_text(self) -> str:
        """The partial result: the best word sequence if the utterance ended here. Nothing is aligned, so asking
        after every block costs the beam's size, not the stream's length."""
        ranked = self.tree.rank(self.nodes, np.logaddexp(self.pb, self.pnb))
        return " ".join(ranked[0][0]) if ranked else ""


class _WordState(NamedTuple):
    """What a prefix's closed words contribute; shared by every prefix that spells on without closing one."""

    lm_state: tuple
    hw_history: tuple
    word_score: float  # lm_weight * LM + bonuses + penalties of the closed words (cumulative)
    phrase_credit: float  # hotword phrase under way
    lm_ln: float  # unweighted ln P_lm of the closed words
    words: tuple | None  # (word, first node, last node, earlier words) linked list, last word first


class _PrefixTree:
    """The prefixes of one utterance. `node[i]` = (parent, unit, partial, word state, first node of the partial
    word or -1); `partial` is the word spelled so far (str) or, for phones, the pronunciation-trie node. Numpy
    `pos[i + 1]` is its beam position (-1: out). `kids[node * (V+1) + unit]` caches the would-be children by
    unit (phone units may close one of several homophones there, so a unit can give several)."""

    def __init__(self, decoder: CTCDecoder) -> None:
        self.d = decoder
        self.stride = decoder.num_units + 1
        cap = 1024
        self.pos = np.full(cap + 1, -1, dtype=np.int64)
        self.node: list[tuple[int, int, Any, _WordState, int]] = []
        self.kids: dict[int, list[list]] = {}
        start = decoder.lm.begin() if decoder.lm is not None else ()
        root_partial = PronunciationTrie.ROOT if decoder.kind == "phone" else ""
        self._add(-1, -1, root_partial, _WordState(start, (), 0.0, 0.0, 0.0, None), -1)

    def _add(self, parent: int, unit: int, partial: Any, ws: _WordState, word_first: int) -> int:
        """A new node; word_first -2 means "this node starts the word"."""
        i = len(self.node)
        if i + 1 >= self.pos.size:
            grow = self.pos.size
            self.pos = np.concatenate([self.pos, np.full(grow, -1, dtype=np.int64)])
        self.node.append((parent, unit, partial, ws, i if word_first == -2 else word_first))
        return i

    def _entry(self, partial: Any, ws: _WordState | None, word_first: int) -> list | None:
        """A would-be child: [LM/bonus terms, node id (-1 until made), partial, word state, word_first, row]."""
        if ws is None:  # closes a word the lexicon does not have
            return None
        info = self.d.partials.get(partial) or self.d.partial_info(partial)
        return [ws.word_score + ws.phrase_credit + info[1], -1, partial, ws, word_first, info[0]]

    def expand(self, node: int, unit: int) -> list[list]:
        """The would-be children of `node` by `unit` (none where the lexicon forbids it), cached in `kids`.
        A child is made (`make`) only once its score can enter the beam, so a hopeless prefix costs one cached
        score, not a node."""
        d = self.d
        _, _, partial, ws, first = self.node[node]
        prefixes = d.lexicon_prefixes
        entries: list[list | None] = []
        if d.kind == "phone":
            trie = d.trie
            nxt = trie.children[partial].get(unit)
            if nxt is not None:
                entries.append(self._entry(nxt, ws, -2 if partial == trie.ROOT else first))
            if partial != trie.ROOT and trie.words[partial]:
                start = trie.children[trie.ROOT].get(unit)
                if start is not None:
                    entries.extend(self._entry(start, self._closed(ws, w, first, node), -2)
                                   for w in trie.words[partial])
        elif unit == d.separator:
            if partial:
                entries.append(self._entry("", self._closed(ws, partial, first, node), -1))
            else:  # only after an unknown unit, which spells nothing: no word to close
                entries.append(self._entry("", ws, -1))
        elif d.starts_word[unit]:
            piece = d.pieces[unit]
            if not piece or prefixes is None or piece in prefixes:
                entries.append(self._entry(piece, self._closed(ws, partial, first, node) if partial else ws, -2))
        else:
            spelled = partial + d.pieces[unit]
            if prefixes is None or spelled in prefixes:
                entries.append(self._entry(spelled, ws, -2 if first < 0 else first))
        result = [e for e in entries if e is not None]
        self.kids[node * self.stride + unit] = result
        return result

    def make(self, node: int, unit: int, entry: list) -> int:
        """Make the child that `entry` (from `expand`) describes."""
        entry[1] = self._add(node, unit, entry[2], entry[3], entry[4])
        return entry[1]

    def _closed(self, ws: _WordState, word: str, first: int, last: int) -> _WordState | None:
        """The word state after closing `word` (spelled from node `first` to `last`); None if not allowed."""
        done = self.d.close_word(ws.lm_state, ws.hw_history, word)
        if done is None:
            return None
        gain, ln_p, lm_state, credit, history = done
        return _WordState(lm_state, history, ws.word_score + gain, credit, ws.lm_ln + ln_p,
                          (word, first, last, ws.words))

    # --- end of utterance ---------------------------------------------------------------------------------

    def _final_variants(self, node: int) -> list[tuple[float, _WordState]]:
        """Ways to end the utterance at `node`: (final LM/bonus terms, word state with the last word closed)."""
        d = self.d
        _, _, partial, ws, first = self.node[node]
        if d.kind == "phone":
            ends = [None] if partial == PronunciationTrie.ROOT else list(d.trie.words[partial])
        else:
            ends = [partial] if partial else [None]
        variants = []
        for word in ends:
            final = ws if word is None else self._closed(ws, word, first, node)
            if final is None:
                continue
            score = final.word_score + final.phrase_credit
            if d.lm is not None and d.options.score_eos:
                ln_eos, _ = d.lm.score(final.lm_state, "</s>")
                score += d.options.lm_weight * ln_eos
                final = final._replace(lm_ln=final.lm_ln + ln_eos)
            variants.append((score, final))
        return variants

    @staticmethod
    def _words(ws: _WordState) -> list[tuple[str, int, int]]:
        words = []
        link = ws.words
        while link is not None:
            words.append(link[:3])
            link = link[3]
        return words[::-1]

    def _path(self, node: int) -> list[int]:
        """The nodes from the first unit to `node`."""
        path = []
        while node > 0:
            path.append(node)
            node = self.node[node][0]
        return path[::-1]

    def finish(self, nodes: np.ndarray, acoustic: np.ndarray, lp: np.ndarray,
               options: DecodeOptions) -> list[Hypothesis]:
        """Close the last words, add the end-of-sentence score, merge equal word sequences, rank, align."""
        hyps = []
        for key, (ac, fusion, ln_p, node, words) in self.rank(nodes, acoustic)[:options.nbest]:
            path = self._path(node)
            units = [self.node[n][1] for n in path]
            start, end = kernels.align(lp, np.asarray(units, dtype=np.int64), options.blank)
            index = {n: i for i, n in enumerate(path)}
            timings = [WordTiming(w, int(start[index[first]]), int(end[index[last]])) for w, first, last in words]
            hyps.append(Hypothesis(text=" ".join(key), tokens=units, score=ac + fusion,
                                   acoustic_score=ac, lm_score=ln_p, words=timings))
        if not hyps:  # nothing ended in a lexicon word: report the empty result rather than fail
            hyps.append(Hypothesis(text="", tokens=[], score=NEG_INF, acoustic_score=NEG_INF, lm_score=0.0,
                                   words=[]))
        return hyps

    def rank(self, nodes: np.ndarray, acoustic: np.ndarray) -> list[tuple[tuple[str, ...], list]]:
        """The beam's word sequences, best first: (words, [acoustic, LM/bonus terms, ln P_LM, node, timed words])
        after closing the last words and merging equal word sequences; no alignment, so it is cheap."""
        groups: dict[tuple[str, ...], list] = {}
        for node, ac in zip(nodes.tolist(), acoustic.tolist()):
            for fusion, final in self._final_variants(node):
                words = self._words(final)
                key = tuple(w for w, _, _ in words)
                entry = groups.get(key)
                if entry is None:
                    groups[key] = [ac, fusion, final.lm_ln, node, words]
                else:  # same words by another unit sequence ("A|" and "A"): their probabilities add
                    if ac + fusion > entry[0] + entry[1]:
                        entry[1:] = [fusion, final.lm_ln, node, words]
                    entry[0] = float(np.logaddexp(entry[0], ac))
        return sorted(groups.items(), key=lambda kv: kv[1][0] + kv[1][1], reverse=True)


def prefix_beam_search(log_probs: Any, tokenizer: Any, *, lm: Any = None, lexicon: Any = None,
                       hotwords: Iterable[str] | None = None, options: DecodeOptions | None = None,
                       **overrides: Any) -> list[Hypothesis]:
    """Decode one utterance; `overrides` are DecodeOptions fields (beam_size=, lm_weight=, word_bonus=, ...).
    To decode many utterances, build one `CTCDecoder` and call `.decode` (its LM/lexicon work is reused)."""
    decoder = CTCDecoder(tokenizer, lm=lm, lexicon=lexicon, hotwords=hotwords, options=options, **overrides)
    return decoder.decode(log_probs)

