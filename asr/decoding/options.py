"""Every tunable of CTC decoding, in one dataclass whose field defaults are THE named defaults.

Scores are natural logs: the search ranks a prefix by
    ln P_ctc(prefix | x) + lm_weight * ln P_lm(words) + word_bonus * len(words)
    + unk_penalty * (out-of-vocabulary words) + hotword bonuses.
The LM defaults (0.5, 1.5, -10) and the pruning defaults (-5, -10) are pyctcdecode's, so the two decoders can be
compared with the same settings and tuned values carry over.
"""

from __future__ import annotations

import dataclasses

from asr.errors import AsrError


@dataclasses.dataclass
class DecodeOptions:
    beam_size: int = 32  # prefixes kept after each frame
    nbest: int = 1  # hypotheses returned, best first
    token_min_logp: float = -5.0  # a frame proposes only units with log-prob >= this (plus its best unit)
    beam_prune_logp: float = -10.0  # drop prefixes scoring this far below the frame's best prefix
    lm_weight: float = 0.5  # alpha: weight of the word LM's natural-log probability
    word_bonus: float = 1.5  # beta: added per word when an LM is used (balances the LM's per-word cost)
    unk_penalty: float = -10.0  # added per word outside the LM vocabulary, and to partial words no LM word starts
    score_eos: bool = True  # add lm_weight * ln P(</s> | last words) when the utterance ends
    lexicon_constraint: bool = False  # char/bpe: only words of the lexicon (prefixes while spelling them)
    hotword_weight: float = 10.0  # bonus per hotword word matched (partial words get a share by length)
    blank: int = 0  # id of the CTC blank

    def __post_init__(self) -> None:
        if self.beam_size < 1:
            raise AsrError(f"beam_size must be at least 1, got {self.beam_size}; pass e.g. --beam-size 32")
        if self.nbest < 1:
            raise AsrError(f"nbest must be at least 1, got {self.nbest}")
