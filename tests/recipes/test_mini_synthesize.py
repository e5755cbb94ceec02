"""The `mini` recipe's corpus synthesizer: reproducible bytes, disjoint voices and sentences, usable audio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

REPO = Path(__file__).resolve().parents[2]
LOCAL = REPO / "recipes" / "mini" / "local"
sys.path.insert(0, str(LOCAL))
sys.path.insert(0, str(REPO / "recipes" / "utils"))

import espeak  # noqa: E402
import synthesize  # noqa: E402
from synthesize import VOICES, CorpusOptions, synthesize_corpus  # noqa: E402

SMALL = CorpusOptions(num_train=6, num_dev=2, num_test=3)


def corpus_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mini") / "corpus"
    synthesize_corpus(out, SMALL)
    return out


def test_same_seed_gives_identical_bytes_in_another_process(small_corpus: Path, tmp_path: Path) -> None:
    # A separate process, as on another machine: nothing may depend on process state or file order.
    subprocess.run([sys.executable, str(LOCAL / "synthesize.py"), "--num-train", "6", "--num-dev", "2",
                    "--num-test", "3", str(tmp_path / "again")], check=True, capture_output=True)
    assert corpus_files(tmp_path / "again") == corpus_files(small_corpus)


def test_synthesizing_twice_in_one_process_is_identical(small_corpus: Path, tmp_path: Path) -> None:
    synthesize_corpus(tmp_path / "again", SMALL)
    assert corpus_files(tmp_path / "again") == corpus_files(small_corpus)


def test_other_seed_gives_other_audio(small_corpus: Path, tmp_path: Path) -> None:
    synthesize_corpus(tmp_path / "seed1", CorpusOptions(num_train=6, num_dev=2, num_test=3, seed=1))
    ours, theirs = corpus_files(small_corpus), corpus_files(tmp_path / "seed1")
    wavs = [name for name in ours if name.endswith(".wav")]
    assert sum(ours[name] != theirs.get(name) for name in wavs) == len(wavs)


def test_smaller_corpus_is_the_start_of_a_larger_one(small_corpus: Path, tmp_path: Path) -> None:
    synthesize_corpus(tmp_path / "smaller", CorpusOptions(num_train=3, num_dev=1, num_test=2))
    smaller = corpus_files(tmp_path / "smaller")
    larger = corpus_files(small_corpus)
    assert {name: data for name, data in smaller.items() if name != "settings.yaml"}.items() <= larger.items()


def test_voices_are_many_and_disjoint_between_splits() -> None:
    all_voices = [voice for voices in VOICES.values() for voice in voices]
    assert len(set(all_voices)) >= 20
    variants = {split: {voice.partition("+")[2] for voice in voices} for split, voices in VOICES.items()}
    assert not variants["train"] & variants["test"]
    assert not variants["train"] & variants["dev"]
    assert not variants["dev"] & variants["test"]


def test_speakers_in_the_corpus_follow_the_split_voices(small_corpus: Path) -> None:
    speakers = {split: {p.name for p in (small_corpus / split).iterdir()} for split in VOICES}
    assert not speakers["train"] & speakers["test"]
    assert speakers["test"] == {synthesize.speaker_id(v) for v in VOICES["test"][:SMALL.num_test]}


def test_test_sentences_are_not_in_the_training_text(tmp_path: Path) -> None:
    options = CorpusOptions(num_train=400, num_dev=1, num_test=100)
    train = {synthesize.plan_utterance(options, "train", i).text for i in range(options.num_train)}
    test = {synthesize.plan_utterance(options, "test", i).text for i in range(options.num_test)}
    assert len(test) > 80 and not train & test
    # ...while their words are (mostly) known: the LM's vocabulary covers the test text
    train_words = {word for text in train for word in text.split()}
    test_words = [word for text in test for word in text.split()]
    assert sum(word not in train_words for word in test_words) / len(test_words) < 0.01


def test_audio_is_16khz_16bit_mono_speech_with_its_transcript(small_corpus: Path) -> None:
    wavs = sorted(small_corpus.rglob("*.wav"))
    assert len(wavs) == 11
    for wav in wavs:
        info = soundfile.info(wav)
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        samples, _ = soundfile.read(wav, dtype="int16")
        assert 0.8 < samples.size / 16000 < 8.0
        # speech frames stand well above the light noise floor in between (>= 20 dB)
        frames = samples[: samples.size // 400 * 400].astype(np.float64).reshape(-1, 400)
        energies = np.sort((frames**2).mean(axis=1))
        assert 10 * np.log10(energies[-len(energies) // 4] / energies[len(energies) // 20]) > 20
        text = wav.with_suffix(".txt").read_text(encoding="utf-8")
        assert text.endswith("\n") and text.strip() == text.strip().upper() and len(text.split()) >= 3


def test_rerun_with_same_options_keeps_the_corpus(small_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    args = [sys.executable, str(LOCAL / "synthesize.py"), "--num-train", "2", "--num-dev", "1", "--num-test", "1",
            str(out)]
    subprocess.run(args, check=True, capture_output=True)
    stamp = (out / "settings.yaml").stat().st_mtime_ns
    second = subprocess.run(args, check=True, capture_output=True, text=True)
    assert "nothing to do" in second.stderr
    assert (out / "settings.yaml").stat().st_mtime_ns == stamp


def test_breath_variants_and_unknown_voices_are_refused() -> None:
    assert "f3" not in espeak.deterministic_variants() and "m3" in espeak.deterministic_variants()
    with espeak.Espeak() as tts:
        with pytest.raises(ValueError, match="not reproducible"):
            tts.synthesize("hello", "en-us+f3")
        with pytest.raises(ValueError, match="no voice"):
            tts.synthesize("hello", "xx-nonexistent")
        samples, rate = tts.synthesize("hello", "en-us+m3")
        assert rate == 22050 and samples.dtype == np.int16 and np.abs(samples).max() > 1000
