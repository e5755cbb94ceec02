"""Streaming recognition: audio in blocks through a causal model gives what offline transcription of the same
audio gives, whatever the block sizes; what cannot stream is refused with the fix."""

from __future__ import annotations

import io
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asr.errors import AsrError
from asr.inference.config import InferenceConfig
from asr.inference.network import model_posteriors
from asr.inference.stream import StreamingTranscriber, file_blocks, read_pcm_blocks, transcribe_stream
from asr.inference.transcribe import Transcriber
from inference.test_transcribe import random_crnn_dir
from tone_model import RATE, build_tone_model_dir, spell, synthesize, write_wav

REPO = Path(__file__).resolve().parents[2]
CPU = InferenceConfig(device="cpu")


@pytest.fixture(scope="module")
def causal_tone_dir(tmp_path_factory) -> Path:
    return build_tone_model_dir(tmp_path_factory.mktemp("tone") / "exp", causal=True)


@pytest.mark.parametrize("subsampling,network", [(2, {}), (4, {}), (2, {"end_padding": 10}),
                                                 (4, {"chunk_frames": 8, "right_context": 4}),
                                                 (2, {"chunk_frames": 5, "right_context": 0, "end_padding": 3})])
def test_streamed_posteriors_equal_those_of_the_whole_recording(fsdd_dir, tmp_path, subsampling, network):
    """Kaldi frames, global CMVN and a causal conv + LSTM network (with end padding: zero frames after the last,
    fed when the stream ends; with a backward layer over chunks, given a chunk once its right context is in), fed
    320 ms, 37 ms or odd-sized blocks of real speech: the same posteriors as the network run once on the
    recording's features."""
    model_dir = random_crnn_dir(tmp_path / "exp", fsdd_dir, subsampling, causal=True, **network)
    speech = np.concatenate([sf.read(f, dtype="float32")[0] for f in sorted(fsdd_dir.glob("*.wav"))[:3]]) * 32768.0
    one_utterance = InferenceConfig(device="cpu", greedy=True, endpoint_silence_s=0, endpoint_idle_s=0,
                                    endpoint_max_s=0)
    transcriber = StreamingTranscriber(model_dir, config=one_utterance)
    whole = model_posteriors(transcriber.model, [transcriber.model.network_input(speech, 8000)])[0]
    for block in (2560, 296, 1001):
        stream = transcriber.start()
        for start in range(0, len(speech), block):
            stream.accept_waveform(speech[start:start + block])
        search = stream.search
        stream.finish()
        streamed = np.concatenate(search.blocks)
        assert streamed.shape == whole.shape
        np.testing.assert_allclose(streamed, whole, atol=1e-5)


@pytest.mark.parametrize("greedy", [True, False])
def test_a_stream_transcribes_as_the_offline_transcriber_does(causal_tone_dir, tmp_path, greedy):
    text = "ab ba dc cd a"
    path = write_wav(tmp_path / "tones.wav", synthesize(causal_tone_dir, spell(causal_tone_dir, text)))
    config = InferenceConfig(device="cpu", greedy=greedy)
    offline = Transcriber(causal_tone_dir, config=config)(path)
    partials: list[str] = []
    streamed = transcribe_stream(StreamingTranscriber(causal_tone_dir, config=config),
                                 file_blocks(path, RATE, block_ms=100), str(path), on_partial=partials.append)
    assert offline.text == streamed.text == text
    assert streamed.words == offline.words and streamed.duration == pytest.approx(offline.duration)
    assert partials[-1] == text and len(partials) >= 4  # the words appeared as the audio came in
    assert all(text.startswith(p) for p in partials)


def test_a_long_stream_is_cut_into_utterances_at_its_pauses(causal_tone_dir, tmp_path):
    """Two utterances 3 s apart, then 6 s of silence: each utterance is final at its pause, with the words and
    times of offline transcription cut in the file's pauses (the energy VAD, chunks shorter than the file); the
    silence gives no words and the stream keeps only the frames since its last endpoint; `asr transcribe --stream`
    prints one line per utterance as it ends."""
    audio = np.concatenate([synthesize(causal_tone_dir, spell(causal_tone_dir, "ab ba")),
                            synthesize(causal_tone_dir, [], edge_s=1.5, seed=1),
                            synthesize(causal_tone_dir, spell(causal_tone_dir, "dc cd"), seed=2),
                            synthesize(causal_tone_dir, [], edge_s=3.0, seed=3)])
    path = write_wav(tmp_path / "two.wav", audio)
    offline = Transcriber(causal_tone_dir, config=InferenceConfig(device="cpu", chunk_length_s=2.0))(path)
    transcriber = StreamingTranscriber(causal_tone_dir, config=CPU)
    finals = []
    whole = transcribe_stream(transcriber, file_blocks(path, RATE, block_ms=100), str(path), on_final=finals.append)
    assert [f.text for f in finals] == ["ab ba", "dc cd"] and whole.text == offline.text == "ab ba dc cd"
    shift = transcriber.model.frame_shift_s
    for streamed, offline_word in zip(whole.words, offline.words):
        assert streamed.word == offline_word.word
        assert abs(streamed.start - offline_word.start) <= 2 * shift
        assert abs(streamed.end - offline_word.end) <= 2 * shift
    stream = transcriber.start()
    for block in file_blocks(path, RATE, block_ms=100):
        stream.accept_waveform(block)
    assert stream.frames * shift <= CPU.endpoint_idle_s + 0.1 + shift  # the trailing silence was dropped
    assert [f.text for f in stream.take_finals()] == ["ab ba", "dc cd"]
    assert stream.finish().text == "ab ba dc cd" and stream.take_finals() == []

    command = [sys.executable, "-m", "asr", "transcribe", "--model", str(causal_tone_dir), "--device", "cpu",
               "--stream", "--no-progress", "-"]
    done = subprocess.run(command, input=_wav_bytes(np.round(audio), RATE), capture_output=True, cwd=REPO)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode() == "ab ba\ndc cd\n"


def test_an_onnx_export_of_a_causal_model_streams_as_the_trained_one_without_torch(fsdd_dir, causal_tone_dir,
                                                                                   tmp_path):
    """`asr export --format onnx` of a causal model writes its stream halves: the same posteriors as the torch
    stream on real speech in odd blocks (within 1e-4), the same transcript, and a process that streams from the
    export never imports torch; an export without them says how to get them."""
    from asr.export import export_model_dir

    speech = np.concatenate([sf.read(f, dtype="float32")[0] for f in sorted(fsdd_dir.glob("*.wav"))[:2]]) * 32768.0
    for name, network in (("plain", {"end_padding": 5}), ("chunked", {"chunk_frames": 24, "right_context": 16})):
        model_dir = random_crnn_dir(tmp_path / name, fsdd_dir, 2, causal=True, **network)
        exported = export_model_dir(model_dir, tmp_path / f"{name}_onnx")
        posteriors = []
        for directory in (model_dir, exported):
            stream = StreamingTranscriber(directory, config=InferenceConfig(
                device="cpu", greedy=True, endpoint_silence_s=0, endpoint_idle_s=0, endpoint_max_s=0)).start()
            for start in range(0, len(speech), 1001):
                stream.accept_waveform(speech[start:start + 1001])
            search = stream.search
            stream.finish()
            posteriors.append(np.concatenate(search.blocks))
        assert posteriors[0].shape == posteriors[1].shape
        np.testing.assert_allclose(posteriors[1], posteriors[0], atol=1e-4)

    tones = export_model_dir(causal_tone_dir, tmp_path / "tones_onnx")
    path = write_wav(tmp_path / "tones.wav", synthesize(causal_tone_dir, spell(causal_tone_dir, "ab ba dc")))
    script = ("import sys; from asr.inference.stream import StreamingTranscriber, file_blocks, transcribe_stream; "
              "t = StreamingTranscriber(sys.argv[1]); "
              "print(transcribe_stream(t, file_blocks(sys.argv[2], t.rate)).text, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script, str(tones), str(path)], capture_output=True, text=True,
                          cwd=REPO, check=True)
    assert done.stdout.split() == ["ab", "ba", "dc", "False"]
    export_yaml = tones / "export.yaml"
    export_yaml.write_text("".join(line for line in export_yaml.read_text().splitlines(keepends=True)
                                   if not line.startswith(("stream:", "  "))))
    with pytest.raises(AsrError, match="no streaming graphs in this export; export the causal model"):
        StreamingTranscriber(tones, config=CPU)


def test_what_cannot_stream_is_refused_with_the_fix(causal_tone_dir, tmp_path, fsdd_dir):
    with pytest.raises(AsrError, match="bidirectional .* --causal true"):
        StreamingTranscriber(build_tone_model_dir(tmp_path / "bi"), config=CPU)
    speaker = random_crnn_dir(tmp_path / "spk", fsdd_dir, 2, causal=True)
    config_yaml = speaker / "config.yaml"
    config_yaml.write_text(config_yaml.read_text().replace("cmvn: global", "cmvn: speaker"))
    features_yaml = speaker / "features.yaml"
    features_yaml.write_text(features_yaml.read_text().replace("cmvn: global", "cmvn: speaker"))
    with pytest.raises(AsrError, match="per speaker .* --cmvn global"):
        StreamingTranscriber(speaker, config=CPU)


def _wav_bytes(samples: np.ndarray, rate: int, channels: int = 1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.repeat(samples.astype("<i2"), channels).tobytes())
    return out.getvalue()


def test_stdin_audio_is_read_in_blocks_of_at_most_the_block_length():
    samples = (np.arange(8000 * 1 + 123) % 2000 - 1000).astype(np.int16)
    for data, name in ((samples.astype("<i2").tobytes(), "raw"), (_wav_bytes(samples, 8000, 2), "wav")):
        blocks = list(read_pcm_blocks(io.BytesIO(data), 8000, block_ms=320))
        assert max(len(b) for b in blocks) == 2560, name  # 320 ms at 8 kHz
        np.testing.assert_array_equal(np.concatenate(blocks), samples.astype(np.float32))
    with pytest.raises(AsrError, match="16000 Hz audio, the model takes 8000 Hz; resample"):
        list(read_pcm_blocks(io.BytesIO(_wav_bytes(samples, 16000)), 8000))
    with pytest.raises(AsrError, match="stdin: the audio stops in the middle of a sample"):
        list(read_pcm_blocks(io.BytesIO(samples.astype("<i2").tobytes() + b"\x01"), 8000))


def test_asr_transcribe_streams_stdin(causal_tone_dir, tmp_path):
    """`asr transcribe --stream -`: WAV on stdin, partial text on stderr, the final line on stdout; audio that
    stops mid-sample is a one-line error and a non-zero exit."""
    text = "ab cd"
    audio = synthesize(causal_tone_dir, spell(causal_tone_dir, text))
    command = [sys.executable, "-m", "asr", "transcribe", "--model", str(causal_tone_dir), "--device", "cpu",
               "--stream", "--block-ms", "100", "-"]
    done = subprocess.run(command, input=_wav_bytes(np.round(audio), RATE), capture_output=True, cwd=REPO)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == text
    assert "partial: ab\n" in done.stderr.decode()
    broken = subprocess.run(command, input=np.round(audio).astype("<i2").tobytes()[:-1], capture_output=True,
                            cwd=REPO)
    assert broken.returncode != 0 and broken.stdout == b""
    assert "the audio stops in the middle of a sample" in broken.stderr.decode().strip().splitlines()[-1]
