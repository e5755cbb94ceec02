"""Damaged inputs of every parser, through the real CLI: model directories (`asr decode`, `asr transcribe`),
config files (`--config` of features, train and decode), ARPA files (`asr decode --lm`, `asr lm ppl`) and
ark/scp files (`asr features info`, `asr features cmvn compute`). Each gives exit 1 and one `asr: error:` line
naming the damaged file. Missing model-dir files are covered in tests/test_decode.py; the library parsers are
fuzzed in test_fuzz_parsers.py and by their owners (ARPA, ark, maps)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import yaml

from asr.datadir import DataDir, write_data_dir
from asr.kaldi_io import ArkWriter
from reliability_cli import run_main, write_tone
from tone_model import build_tone_model_dir, spell, synthesize, write_wav

TEXTS = {"a-1": "ab ba", "a-2": "cd dc ab"}


@pytest.fixture(scope="module")
def tone(tmp_path_factory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("parsers")
    model = build_tone_model_dir(root / "exp")
    wavs = {k: write_wav(root / f"{k}.wav", synthesize(model, spell(model, t), seed=i))
            for i, (k, t) in enumerate(TEXTS.items())}
    write_data_dir(root / "data", DataDir(wav_scp={k: str(v) for k, v in wavs.items()}, text=dict(TEXTS),
                                          utt2spk={k: k.split("-")[0] for k in TEXTS}))
    return model, root / "data", wavs["a-1"]


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("asr: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _yaml_edit(name: str, edit: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(model: Path) -> None:
        data = yaml.safe_load((model / name).read_text())
        (model / name).write_text(yaml.safe_dump(edit(data)))
    return damage


def _set(key: str, value) -> Callable[[dict], dict]:
    return lambda d: {**d, key: value}


def _truncate(name: str, fraction: float) -> Callable[[Path], None]:
    def damage(model: Path) -> None:
        data = (model / name).read_bytes()
        (model / name).write_bytes(data[:int(len(data) * fraction)])
    return damage


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda model: (model / name).write_bytes(data)


def _replace_with_dir(name: str) -> Callable[[Path], None]:
    def damage(model: Path) -> None:
        (model / name).unlink()
        (model / name).mkdir()
    return damage


def _other_architecture(model: Path) -> None:
    """config.yaml of a bigger network than the weights in model.pt."""
    _yaml_edit("config.yaml", _set("hidden_size", 32))(model)


def _tokens_duplicated(model: Path) -> None:
    path = model / "lang" / "tokens.txt"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [f"{lines[-1].split()[0]} {len(lines)}"]) + "\n")


def _cmvn_wrong_shape(model: Path) -> None:
    with ArkWriter(model / "cmvn.ark") as writer:
        writer.write("global", np.ones((2, 5)))


# case -> (damage, file the error must name)
MODEL_DIR_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "model.pt-truncated-half": (_truncate("model.pt", 0.5), "model.pt"),
    "model.pt-truncated-header": (_truncate("model.pt", 0.01), "model.pt"),
    "model.pt-empty": (_write("model.pt", b""), "model.pt"),
    "model.pt-random-bytes": (_write("model.pt", np.random.default_rng(0).bytes(5000)), "model.pt"),
    "model.pt-a-directory": (_replace_with_dir("model.pt"), "model.pt"),
    "model.pt-a-yaml-file": (_write("model.pt", b"weights: 1\n"), "model.pt"),
    "config-other-architecture": (_other_architecture, "model.pt"),
    "config-wrong-type": (_yaml_edit("config.yaml", _set("hidden_size", "large")), "config.yaml"),
    "config-unknown-model": (_yaml_edit("config.yaml", _set("model", "transformer")), "config.yaml"),
    "config-invalid-value": (_yaml_edit("config.yaml", _set("num_layers", 0)), "config.yaml"),
    "config-not-a-mapping": (_write("config.yaml", b"- rnn\n- lstm\n"), "config.yaml"),
    "config-bad-yaml": (_write("config.yaml", b"model: [rnn\n"), "config.yaml"),
    "config-non-utf8": (_write("config.yaml", b"model: rnn\xff\n"), "config.yaml"),
    "config-python-tag": (_write("config.yaml", b"model: !!python/object/apply:os.getcwd []\n"), "config.yaml"),
    "features-wrong-dim-type": (_yaml_edit("features.yaml", _set("dim", "twenty")), "features.yaml"),
    "features-options-a-list": (_yaml_edit("features.yaml", _set("options", [1, 2])), "features.yaml"),
    "features-unknown-kind": (_yaml_edit("features.yaml", _set("kind", "wavelets")), "features.yaml"),
    "features-unknown-option": (_yaml_edit("features.yaml",
                                           lambda d: {**d, "options": {**d["options"], "n_fft": 4}}), "features.yaml"),
    "features-negative-seed": (_yaml_edit("features.yaml",
                                          lambda d: {**d, "options": {**d["options"], "seed": -3}}), "features.yaml"),
    "features-dim-mismatch": (_yaml_edit("features.yaml", _set("dim", 40)), "cmvn.ark"),
    "features-empty": (_write("features.yaml", b""), "features.yaml"),
    "cmvn-truncated": (_truncate("cmvn.ark", 0.6), "cmvn.ark"),
    "cmvn-wrong-shape": (_cmvn_wrong_shape, "cmvn.ark"),
    "units-unknown-kind": (_yaml_edit("lang/units.yaml", _set("kind", "words")), "units.yaml"),
    "units-options-a-string": (_yaml_edit("lang/units.yaml", _set("options", "fast")), "units.yaml"),
    "tokens-duplicated-unit": (_tokens_duplicated, "tokens.txt"),
    "tokens-non-ascii-digit": (_write("lang/tokens.txt", "<blk> 0\n<unk> ١\n".encode()), "tokens.txt"),
    "tokens-empty": (_write("lang/tokens.txt", b""), "tokens.txt"),
}


@pytest.mark.parametrize("command", ["decode", "transcribe"])
@pytest.mark.parametrize("case", sorted(MODEL_DIR_CASES))
def test_damaged_model_dir(tone, tmp_path, capsys, case: str, command: str) -> None:
    model, data, wav = tone
    broken = Path(shutil.copytree(model, tmp_path / "exp"))
    damage, named = MODEL_DIR_CASES[case]
    damage(broken)
    argv = (["decode", "--model", broken, "--out", tmp_path / "dec", "--no-progress", data]
            if command == "decode" else ["transcribe", "--model", broken, "--no-progress", wav])
    assert run_main(argv) == 1
    line = error_line(capsys)
    assert str(broken) in line and named in line, line
    assert not (tmp_path / "dec" / "text").exists()


def test_config_keys_the_network_does_not_use_are_left_to_training(tone, tmp_path) -> None:
    """Inference rebuilds the network from config.yaml's network fields only (it never imports training, whose
    TrainConfig knows the rest): a key it does not know decodes as before, and a network it cannot build fails
    on the weights (config-other-architecture above)."""
    model, data, _ = tone
    extra = Path(shutil.copytree(model, tmp_path / "exp"))
    _yaml_edit("config.yaml", _set("attention_heads", 4))(extra)
    for exp, out in ((model, tmp_path / "a"), (extra, tmp_path / "b")):
        assert run_main(["decode", "--model", exp, "--out", out, "--no-progress", data]) == 0
    assert (tmp_path / "a" / "text").read_text() == (tmp_path / "b" / "text").read_text()


# ------------------------------------------------------------------------------------------ --config files
CONFIG_CASES: dict[str, tuple[str, bytes, str]] = {  # case -> (file name, bytes, words of the error)
    "yaml-syntax": ("c.yaml", b"num_ceps: [13\n", "invalid YAML"),
    "yaml-list": ("c.yaml", b"- 13\n", "mapping"),
    "yaml-unknown-key": ("c.yaml", b"no_such_option: 1\n", "no_such_option"),
    "yaml-wrong-type": ("c.yaml", b"seed: many\n", "seed"),
    "yaml-nan": ("c.yaml", b"frame_shift: .nan\nframe_length: .nan\nlr: .nan\nbeam_size: .nan\n", "nan"),
    "yaml-non-utf8": ("c.yaml", b"seed: 1 # \xe9\n", "c.yaml"),
    "yaml-python-tag": ("c.yaml", b"seed: !!python/object/apply:os.getcwd []\n", "invalid YAML"),
    "conf-no-dashes": ("c.conf", b"num-ceps=13\n", "expected a line like --name=value"),
    "conf-no-value": ("c.conf", b"--num-ceps\n", "expected a line like --name=value"),
    "conf-bom": ("c.conf", b"\xef\xbb\xbf--seed=1\n", "c.conf"),
    "conf-non-utf8": ("c.conf", b"--seed=1\xff\n", "c.conf"),
    "conf-inf": ("c.conf", b"--frame-length=inf\n--hidden-size=inf\n--beam-size=inf\n", "inf"),
    "conf-huge": ("c.conf", b"--num-mel-bins=1000000000\n--num-layers=0\n--beam-size=0\n", "="),
}


@pytest.mark.parametrize("command", ["features", "train", "decode"])
@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_bad_config_files(tone, tmp_path, capsys, case: str, command: str) -> None:
    model, data, _ = tone
    name, content, words = CONFIG_CASES[case]
    config = tmp_path / name
    config.write_bytes(content)
    if command == "features":
        argv = ["features", "mfcc", "--config", config, "--no-progress", data, "-o", tmp_path / "feats"]
    elif command == "train":
        argv = ["train", "--config", config, "--train", data, "--lang", model / "lang", "--out", tmp_path / "exp",
                "--no-progress"]
    else:
        argv = ["decode", "--model", model, "--config", config, "--out", tmp_path / "dec", "--no-progress", data]
    assert run_main(argv) == 1
    line = error_line(capsys)
    assert str(config) in line or "=" in line, line  # the file, or the option=value at fault
    if case not in ("yaml-nan", "conf-inf", "conf-huge"):  # those mix keys of several commands
        assert words in line, line
    assert not (tmp_path / "exp" / "model.pt").exists() and not (tmp_path / "dec").exists()


# ------------------------------------------------------------------------------------------ ARPA files
GOOD_ARPA = ("\\data\\\nngram 1=6\nngram 2=2\n\n\\1-grams:\n-0.7 </s>\n-99 <s> -0.3\n-0.7 <unk>\n-0.7 ab -0.2\n"
             "-0.7 ba -0.2\n-0.7 cd -0.2\n\n\\2-grams:\n-0.3 <s> ab\n-0.3 ab ba\n\n\\end\\\n")
ARPA_CASES: dict[str, bytes] = {
    "empty": b"",
    "truncated": GOOD_ARPA.encode()[:len(GOOD_ARPA) // 2],
    "no-end": GOOD_ARPA.replace("\\end\\\n", "").encode(),
    "binary": np.random.default_rng(3).bytes(3000),
    "gzip-garbage.gz": b"\x1f\x8b\x08\x00garbage",
    "gzip-truncated.gz": gzip.compress(GOOD_ARPA.encode())[:40],
    "nan-probability": GOOD_ARPA.replace("-0.7 ab", "nan ab").encode(),
    "kenlm-binary": b"mmap lm http://kheafield.com/code format version 5\n\0\0\0" + bytes(100),
}


def test_the_good_arpa_decodes(tone, tmp_path, capsys) -> None:
    model, data, _ = tone
    (tmp_path / "lm.arpa").write_text(GOOD_ARPA)
    assert run_main(["decode", "--model", model, "--lm", tmp_path / "lm.arpa", "--out", tmp_path / "dec",
                     "--no-progress", data]) == 0


@pytest.mark.parametrize("case", sorted(ARPA_CASES))
def test_bad_arpa_files(tone, tmp_path, capsys, case: str) -> None:
    model, data, wav = tone
    lm = tmp_path / (case if case.endswith(".gz") else f"{case}.arpa")
    lm.write_bytes(ARPA_CASES[case])
    for argv in (["decode", "--model", model, "--lm", lm, "--out", tmp_path / "dec", "--no-progress", data],
                 ["transcribe", "--model", model, "--lm", lm, "--no-progress", wav],
                 ["lm", "ppl", "--lm", lm, data / "text"]):
        assert run_main(argv) == 1
        assert str(lm) in error_line(capsys)


# ------------------------------------------------------------------------------------------ ark / scp
def _feats_dir(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    data.mkdir()
    with ArkWriter(data / "feats.ark", data / "feats.scp") as writer:
        for key in ("s-1", "s-2"):
            writer.write(key, np.random.default_rng(0).normal(size=(30, 13)).astype(np.float32))
    (data / "utt2spk").write_text("s-1 s\ns-2 s\n")
    return data, data / "feats.ark"


ARK_CASES: dict[str, Callable[[Path, Path], Path]] = {
    "ark-truncated": lambda data, ark: ark.write_bytes(ark.read_bytes()[:-100]) and ark,
    "ark-missing": lambda data, ark: ark.unlink() or ark,
    "ark-random-bytes": lambda data, ark: ark.write_bytes(np.random.default_rng(1).bytes(ark.stat().st_size))
    and ark,
    "scp-wrong-offset": lambda data, ark: (data / "feats.scp").write_text(
        (data / "feats.scp").read_text().replace(".ark:", ".ark:1", 1)) and ark,
    "scp-no-offset-into-multi-ark": lambda data, ark: (data / "feats.scp").write_text(
        f"s-1 {ark}\ns-2 {ark}\n") and ark,
    "scp-names-a-text-file": lambda data, ark: (data / "feats.scp").write_text(
        f"s-1 {data / 'utt2spk'}:0\ns-2 {data / 'utt2spk'}:3\n") and data / "utt2spk",
    "scp-huge-offset": lambda data, ark: (data / "feats.scp").write_text(
        f"s-1 {ark}:99999999999\ns-2 {ark}:5\n") and ark,
    "scp-crlf": lambda data, ark: (data / "feats.scp").write_bytes(
        (data / "feats.scp").read_bytes().replace(b"\n", b"\r\n")) and data / "feats.scp",
}


@pytest.mark.parametrize("case", sorted(ARK_CASES))
def test_bad_ark_and_scp_files(tmp_path, capsys, case: str) -> None:
    data, ark = _feats_dir(tmp_path)
    named = ARK_CASES[case](data, ark)
    for argv in (["features", "info", data], ["features", "cmvn", "compute", data],
                 ["features", "deltas", data / "feats.scp", "-o", tmp_path / "d.ark"]):
        assert run_main(argv) == 1, argv
        line = error_line(capsys)
        assert str(named) in line, (argv, line)
    assert not (data / "cmvn.scp").exists() and not (tmp_path / "d.ark").exists()


def test_the_undamaged_feats_read(tmp_path, capsys) -> None:
    data, _ = _feats_dir(tmp_path)
    assert run_main(["features", "info", data]) == 0
    assert "2 matrices, dim 13" in capsys.readouterr().out


def test_audio_config_with_absurd_values_in_a_real_run(tmp_path, capsys) -> None:
    """A conf that validates only at extraction time would fail after minutes of work; these fail at once."""
    wav = write_tone(tmp_path / "a.wav", rate=8000)
    conf = tmp_path / "mfcc.conf"
    conf.write_text("--num-mel-bins=100000000\n")
    assert run_main(["features", "mfcc", "--config", conf, wav, "-o", tmp_path / "x.npy", "--no-progress"]) == 1
    assert "num_mel_bins" in error_line(capsys)


# ------------------------------------------------------------------------------------------ npy / npz / csv
FEATURE_FILE_CASES: dict[str, Callable[[Path], Path]] = {
    "npy-scalar": lambda d: (np.save(d / "f.npy", np.float32(3)), d / "f.npy")[1],
    "npy-strings": lambda d: (np.save(d / "f.npy", np.array(["a", "b"])), d / "f.npy")[1],
    "npy-3d": lambda d: (np.save(d / "f.npy", np.zeros((2, 3, 4))), d / "f.npy")[1],
    "npy-complex": lambda d: (np.save(d / "f.npy", np.zeros((4, 3), np.complex64)), d / "f.npy")[1],
    "npy-truncated": lambda d: (np.save(d / "f.npy", np.zeros((40, 13))),
                                (d / "f.npy").write_bytes((d / "f.npy").read_bytes()[:300]), d / "f.npy")[2],
    "npz-strings": lambda d: (np.savez(d / "f.npz", a=np.array(["x"])), d / "f.npz")[1],
    "npz-not-zip": lambda d: ((d / "f.npz").write_bytes(b"PK\x03\x04junk"), d / "f.npz")[1],
    "csv-text": lambda d: ((d / "f.csv").write_text("a,b\n1,2\n"), d / "f.csv")[1],
    "csv-ragged": lambda d: ((d / "f.csv").write_text("1,2\n3\n"), d / "f.csv")[1],
    "htk-random": lambda d: ((d / "f.htk").write_bytes(np.random.default_rng(2).bytes(100)), d / "f.htk")[1],
}


@pytest.mark.parametrize("case", sorted(FEATURE_FILE_CASES))
def test_bad_feature_files(tmp_path, capsys, case: str) -> None:
    """Found here: a .npy holding a scalar, strings or a 3-D array crashed `asr features info/deltas`."""
    path = FEATURE_FILE_CASES[case](tmp_path)
    for argv in (["features", "info", path], ["features", "deltas", path, "-o", tmp_path / "d.ark"]):
        assert run_main(argv) == 1, argv
        assert str(path) in error_line(capsys)
    assert not (tmp_path / "d.ark").exists()
