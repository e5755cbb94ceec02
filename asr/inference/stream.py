"""Streaming recognition: audio arrives in blocks (from a microphone through stdin, say), the words so far are
known after every block, and the final result comes when the stream ends.

    with_stdin = read_pcm_blocks(sys.stdin.buffer, rate=8000, block_ms=320)
    stream = StreamingTranscriber("exp/causal").start("-")
    for block in with_stdin:
        partial = stream.accept_waveform(block)   # the current utterance so far
        for utterance in stream.take_finals():    # those that ended in a pause
            print(utterance.text)
    stream.finish()
    print(*(u.text for u in stream.take_finals()))

Every stage carries its state from block to block, so the result equals the offline decoding of the same model on
the same audio, whatever the block sizes: Kaldi frames are computed once their 25 ms window has arrived, the
causal network (asr.models.stream) gives each output frame once its input is there, and the prefix beam search
(asr.inference.search.SearchStream) carries its beam. A long stream is cut into utterances at its endpoints
(pauses, as Kaldi's online decoders and sherpa-onnx cut it): each utterance is final when it ends, and the
network and search start afresh for the next, so memory does not grow with the stream. This needs a model
trained with `--causal true` (no layer reads later frames) and CMVN that needs no look-ahead (`--cmvn global` or
`none`: speaker and utterance stats need the whole recording).
"""

from __future__ import annotations

import dataclasses
import os
import wave
from typing import Any, BinaryIO, Callable, Iterable, Iterator

import numpy as np

from asr.decoding import DecodeOptions
from asr.errors import AsrError
from asr.inference.config import InferenceConfig
from asr.inference.search import make_searcher
from asr.inference.transcribe import Transcript, Word, transcript_of

BLOCK_MS = 320  # audio per block read from a stream (a microphone delivers it in real time)
STREAMING_CMVN = ("global", "none")  # the normalisations that need no look-ahead


class StreamingTranscriber:
    """A causal model directory loaded once; `start` begins one stream (one utterance)."""

    def __init__(self, model_dir: str | os.PathLike, *, lm: Any = None, lang_dir: str | os.PathLike | None = None,
                 hotwords: Iterable[str] | None = None, options: DecodeOptions | None = None,
                 config: InferenceConfig | None = None) -> None:
        from asr.features import make_options
        from asr.modeldir import load_model_dir

        self.config = config or InferenceConfig()
        self.searcher = make_searcher(model_dir, lm=lm, lang_dir=lang_dir, hotwords=hotwords, options=options,
                                      greedy=self.config.greedy)
        self.model = load_model_dir(model_dir, "cpu", self.config.num_threads)
        module = getattr(self.model.network, "module", None)
        if module is None:
            raise AsrError(f"{model_dir}: an exported model; streaming runs the trained model directory (model.pt) "
                           f"of a causal model")
        if not getattr(module, "causal", False):
            raise AsrError(f"{model_dir}: a bidirectional model reads later frames and cannot stream; train one with "
                           f"asr train --causal true")
        if self.model.cmvn not in STREAMING_CMVN:
            raise AsrError(f"{model_dir}: normalises features per {self.model.cmvn} (cmvn: {self.model.cmvn}), which "
                           f"needs the whole recording; stream a model trained with --cmvn global")
        if self.model.feature_flavor != "kaldi":
            raise AsrError(f"{model_dir}: {self.model.feature_flavor}-flavor features pad the signal's edges; "
                           f"streaming computes Kaldi features frame by frame")
        opts = make_options(self.model.feature_kind, self.model.feature_options)
        if not opts.snip_edges:
            raise AsrError(f"{model_dir}: features with snip_edges=false reflect the signal at its end; streaming "
                           f"needs snip_edges=true (Kaldi's default)")
        self.module = module
        self.window, self.shift = opts.window_size, opts.window_shift
        self.rate = int(self.model.sample_frequency)

    def start(self, source: str = "-") -> UtteranceStream:
        """A new stream (one or more utterances); `source` names it in the transcript."""
        return UtteranceStream(self, source)


class UtteranceStream:
    """One stream of samples (mono, int16 range, at the model's rate), cut into utterances at its endpoints.

    An utterance ends when the network's best unit has been the blank for `endpoint_silence_s` after a word, or it
    has run `endpoint_max_s` (InferenceConfig); silence with no word for `endpoint_idle_s` is dropped. At an
    endpoint the utterance's words become final (`take_finals`) and the network and search start afresh, as a new
    utterance does in training, so nothing grows with the stream's length. Audio with no endpoint is one utterance,
    decoded exactly as offline transcription decodes it."""

    def __init__(self, transcriber: StreamingTranscriber, source: str) -> None:
        self.transcriber = transcriber
        self.source = source
        self.pending = np.zeros(0, dtype=np.float32)  # samples from the next frame's start on
        self.num_samples = 0
        self.words: list[Word] = []     # the final words of the stream so far (times from its start)
        self.finals: list[Transcript] = []  # utterances ended since the last take_finals
        self.offset = 0                 # output frames of the stream before the current utterance
        self._start_utterance()

    def _start_utterance(self) -> None:
        from asr.models.stream import NetworkStream

        self.network = NetworkStream(self.transcriber.module)
        self.search = self.transcriber.searcher.stream()
        self.frames = 0        # output frames of the current utterance
        self.silence = 0       # of which the last ones had the blank as best unit
        self.spoken = False    # any frame whose best unit was not the blank

    def accept_waveform(self, samples: np.ndarray) -> str:
        """Take the next samples; return the partial text of the current utterance."""
        t = self.transcriber
        self.pending = np.concatenate([self.pending, np.asarray(samples, dtype=np.float32)])
        self.num_samples += len(samples)
        frames = 0 if len(self.pending) < t.window else 1 + (len(self.pending) - t.window) // t.shift
        if frames:
            raw = t.model.raw_features(self.pending[:(frames - 1) * t.shift + t.window], t.rate)
            self.pending = self.pending[frames * t.shift:]
            self._accept_posteriors(self.network.accept(t.model.normalize(raw)))
        return self.search.best_text()

    def _accept_posteriors(self, log_probs: np.ndarray) -> None:
        self.search.accept(log_probs)
        if not len(log_probs):
            return
        spoken = np.flatnonzero(log_probs.argmax(axis=1) != self.transcriber.searcher.options.blank)
        self.silence = len(log_probs) - 1 - spoken[-1] if len(spoken) else self.silence + len(log_probs)
        self.spoken = self.spoken or len(spoken) > 0
        self.frames += len(log_probs)
        config, shift = self.transcriber.config, self.transcriber.model.frame_shift_s
        if not self.spoken:
            if config.endpoint_idle_s and self.silence * shift >= config.endpoint_idle_s:
                self.offset += self.frames  # silence alone: nothing to say, start afresh
                self._start_utterance()
        elif (config.endpoint_silence_s and self.silence * shift >= config.endpoint_silence_s) or \
                (config.endpoint_max_s and self.frames * shift >= config.endpoint_max_s):
            self._end_utterance()

    def _end_utterance(self) -> None:
        """Make the current utterance's words final and start the next utterance."""
        self.search.accept(self.network.finish())
        shift = self.transcriber.model.frame_shift_s
        timings = [dataclasses.replace(w, start_frame=w.start_frame + self.offset, end_frame=w.end_frame + self.offset)
                   for w in self.search.finish()[0].words]
        final = transcript_of(self.source, timings, shift, self.num_samples / self.transcriber.rate)
        self.words += final.words
        self.finals.append(final)
        self.offset += self.frames
        self._start_utterance()

    def take_finals(self) -> list[Transcript]:
        """The utterances that ended since the last call, in order (word times from the stream's start)."""
        finals, self.finals = self.finals, []
        return finals

    def finish(self) -> Transcript:
        """The end of the stream: its last utterance is final (`take_finals`); returns the whole stream's words."""
        if self.spoken or not self.words:
            self._end_utterance()
        return Transcript(self.source, " ".join(w.word for w in self.words), list(self.words),
                          self.num_samples / self.transcriber.rate)


def read_pcm_blocks(stream: BinaryIO, rate: int, block_ms: float = BLOCK_MS,
                    name: str = "stdin") -> Iterator[np.ndarray]:
    """Blocks of at most `block_ms` of 16-bit audio from a byte stream: a WAV stream (its header says the rate and
    channels; channels are averaged) or headerless little-endian PCM, mono at `rate` (`arecord -f S16_LE`).
    Samples come in the int16 range as float32."""
    head = stream.read(4)
    channels = 1
    if head == b"RIFF":
        try:
            reader = wave.open(_Prefixed(head, stream), "rb")
        except (wave.Error, EOFError) as e:
            raise AsrError(f"{name}: a WAV header that cannot be read ({e}); send 16-bit PCM WAV or raw samples") \
                from None
        if reader.getsampwidth() != 2:
            raise AsrError(f"{name}: {8 * reader.getsampwidth()}-bit WAV; send 16-bit PCM (sox ... -b 16)")
        if reader.getframerate() != rate:
            raise AsrError(f"{name}: {reader.getframerate()} Hz audio, the model takes {rate} Hz; resample it "
                           f"(sox - -r {rate} -t wav -)")
        channels = reader.getnchannels()

        def read(count: int) -> bytes:
            return reader.readframes(count // (2 * channels))
    else:
        leftover = head

        def read(count: int) -> bytes:
            nonlocal leftover
            data, leftover = leftover + stream.read(count - len(leftover)), b""
            return data
    block_bytes = max(1, int(rate * block_ms / 1000)) * 2 * channels
    while True:
        data = read(block_bytes)
        if not data:
            return
        if len(data) % (2 * channels):
            raise AsrError(f"{name}: the audio stops in the middle of a sample ({len(data) % (2 * channels)} bytes "
                           f"left over); send whole 16-bit samples")
        samples = np.frombuffer(data, dtype="<i2").astype(np.float32)
        yield samples.reshape(-1, channels).mean(axis=1, dtype=np.float32) if channels > 1 else samples


class _Prefixed:
    """A byte stream with bytes already read put back in front (wave.open reads the header itself)."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.head, self.stream = head, stream

    def read(self, count: int = -1) -> bytes:
        head, self.head = self.head, b""
        if count < 0:
            return head + self.stream.read()
        if len(head) >= count:
            self.head = head[count:]
            return head[:count]
        return head + self.stream.read(count - len(head))


def file_blocks(path: str | os.PathLike, rate: int, block_ms: float = BLOCK_MS,
                channel: int | None = None) -> Iterator[np.ndarray]:
    """An audio file read as a stream would deliver it: blocks of `block_ms` at the model's rate."""
    from asr.inference.transcribe import AudioFile

    with AudioFile(path, rate, channel) as audio:
        step = max(1, int(rate * block_ms / 1000))
        for start in range(0, audio.num_samples, step):
            yield audio.read(start, min(start + step, audio.num_samples))


def transcribe_stream(transcriber: StreamingTranscriber, blocks: Iterable[np.ndarray], source: str = "-",
                      on_partial: Callable[[str], Any] | None = None,
                      on_final: Callable[[Transcript], Any] | None = None) -> Transcript:
    """Feed `blocks` through one stream; `on_partial(text)` is called whenever the partial text of the current
    utterance changes, `on_final(transcript)` as each utterance ends. Returns the whole stream's transcript."""
    stream = transcriber.start(source)
    shown = ""
    for block in blocks:
        text = stream.accept_waveform(block)
        for final in stream.take_finals():
            if on_final is not None:
                on_final(final)
        if on_partial is not None and text != shown:
            on_partial(text)
            shown = text
    whole = stream.finish()
    for final in stream.take_finals():
        if on_final is not None:
            on_final(final)
    return whole
