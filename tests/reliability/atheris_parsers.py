"""Coverage-guided fuzzing (atheris / libFuzzer) of asr's file parsers: every input must parse or raise AsrError.

    python tests/reliability/atheris_parsers.py -runs=200000 -max_len=2048     # a long local run
    python tests/reliability/atheris_parsers.py CORPUS_DIR                     # keep what it learns

The first byte picks the parser, the rest is the file. Anything but AsrError is a crash (libFuzzer stops and
prints the input). test_atheris.py runs a short session in CI when atheris is installed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["asr"]):
    from asr.config import build_config, read_config_file
    from asr.errors import AsrError
    from asr.features import make_options
    from asr.kaldi_io import read_ark, read_htk, read_matrix, scan_kaldi_map
    from asr.lm import read_arpa
    from asr.training.config import TrainConfig
    from asr.units import load_tokenizer
    from asr.units.phone import read_lexicon
    from asr.units.tokenizer import read_tokens

WORK = Path(tempfile.mkdtemp(prefix="asr-atheris-"))
LANG = WORK / "lang"
LANG.mkdir()
(LANG / "units.yaml").write_text("kind: char\nnum_tokens: 5\noptions: {}\n")
(LANG / "tokens.txt").write_text("<blk> 0\n<unk> 1\n| 2\na 3\nb 4\n")


def _file(name: str, data: bytes) -> Path:
    path = WORK / name
    path.write_bytes(data)
    return path


def _lang(name: str, data: bytes) -> None:
    (LANG / name).write_bytes(data)
    try:
        load_tokenizer(LANG)
    finally:
        (LANG / "units.yaml").write_text("kind: char\nnum_tokens: 5\noptions: {}\n")
        (LANG / "tokens.txt").write_text("<blk> 0\n<unk> 1\n| 2\na 3\nb 4\n")


PARSERS = [
    lambda d: build_config(TrainConfig, _file("c.yaml", d)),
    lambda d: build_config(TrainConfig, _file("c.conf", d)),
    lambda d: make_options("mfcc", path=_file("m.conf", d)),
    lambda d: make_options("fbank", path=_file("f.yaml", d)),
    lambda d: make_options("mfcc", path=_file("l.yaml", d), flavor="librosa"),
    lambda d: read_config_file(_file("r.yml", d)),
    lambda d: read_tokens(_file("tokens.txt", d)),
    lambda d: read_lexicon(_file("lexicon.txt", d)),
    lambda d: _lang("units.yaml", d),
    lambda d: _lang("tokens.txt", d),
    lambda d: read_arpa(_file("lm.arpa", d)),
    lambda d: list(read_ark(_file("x.ark", d))),
    lambda d: read_matrix(f"{_file('y.ark', d)}:0"),
    lambda d: read_htk(_file("z.htk", d)),
    lambda d: scan_kaldi_map(_file("text", d), is_text=True),
]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    try:
        PARSERS[data[0] % len(PARSERS)](data[1:])
    except AsrError:
        pass


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
