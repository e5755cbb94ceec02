"""Subword units: a sentencepiece model (unigram or BPE) trained on the training transcripts.

The model is trained so its own ids are ours: `<blk>` is sentencepiece's pad piece at id 0 (a control symbol it
never emits), `<unk>` is id 1, and there are no BOS/EOS pieces. tokens.txt therefore lists the model's pieces in
its id order; training is single-threaded on the full text, so the same text gives the same ids on every run.
"""

from __future__ import annotations

import dataclasses
import io
import logging
from pathlib import Path
from typing import Any, Iterable, Literal

from asr.errors import AsrError
from asr.fileio import atomic_write
from asr.units.tokenizer import BLANK, BPE_MODEL_FILE, UNK, Tokenizer

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class BpeOptions:
    vocab_size: int = 500  # units including <blk> and <unk>
    model_type: Literal["unigram", "bpe"] = "unigram"
    character_coverage: float = 1.0  # fraction of characters covered; the rest become <unk>


class BpeTokenizer(Tokenizer):
    """Words split into sentencepiece pieces ("▁THE", "RE", ...), `▁` marking a word start; `<unk>` decodes to
    nothing."""

    kind = "bpe"
    options_class = BpeOptions

    def __init__(self, model_proto: bytes, options: BpeOptions) -> None:
        import sentencepiece

        self.model_proto = model_proto
        self.processor = sentencepiece.SentencePieceProcessor(model_proto=model_proto)
        pieces = [self.processor.id_to_piece(i) for i in range(self.processor.get_piece_size())]
        if pieces[:2] != [BLANK, UNK]:
            raise AsrError(f"the sentencepiece model starts {pieces[:2]}, not [{BLANK!r}, {UNK!r}]; "
                           f"train it with `asr units train --type bpe`")
        super().__init__(pieces, options)
        self.unk_id = 1

    @classmethod
    def train(cls, texts: Iterable[str], options: BpeOptions | None = None) -> "BpeTokenizer":
        """Train sentencepiece on `texts` (one transcript each)."""
        import sentencepiece

        options = options or BpeOptions()
        sentences = [" ".join(t.split()) for t in texts]
        sentences = [s for s in sentences if s]
        if not sentences:
            raise AsrError("the training text has no words; check the text file")
        model = io.BytesIO()
        try:
            sentencepiece.SentencePieceTrainer.train(
                sentence_iterator=iter(sentences), model_writer=model, vocab_size=options.vocab_size,
                model_type=options.model_type, character_coverage=options.character_coverage,
                pad_id=0, pad_piece=BLANK, unk_id=1, unk_piece=UNK, bos_id=-1, eos_id=-1,
                input_sentence_size=0, shuffle_input_sentence=False, num_threads=1, minloglevel=2)
        except RuntimeError as e:
            # e.g. "Vocabulary size too high (500). Please set it to a value <= 73."
            reason = str(e).splitlines()[-1].rsplit("] ", 1)[-1].rstrip(".")
            raise AsrError(f"sentencepiece could not train {options.vocab_size} units on {len(sentences)} "
                           f"sentences: {reason}; choose a --vocab-size the text supports") from None
        return cls(model.getvalue(), options)

    def encode(self, text: str) -> list[int]:
        return self.processor.encode(" ".join(text.split()), out_type=int)

    def decode(self, ids: Iterable[int]) -> str:
        return " ".join(self.processor.decode([i for i in self._check_ids(ids) if i != self.unk_id]).split())

    def _save_model(self, lang_dir: Path) -> None:
        with atomic_write(lang_dir / BPE_MODEL_FILE, "wb") as f:
            f.write(self.model_proto)

    @classmethod
    def load(cls, lang_dir: Path, tokens: list[str], options: Any) -> "BpeTokenizer":
        path = lang_dir / BPE_MODEL_FILE
        try:
            proto = path.read_bytes()
        except OSError as e:
            raise AsrError(f"{path}: cannot read ({e.strerror}); rerun `asr units train --type bpe`") from None
        try:
            tokenizer = cls(proto, options)
        except RuntimeError:
            raise AsrError(f"{path}: not a sentencepiece model; rerun `asr units train --type bpe`") from None
        if tokenizer.tokens != tokens:
            raise AsrError(f"{lang_dir / 'tokens.txt'} does not match {path}; rerun `asr units train --type bpe`")
        return tokenizer
