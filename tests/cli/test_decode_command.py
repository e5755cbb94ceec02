"""`asr decode`: the decode directory a user gets, compute-wer's line on stdout, one-line errors with exit 1.

(Named test_decode_command.py: tests/test_decode.py holds the library tests, and pytest needs distinct names.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from asr_cli import run_main as run
from asr.datadir import DataDir, write_data_dir
from asr.kaldi_io import read_kaldi_map
from asr.lm import train_ngram, write_arpa
from tone_model import build_tone_model_dir, spell, synthesize, write_wav

REPO = Path(__file__).resolve().parents[2]
TEXTS = {"a-1": "ab ba", "a-2": "cd dc ab", "b-3": "d c"}


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("decode_cli")
    model_dir = build_tone_model_dir(root / "exp" / "tone")
    wavs = {k: str(write_wav(root / f"{k}.wav", synthesize(model_dir, spell(model_dir, t), seed=i)))
            for i, (k, t) in enumerate(TEXTS.items())}
    write_data_dir(root / "data" / "test", DataDir(wav_scp=wavs, text=dict(TEXTS),
                                                   utt2spk={k: k.split("-")[0] for k in TEXTS}))
    return model_dir, root / "data" / "test"


def test_decode_writes_the_decode_dir_and_prints_the_wer(setup, tmp_path, capsys):
    model_dir, data = setup
    lm = tmp_path / "lm.arpa"
    write_arpa(train_ngram([t.split() for t in TEXTS.values()], order=2, smoothing="kneser_ney"), lm)
    code = run(["decode", "--model", str(model_dir), "--lm", str(lm), "--lm-weight", "0.8", "--beam-size", "8",
                "--nbest", "2", "--nj", "2", "--device", "cpu", "--config", str(REPO / "conf" / "decode.yaml"),
                "--no-progress", str(data)])
    out_dir = model_dir / "decode_test"
    assert code == 0
    assert capsys.readouterr().out == f"%WER 0.00 [ 0 / 7, 0 ins, 0 del, 0 sub ] {out_dir}\n"
    assert read_kaldi_map(out_dir / "text", is_text=True) == TEXTS
    assert (out_dir / "wer").read_text().startswith("%WER 0.00 [ 0 / 7, 0 ins, 0 del, 0 sub ]\n")
    assert len(read_kaldi_map(out_dir / "nbest", is_text=True)) == 2 * len(TEXTS)
    assert "beam_size: 8\n" in (out_dir / "decode.yaml").read_text()
    assert "lm_weight: 0.8\n" in (out_dir / "decode.yaml").read_text()
    ctm = [line.split() for line in (out_dir / "ctm").read_text().splitlines()]
    assert [row[4] for row in ctm] == " ".join(TEXTS[k] for k in sorted(TEXTS)).split()

    assert run(["decode", "--model", str(model_dir), "--greedy", "--device", "cpu", "--out", str(tmp_path / "g"),
                "--no-progress", str(data)]) == 0
    assert capsys.readouterr().out.startswith("%WER 0.00 ")
    assert (tmp_path / "g" / "text").read_text() == (out_dir / "text").read_text()


def _one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("asr: error: "), captured.err
    return err[0]


def test_bad_input_is_one_line_naming_the_file(setup, tmp_path, capsys):
    model_dir, data = setup
    base = ["-q", "decode", "--device", "cpu", "--no-progress", "--out", str(tmp_path / "out")]

    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken, ignore=shutil.ignore_patterns("decode_*"))
    (broken / "model.pt").unlink()
    assert run(base + ["--model", str(broken), str(data)]) == 1
    assert f"{broken / 'model.pt'}: missing" in _one_line_error(capsys)

    lm = tmp_path / "bad.arpa"
    lm.write_text("\\data\\\nngram 1=3\n\n\\1-grams:\n-1.0 a\nnot-a-number b\n\\end\\\n")
    assert run(base + ["--model", str(model_dir), "--lm", str(lm), str(data)]) == 1
    assert f"{lm}:" in _one_line_error(capsys)

    other = build_tone_model_dir(tmp_path / "other", texts=("abcdefg",), toned=("a",))
    capsys.readouterr()
    assert run(base + ["--model", str(model_dir), "--lang", str(other / "lang"), str(data)]) == 1
    assert f"{other / 'lang' / 'tokens.txt'}: 10 units, but the model outputs 7" in _one_line_error(capsys)

    empty = write_wav(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32))
    write_data_dir(tmp_path / "empty_data", DataDir(wav_scp={"u": str(empty)}))
    assert run(base + ["--model", str(model_dir), str(tmp_path / "empty_data")]) == 1
    assert f"{empty}: contains no samples" in _one_line_error(capsys)

    conf = tmp_path / "decode.yaml"
    conf.write_text("beam_size: 8\nbeam_width: 3\n")
    assert run(base + ["--model", str(model_dir), "--config", str(conf), str(data)]) == 1
    assert f"{conf}: unknown decoding option(s) beam_width" in _one_line_error(capsys)

    assert run(base + ["--model", str(model_dir), "--beam-size", "0", str(data)]) == 1
    assert "beam_size must be at least 1" in _one_line_error(capsys)


@pytest.mark.parametrize("with_utt2dur", [False, True])  # fails while sizing the batches / while loading audio
def test_skip_errors_decodes_the_readable_utterances_and_lists_the_others(setup, tmp_path, capsys, with_utt2dur):
    model_dir, data = setup
    broken = tmp_path / "data"
    shutil.copytree(data, broken)
    wav_scp = read_kaldi_map(broken / "wav.scp")
    missing = tmp_path / "gone.wav"
    (broken / "wav.scp").write_text("".join(f"{k} {missing if k == 'a-2' else v}\n" for k, v in wav_scp.items()))
    if with_utt2dur:
        (broken / "utt2dur").write_text("".join(f"{k} 1.0\n" for k in sorted(wav_scp)))
    out = tmp_path / "out"
    base = ["decode", "--model", str(model_dir), "--device", "cpu", "--no-progress", "--out", str(out), str(broken)]
    assert run(base) == 1
    assert str(missing) in _one_line_error(capsys) and not out.exists()

    assert run([*base, "--skip-errors"]) == 0
    summary = capsys.readouterr().out  # a-2's 3 reference words count as deletions
    assert summary == f"%WER 42.86 [ 3 / 7, 0 ins, 3 del, 0 sub ] {out} (1 unreadable utterances skipped, listed in " \
                      f"failed)\n"
    assert read_kaldi_map(out / "text", is_text=True) == {k: v for k, v in TEXTS.items() if k != "a-2"}
    assert list(read_kaldi_map(out / "failed", is_text=True)) == ["a-2"]
    assert str(missing) in (out / "failed").read_text()
