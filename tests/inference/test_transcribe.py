"""asr.transcribe: files of any rate, channel count and length; chunked transcription against whole-file
transcription and against `asr decode` of the same audio."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import torch

import asr
from asr.audio import resample
from asr.datadir import DataDir, write_data_dir
from asr.inference.config import InferenceConfig
from asr.inference.decode import decode_data_dir
from asr.errors import AsrError
from asr.features import compute_cmvn_stats, compute_features, make_options, options_dict
from asr.models import build_model
from asr.training.config import TrainConfig
from asr.training.dataset import FeatureSpec
from asr.modeldir import MODEL_FILE, write_model_dir
from asr.inference.transcribe import AudioFile, Transcriber, Transcript, Word, format_srt, word_gap_cut
from asr.units import train_tokenizer
from tone_model import RATE, build_tone_model_dir, spell, synthesize, write_wav

REPO = Path(__file__).resolve().parents[2]
CPU = {"device": "cpu"}


@pytest.fixture(scope="module")
def tone_dir(tmp_path_factory) -> Path:
    return build_tone_model_dir(tmp_path_factory.mktemp("tone") / "exp")


def test_transcribe_agrees_with_decode_of_the_same_audio(tone_dir, tmp_path):
    texts = {"f1": "ab ba", "f2": "dc cd a", "f3": "b"}
    paths = {k: write_wav(tmp_path / f"{k}.wav", synthesize(tone_dir, spell(tone_dir, t), seed=i))
             for i, (k, t) in enumerate(texts.items())}
    write_data_dir(tmp_path / "data", DataDir(wav_scp={k: str(p) for k, p in paths.items()}))
    decoded = decode_data_dir(tone_dir, tmp_path / "data", tmp_path / "out", config=InferenceConfig(**CPU),
                              progress=False)
    transcripts = asr.transcribe(tone_dir, [paths[k] for k in texts], **CPU)
    for key, t in zip(texts, transcripts):
        hyp = decoded.hypotheses[key][0]
        assert t.text == hyp.text == texts[key]
        assert t.source == str(paths[key])
        assert t.duration == pytest.approx(sf.info(paths[key]).duration)
        assert [(w.word, w.start, w.end) for w in t.words] == [(w, s, e) for w, s, e in
                                                               hyp.word_times(decoded.frame_shift_s)]


def test_any_sample_rate_and_channel_count(tone_dir, tmp_path):
    text = "ab cd"
    wave = synthesize(tone_dir, spell(tone_dir, text)) / 32768.0
    noise = np.random.default_rng(5).normal(0.0, 20.0 / 32768.0, wave.size)
    stereo = tmp_path / "stereo16k.flac"
    sf.write(stereo, np.stack([resample(wave, RATE, 16000), resample(noise, RATE, 16000)], axis=1), 16000)
    mono = tmp_path / "mono22k.wav"
    sf.write(mono, resample(wave, RATE, 22050), 22050, subtype="FLOAT")
    averaged, only_speech, only_noise, resampled = (
        asr.transcribe(tone_dir, stereo, **CPU)[0], asr.transcribe(tone_dir, stereo, channel=0, **CPU)[0],
        asr.transcribe(tone_dir, stereo, channel=1, **CPU)[0], asr.transcribe(tone_dir, mono, **CPU)[0])
    assert averaged.text == only_speech.text == resampled.text == text
    assert only_noise.text == "" and only_noise.words == []
    with pytest.raises(AsrError, match=re.escape(f"{stereo}: channel 2 requested but the file has 2 channel")):
        asr.transcribe(tone_dir, stereo, channel=2, **CPU)


def test_chunks_stitch_to_the_whole_file(tone_dir, tmp_path):
    """The tone model is memoryless, so chunked transcription must give the whole-file words and times exactly,
    whatever the chunk and context lengths (20 s of audio, chunks of 1-3 s)."""
    text = " ".join(["ab ba cd dc"] * 8)
    path = write_wav(tmp_path / "long.wav", synthesize(tone_dir, spell(tone_dir, text)))
    whole = asr.transcribe(tone_dir, path, chunk_length_s=60.0, **CPU)[0]
    assert whole.text == text
    for length, context in ((2.0, 0.5), (1.0, 0.0), (3.3, 1.1)):
        chunked = asr.transcribe(tone_dir, path, chunk_length_s=length, chunk_context_s=context,
                                 segment="none", **CPU)[0]
        assert chunked.text == text
        assert chunked.words == whole.words


def random_crnn_dir(root: Path, fsdd_dir: Path, subsampling: int, **network: Any) -> Path:
    """A randomly initialised crnn model directory, written by the training package's write_model_dir; `network`:
    more ModelConfig fields (causal, end_padding, ...)."""
    files = sorted(fsdd_dir.glob("*.wav"))[:8]
    options = options_dict(make_options("fbank", {"sample_frequency": 8000, "dither": 0.0}))
    stats = sum(compute_cmvn_stats(compute_features("fbank", sf.read(f, dtype="float32")[0] * 32768.0, 8000,
                                                    options)) for f in files)
    config = TrainConfig(model="crnn", hidden_size=32, num_layers=2, conv_channels=4, subsampling=subsampling,
                         dropout=0.0, **network)
    spec = FeatureSpec(kind="fbank", options=options, source="wav", dim=23)
    tokenizer = train_tokenizer("char", ["zero one two three four five six seven eight nine"])
    write_model_dir(root, config, spec, stats, tokenizer)
    torch.manual_seed(subsampling)
    torch.save(build_model(config, 23, len(tokenizer.tokens)).state_dict(), root / MODEL_FILE)
    return root


@pytest.mark.parametrize("subsampling", [2, 4])
def test_chunked_posteriors_of_a_real_network_nearly_agree(fsdd_dir, tmp_path, subsampling):
    """A conv + BiLSTM network sees each chunk with 1 s of context: the stitched posteriors have the whole file's
    frame count and nearly its values. (Its text is no test: a random network spells one endless "word", which
    the bounded-memory rule must split every two chunks.)"""
    model_dir = random_crnn_dir(tmp_path / "exp", fsdd_dir, subsampling)
    speech = np.concatenate([sf.read(f, dtype="float32")[0] for f in sorted(fsdd_dir.glob("*.wav"))[:24]])
    path = tmp_path / "digits.wav"
    sf.write(path, speech, 8000)
    whole = Transcriber(model_dir, config=InferenceConfig(greedy=True, chunk_length_s=3600.0, device="cpu"))
    chunked = Transcriber(model_dir, config=InferenceConfig(greedy=True, chunk_length_s=2.0, chunk_context_s=1.0,
                                                            device="cpu"))
    with AudioFile(path, 8000) as audio:
        reference = np.concatenate(list(whole.chunk_posteriors(audio)))
        blocks = list(chunked.chunk_posteriors(audio))
    stitched = np.concatenate(blocks)
    assert len(blocks) == int(np.ceil(len(speech) / 8000 / 2.0))
    frames = (len(speech) - 200) // 80 + 1  # 25 ms windows every 10 ms at 8 kHz
    assert stitched.shape == reference.shape == (-(-frames // subsampling), len(whole.searcher.tokenizer.tokens))
    assert np.abs(stitched - reference).max() < 1e-4


def test_word_gap_cut_keeps_only_words_that_cannot_grow():
    from asr.decoding import WordTiming

    words = [WordTiming("a", 2, 5), WordTiming("b", 9, 12), WordTiming("c", 20, 30)]
    assert word_gap_cut(words, 25) == (2, 16)  # after b, in the middle of the 12..20 gap
    assert word_gap_cut(words, 14) == (2, 13)  # the gap after b is cut no later than the limit
    assert word_gap_cut(words, 6) == (1, 5)
    assert word_gap_cut(words, 1) == (0, 0)
    assert word_gap_cut(words[:1], 40) == (1, 22)
    assert word_gap_cut([], 40) == (0, 20)


def test_srt_sets_the_words_heard_unsurely_in_italics():
    words = [Word("turn", 0.1, 0.4, 0.97), Word("on", 0.45, 0.6, 0.31), Word("the", 0.62, 0.7, None),
             Word("light", 0.75, 1.1, 0.5)]
    srt = format_srt(Transcript("a.wav", "turn on the light", words, 1.2))
    assert srt == "1\n00:00:00,100 --> 00:00:01,100\nturn <i>on</i> the light\n\n"


def test_bad_files_are_named(tone_dir, tmp_path):
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0), 8000)
    garbage = tmp_path / "garbage.flac"
    garbage.write_bytes(b"fLaC" + bytes(range(256)) * 4)
    for path, message in ((empty, "contains no samples"), (garbage, "cannot read as audio"),
                          (tmp_path / "missing.wav", "audio file not found"), (tmp_path, "is a directory")):
        with pytest.raises(AsrError, match=re.escape(f"{path}: {message}")):
            asr.transcribe(tone_dir, path, **CPU)


def test_import_asr_stays_light_and_asr_transcribe_is_the_function():
    """`import asr` and even `asr.transcribe` load no torch (the model loads it when used); other tests here call
    `asr.transcribe(...)`."""
    script = """
        import sys, asr
        assert "torch" not in sys.modules
        from asr import transcribe
        print(callable(transcribe), transcribe is asr.transcribe, transcribe.__module__, "torch" in sys.modules)
    """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "asr.inference.transcribe", "False"]


def test_inference_never_imports_training_and_features_never_torch(tone_dir, tmp_path):
    """The layering, as run: transcribing and decoding load no `asr.training` module; computing and normalising
    features loads neither torch nor torchaudio."""
    wav = write_wav(tmp_path / "a.wav", synthesize(tone_dir, spell(tone_dir, "ab")))
    data = tmp_path / "data"
    data.mkdir()
    (data / "wav.scp").write_text(f"u1 {wav}\n")
    (data / "utt2spk").write_text("u1 u1\n")
    script = f"""
        import sys
        import numpy as np
        from asr.features import compute_features
        from asr.features.cmvn import normalize_features
        normalize_features(compute_features("fbank", np.ones(8000) * 100.0, 8000.0, {{}}), None, True, "utterance")
        print(sorted(m for m in ("torch", "torchaudio") if m in sys.modules))
        import asr
        from asr.inference.decode import decode_data_dir
        asr.transcribe({str(tone_dir)!r}, {str(wav)!r}, device="cpu")
        decode_data_dir({str(tone_dir)!r}, {str(data)!r}, {str(tmp_path / "decode")!r}, progress=False)
        print(sorted(m for m in sys.modules if m.startswith("asr.training")), "torch" in sys.modules)
    """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["[]", "[] True"]


def _write_long(path: Path, pattern: np.ndarray, minutes: float) -> None:
    """A long file written block by block (the test itself never holds it in memory)."""
    total = int(minutes * 60 * RATE)
    with sf.SoundFile(path, "w", RATE, 1, "PCM_16") as f:
        written = 0
        while written < total:
            block = pattern[:total - written]
            f.write(np.clip(block / 32768.0, -1.0, 1.0))
            written += len(block)


PEAK_SCRIPT = """
import sys
from pathlib import Path
from asr.inference.config import InferenceConfig
from asr.inference.transcribe import Transcriber
from asr.decoding import kernels

def peak_kib():
    return int(next(line for line in Path("/proc/self/status").read_text().splitlines()
                    if line.startswith("VmHWM:")).split()[1])

model_dir, path, chunk_length_s, warm_up, segment = sys.argv[1:]
transcriber = Transcriber(model_dir, config=InferenceConfig(device="cpu", greedy=True, segment=segment,
                                                            chunk_length_s=float(chunk_length_s)))
kernels.compile_kernels()  # else the search compiles them mid-way once it has met COMPILE_AFTER_FRAMES runs (~120 MB)
transcriber(warm_up)  # first-call allocations (numba, torch) are not what is measured
Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS to the current RSS
start = peak_kib()
words = len(transcriber(path).words)
print(peak_kib() - start, words)
"""


def _peak_growth_kib(model_dir: Path, path: Path, chunk_length_s: float, warm_up: Path,
                     segment: str = "none") -> tuple[int, int]:
    """(growth of the peak RSS while transcribing `path`, in KiB; words) in a fresh process."""
    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(model_dir), str(path), str(chunk_length_s),
                          str(warm_up), segment], capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    growth, words = out.stdout.split()
    return int(growth), int(words)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc peak-RSS reset")
def test_peak_memory_does_not_grow_with_length(tone_dir, tmp_path):
    """Peak RSS growth while transcribing 2 and 20 minutes in 30 s chunks (or cut in pauses: the default) differs by
    a few MB; the whole 20 minutes in one piece need over 50 MB more (the wave alone is 38 MB), so the measure can
    tell."""
    pattern = synthesize(tone_dir, spell(tone_dir, " ".join(["ab ba cd dc"] * 5)))  # 24 s, 20 words
    short, long, warm_up = tmp_path / "2min.wav", tmp_path / "20min.wav", tmp_path / "warm_up.wav"
    _write_long(short, pattern, 2)
    _write_long(long, pattern, 20)
    write_wav(warm_up, pattern)
    growth_short, words_short = _peak_growth_kib(tone_dir, short, 30.0, warm_up)
    growth_long, words_long = _peak_growth_kib(tone_dir, long, 30.0, warm_up)
    growth_whole, words_whole = _peak_growth_kib(tone_dir, long, 3600.0, warm_up)
    assert words_long == words_whole >= 9 * words_short > 0
    assert growth_long - growth_short < 8 * 1024
    assert growth_whole - growth_long > 50 * 1024
    growth_short, words_short = _peak_growth_kib(tone_dir, short, 30.0, warm_up, "energy")
    growth_long, words_long = _peak_growth_kib(tone_dir, long, 30.0, warm_up, "energy")
    assert words_long >= 9 * words_short > 0
    assert growth_long - growth_short < 8 * 1024
