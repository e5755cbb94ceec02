"""CTC decoding: greedy search and prefix beam search with N-gram shallow fusion, lexicon, hotwords, timings."""

from asr.decoding.ctc import (CTCDecoder, Hypothesis, WordTiming, check_log_probs, greedy_search,
                              prefix_beam_search)
from asr.decoding.hotwords import HotwordScorer
from asr.decoding.lexicon import PronunciationTrie, word_prefixes
from asr.decoding.options import DecodeOptions

__all__ = ["CTCDecoder", "DecodeOptions", "Hypothesis", "HotwordScorer", "PronunciationTrie", "WordTiming",
           "check_log_probs", "greedy_search", "prefix_beam_search", "word_prefixes"]
