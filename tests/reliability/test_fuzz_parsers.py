"""Fuzzing the parsers nobody else fuzzes (ARPA, ark/scp, text maps and data dirs have their own fuzz tests):
config files (YAML and Kaldi conf) for every options dataclass, tokens.txt / units.yaml / lexicon.txt of a
lang dir, and the config.yaml / features.yaml of a model directory. The property is the user-error contract:
whatever the bytes, only AsrError escapes, and its message names the file that was read."""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asr.config import build_config, parse_kaldi_conf, read_config_file
from asr.decoding.options import DecodeOptions
from asr.errors import AsrError
from asr.features import make_options, options_dict
from asr.training.config import TrainConfig
from asr.units import load_tokenizer, train_tokenizer
from asr.units.bpe import BpeOptions
from asr.units.phone import PhoneOptions, read_lexicon
from asr.units.tokenizer import read_tokens

# ASR_FUZZ_EXAMPLES=5000 for a long local run; CI uses the default
FUZZ = settings(max_examples=int(os.environ.get("ASR_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])

# what a config file may be loaded into, as the CLI loads it: feature kinds via make_options (built and
# validated), the rest via build_config
TARGETS: dict[str, Any] = {
    "train": lambda path: build_config(TrainConfig, path),
    "decode": lambda path: build_config(DecodeOptions, path),
    "bpe": lambda path: build_config(BpeOptions, path),
    "phone": lambda path: build_config(PhoneOptions, path),
    **{f"kaldi-{kind}": (lambda path, kind=kind: make_options(kind, path=path))
       for kind in ("mfcc", "fbank", "spectrogram")},
    **{f"librosa-{kind}": (lambda path, kind=kind: make_options(kind, path=path, flavor="librosa"))
       for kind in ("mfcc", "fbank")},
}
FIELD_NAMES = sorted({f.name for cls in (TrainConfig, DecodeOptions, BpeOptions, PhoneOptions)
                      for f in dataclasses.fields(cls)}
                     | set(options_dict(make_options("mfcc"))) | set(options_dict(make_options("fbank")))
                     | set(options_dict(make_options("mfcc", flavor="librosa"))))

scalar = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.integers(-5, 50),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                   st.sampled_from(["nan", "inf", "-inf", "1e400", "1e-400", "0x10", "1_000", "true", "none", "",
                                    "²", "٣", "povey", "hamming", "rnn", "lstm", "1,2,3", "0.9,1.0,1.1", "0"]))
value = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(st.text(max_size=4), inner, max_size=2)),
                     max_leaves=4)
key = st.one_of(st.sampled_from(FIELD_NAMES), st.sampled_from(FIELD_NAMES).map(lambda k: k.replace("_", "-")),
                st.text(max_size=8))


@st.composite
def yaml_bytes(draw) -> bytes:
    """A YAML mapping of plausible keys to arbitrary values, or YAML that is not a mapping, or raw bytes."""
    kind = draw(st.sampled_from(["mapping", "mapping", "mapping", "other", "raw", "cut"]))
    if kind == "mapping" or kind == "cut":
        text = yaml.safe_dump(draw(st.dictionaries(key, value, max_size=4)), allow_unicode=True).encode()
        return text[:draw(st.integers(0, len(text)))] if kind == "cut" else text
    if kind == "other":
        return yaml.safe_dump(draw(value), allow_unicode=True).encode()
    return draw(st.binary(max_size=80))


@st.composite
def conf_bytes(draw) -> bytes:
    """Kaldi conf lines `--name=value` with arbitrary values, comments, junk lines, or raw bytes."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.binary(max_size=80))
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(key).replace("_", "-")
        raw = draw(scalar)
        text = raw if isinstance(raw, str) else str(raw).lower()
        lines.append(draw(st.sampled_from([f"--{name}={text}", f"--{name}={text}  # note", f"{name}={text}",
                                           f"--{name}", "# comment", "", f"--{name}=={text}"])))
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def only_asr_error(call, path: Path) -> Any:
    try:
        return call()
    except AsrError as e:
        assert "\n" not in str(e), str(e)
        return e


@FUZZ
@given(target=st.sampled_from(sorted(TARGETS)), data=yaml_bytes(), suffix=st.sampled_from([".yaml", ".yml"]))
def test_yaml_configs_raise_only_asr_error(tmp_path: Path, target: str, data: bytes, suffix: str) -> None:
    path = tmp_path / f"config{suffix}"
    path.write_bytes(data)
    result = only_asr_error(lambda: TARGETS[target](path), path)
    if isinstance(result, AsrError):
        assert str(path) in str(result) or "=" in str(result), result  # the file, or the option=value at fault


@FUZZ
@given(target=st.sampled_from(sorted(TARGETS)), data=conf_bytes())
def test_kaldi_conf_files_raise_only_asr_error(tmp_path: Path, target: str, data: bytes) -> None:
    path = tmp_path / "options.conf"
    path.write_bytes(data)
    result = only_asr_error(lambda: TARGETS[target](path), path)
    if isinstance(result, AsrError):
        assert str(path) in str(result) or "=" in str(result), result


@FUZZ
@given(data=st.binary(max_size=120))
def test_raw_bytes_as_any_config_file(tmp_path: Path, data: bytes) -> None:
    for name in ("c.yaml", "c.conf", "c"):
        path = tmp_path / name
        path.write_bytes(data)
        only_asr_error(lambda: read_config_file(path), path)
        only_asr_error(lambda: parse_kaldi_conf(path), path)


# ------------------------------------------------------------------------------------------ lang dirs
def _tokens_text(draw) -> bytes:
    base = [b"<blk> 0", b"<unk> 1", b"| 2", b"a 3", b"b 4"]
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(base)))
        base.insert(i, draw(st.one_of(st.binary(max_size=12),
                                      st.sampled_from([b"c \xc2\xb2", b"c \xd9\xa3", b"c -1", b"c 5 6", b"c",
                                                       b"a 5", b"c 99", b"\t", b"c 4"]))))
    if draw(st.booleans()) and base:
        del base[draw(st.integers(0, len(base) - 1))]
    return b"\n".join(base) + draw(st.sampled_from([b"\n", b"", b"\r\n"]))


@st.composite
def lang_files(draw) -> dict[str, bytes]:
    """A char lang dir's files with one or more of tokens.txt / units.yaml / lexicon.txt corrupted."""
    files: dict[str, bytes] = {}
    files["tokens.txt"] = _tokens_text(draw)
    units = draw(st.one_of(
        st.fixed_dictionaries({"kind": st.one_of(st.sampled_from(["char", "phone", "bpe", "CHAR"]), value),
                               "num_tokens": value, "options": value}),
        st.dictionaries(st.sampled_from(["kind", "num_tokens", "options"]), value, max_size=3),
        value))
    files["units.yaml"] = yaml.safe_dump(units, allow_unicode=True).encode()
    if draw(st.booleans()):
        files["units.yaml"] = files["units.yaml"][:draw(st.integers(0, len(files["units.yaml"])))]
    if draw(st.booleans()):
        files["lexicon.txt"] = draw(st.one_of(st.binary(max_size=40),
                                              st.sampled_from([b"A a\nB b a\n", b"A\n", b"A zz\n", b"\xff\n"])))
    if draw(st.booleans()):
        files["bpe.model"] = draw(st.binary(max_size=40))
    return files


@FUZZ
@given(files=lang_files())
def test_lang_dirs_raise_only_asr_error(tmp_path: Path, files: dict[str, bytes]) -> None:
    lang = tmp_path / "lang"
    lang.mkdir(exist_ok=True)
    for p in lang.iterdir():
        p.unlink()
    for name, data in files.items():
        (lang / name).write_bytes(data)
    tokenizer = only_asr_error(lambda: load_tokenizer(lang), lang)
    if isinstance(tokenizer, AsrError):
        assert str(lang) in str(tokenizer), tokenizer
    else:  # whatever loads must work
        only_asr_error(lambda: tokenizer.decode(tokenizer.encode("a b")), lang)
    only_asr_error(lambda: read_tokens(lang / "tokens.txt"), lang)


@FUZZ
@given(data=st.binary(max_size=60))
def test_lexicon_and_tokens_raw_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    for reader in (read_lexicon, read_tokens):
        result = only_asr_error(lambda: reader(path), path)
        if isinstance(result, AsrError):
            assert str(path) in str(result)


# ------------------------------------------------------------------------------------------ model dirs
SMALL_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 40), st.floats(allow_nan=True),
                         st.text(max_size=8), st.lists(st.integers(-2, 8), max_size=3),
                         st.dictionaries(st.text(max_size=4), st.integers(0, 3), max_size=2),
                         st.sampled_from(["mfcc", "fbank", "spectrogram", "global", "none", "rnn", "crnn", "gru"]))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A tiny valid model directory written by the training code itself (rnn, 6-dim MFCC, char units)."""
    from asr.models import build_model
    from asr.training.dataset import FeatureSpec
    from asr.modeldir import write_model_dir

    root = tmp_path_factory.mktemp("model")
    config = TrainConfig(model="rnn", hidden_size=4, num_layers=1, device="cpu")
    options = options_dict(make_options("mfcc", {"num_ceps": 6, "sample_frequency": 8000}))
    spec = FeatureSpec(kind="mfcc", options=options, source="wav", dim=6)
    tokenizer = train_tokenizer("char", ["ab ba"])
    stats = np.concatenate([np.ones((1, 7)), np.full((1, 7), 2.0)])
    stats[0, -1] = 1.0
    write_model_dir(root, config, spec, stats, tokenizer)
    torch.manual_seed(0)
    torch.save(build_model(config, 6, len(tokenizer.tokens)).state_dict(), root / "model.pt")
    return root


def test_the_fuzzed_model_dir_loads_as_written(model_dir: Path) -> None:
    from asr.modeldir import load_model_dir

    loaded = load_model_dir(model_dir)
    assert loaded.feature_kind == "mfcc" and loaded.cmvn_stats.shape == (2, 7)


def test_a_librosa_flavor_model_dir_passes_the_features_yaml_check(tmp_path: Path) -> None:
    """The features.yaml check must validate options in the model's own flavor (librosa options are not Kaldi's)."""
    from asr.models import build_model
    from asr.training.dataset import FeatureSpec
    from asr.modeldir import load_model_dir, write_model_dir

    config = TrainConfig(model="rnn", hidden_size=4, num_layers=1, device="cpu", cmvn="none")
    options = options_dict(make_options("mfcc", {"n_mfcc": 6, "sample_frequency": 8000}, flavor="librosa"))
    spec = FeatureSpec(kind="mfcc", options=options, source="wav", dim=6, flavor="librosa", cmvn="none")
    tokenizer = train_tokenizer("char", ["ab"])
    write_model_dir(tmp_path, config, spec, None, tokenizer)
    torch.save(build_model(config, 6, len(tokenizer.tokens)).state_dict(), tmp_path / "model.pt")
    loaded = load_model_dir(tmp_path)
    wave = np.random.default_rng(0).normal(0, 1000, 8000).astype(np.float32)
    assert loaded.network_input(wave, 8000).shape[1] == 6


@st.composite
def mutated_yaml(draw, original: dict) -> dict | Any:
    """`original` with keys deleted, added, or given values of the wrong type; sometimes not a mapping at all."""
    if draw(st.integers(0, 7)) == 0:
        return draw(value)
    data = dict(original)
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["set", "set", "delete", "add", "nested"]))
        name = draw(st.sampled_from(sorted(data))) if data else "x"
        if action == "set":
            data[name] = draw(SMALL_VALUES)
        elif action == "delete":
            data.pop(name, None)
        elif action == "add":
            data[draw(st.text(max_size=6))] = draw(SMALL_VALUES)
        elif isinstance(data.get("options"), dict) and data["options"]:
            option = draw(st.sampled_from(sorted(data["options"])))
            data["options"] = {**data["options"], option: draw(SMALL_VALUES)}
    return data


@FUZZ
@given(data=st.data(), name=st.sampled_from(["config.yaml", "features.yaml", "lang/units.yaml"]))
def test_model_dir_yaml_files_raise_only_asr_error(model_dir: Path, tmp_path: Path, data, name: str) -> None:
    import shutil

    from asr.modeldir import load_model_dir

    target = tmp_path / "m"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(model_dir, target)
    original = yaml.safe_load((model_dir / name).read_text())
    (target / name).write_text(yaml.safe_dump(data.draw(mutated_yaml(original)), allow_unicode=True))
    loaded = only_asr_error(lambda: load_model_dir(target), target)
    if isinstance(loaded, AsrError):
        assert str(target) in str(loaded), loaded
        return
    # whatever loads must run: features of a short noise burst, then the network
    wave = np.random.default_rng(0).normal(0, 1000, 4000).astype(np.float32)
    feats = only_asr_error(lambda: loaded.network_input(wave, loaded.sample_frequency), target)
    if not isinstance(feats, AsrError):
        (log_probs,) = loaded.log_probs([feats])
        assert log_probs.shape[1] == len(loaded.tokenizer.tokens) and np.isfinite(log_probs).all()


def test_non_finite_numbers_in_feature_confs_are_user_errors(tmp_path: Path) -> None:
    """Found by the fuzzer: `--frame-length=nan` or `--sample-frequency=inf` crashed in int() instead of
    naming the option."""
    for option in ("frame-length", "frame-shift", "sample-frequency"):
        for text in ("nan", "inf", "1e400"):
            path = tmp_path / "mfcc.conf"
            path.write_text(f"--{option}={text}\n")
            with pytest.raises(AsrError, match=option.replace("-", "_")):
                make_options("mfcc", path=path)
    assert math.isfinite(make_options("mfcc").window_size)


@pytest.mark.parametrize("kind,flavor,options", [
    ("mfcc", "kaldi", "num_mel_bins=10**9"), ("fbank", "kaldi", "frame_length=1e12"),
    ("spectrogram", "kaldi", "frame_shift=1e300"), ("fbank", "librosa", "n_mels=10**9"),
    ("mfcc", "librosa", "n_fft=10**12"), ("fbank", "librosa", "fmax=float('inf')")],
    ids=["mel-bins", "frame-length", "frame-shift", "librosa-mels", "librosa-fft", "librosa-inf-fmax"])
def test_absurd_sizes_are_refused_before_allocating(kind: str, flavor: str, options: str) -> None:
    """Found by the fuzzer: `--num-mel-bins=1000000000` in a conf (or a model dir's features.yaml) allocated the
    filterbank before checking it and got the process OOM-killed. Run under a 2 GiB address-space limit, so a
    regression fails as MemoryError here instead of taking the machine down."""
    import subprocess
    import sys

    code = f"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
import numpy as np
from asr.errors import AsrError
from asr.features import compute_features
try:
    compute_features({kind!r}, np.zeros(16000, np.float32), 16000, dict({options}), flavor={flavor!r})
except AsrError as e:
    print("AsrError", e)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("AsrError"), result.stderr[-1500:]
