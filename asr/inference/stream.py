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
trained with `--causal true` (no layer reads later frames, but for a backward layer over chunks of a few
frames: `--chunk-frames`, `--right-context`) and CMVN that needs no look-ahead (`--cmvn global` or
`none`: speaker and utterance stats need the whole recording): its model directory, or its ONNX export, which
streams without torch.
"""

from __future__ import annotations

import dataclasses
import os
import wave
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Protocol

import numpy as np

from asr.decoding import DecodeOptions
from asr.errors import AsrError
from asr.inference.config import InferenceConfig
from asr.inference.search import make_searcher
from asr.inference.transcribe import Transcript, Word, transcript_of

BLOCK_MS = 320  # audio per block read from a stream (a microphone delivers it in real time)
STREAMING_CMVN = ("global", "none")  # the normalisations that need no look-ahead


class StreamingNetwork(Protocol):
    """A causal network as a stream runs it: the torch module (asr.models.stream.TorchStreamingNetwork) or its
    ONNX export (asr.inference.network.OnnxStreamingNetwork)."""

    subsampling: int    # input frames per output frame
    context: int        # input frames before a block that the front end reads again
    end_padding: int    # zero frames the model reads after the last one
    num_units: int      # outputs per frame (the blank included)
    chunk_frames: int   # output frames per chunk of the backward layer (0: none, `step` gives log-posteriors)
    right_context: int  # output frames after a chunk that its backward layer reads

    def front_end(self, window: np.ndarray) -> np.ndarray:
        """(T, F) normalised features -> (T', D) front-end frames, one per `subsampling` input frames."""

    def step(self, x: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        """(N, D) new front-end frames and the RNN state (None at the start) -> (N, V) log-posteriors, or with a
        backward layer (N, H) forward frames for `head`; and the new state."""

    def head(self, window: np.ndarray) -> np.ndarray:
        """(chunk_frames + right_context, H) forward frames -> (chunk_frames, V) log-posteriors of the chunk."""


class NetworkStream:
    """One utterance through a causal network, a block of normalised feature frames at a time.

    The front end of a causal crnn reads no later frames, so output frame j is final once input frame s * j has
    arrived (s: the subsampling). Each block reruns the front end over the new frames plus `context` frames of
    left context (enough for every new output to see all the frames it reads), and the RNN layers carry their
    state from block to block: the result equals the network run once on all the frames, whatever the blocks.
    A backward layer over chunks (`chunk_frames`) gives a chunk's frames once the chunk and its right context have
    come out of the RNN layers, and the last chunks at `finish`, read with zeros after the end as in a batch."""

    def __init__(self, network: StreamingNetwork) -> None:
        self.network = network
        self.buffer: np.ndarray | None = None  # input frames from `start` on
        self.start = 0                          # input frame index of buffer[0]
        self.done = 0                           # output frames given out so far
        self.state: Any = None                  # the RNN layers' state
        self.forward: np.ndarray | None = None  # forward frames of chunks not given out yet (backward layer only)

    def accept(self, feats: np.ndarray) -> np.ndarray:
        """Take the next (T, F) feature frames; return the (T', V) log-posteriors that became final."""
        net = self.network
        feats = np.asarray(feats, dtype=np.float32)
        self.buffer = feats if self.buffer is None else np.concatenate([self.buffer, feats])
        ready = -(-(self.start + len(self.buffer)) // net.subsampling)  # ceil: output j reads inputs up to s * j
        if ready == self.done:
            return np.zeros((0, net.num_units), dtype=np.float32)
        # rerun the front end from a multiple of s, `context` frames before the first new output's frames
        first = max(0, self.done * net.subsampling - net.context)
        x = net.front_end(self.buffer[first - self.start:])
        out, self.state = net.step(x[len(x) - (ready - self.done):], self.state)
        keep = max(0, ready * net.subsampling - net.context)
        self.buffer, self.start, self.done = self.buffer[keep - self.start:], keep, ready
        return self._chunks(out) if net.chunk_frames else out

    def _chunks(self, forward: np.ndarray, last: bool = False) -> np.ndarray:
        """The log-posteriors of the chunks whose right context the forward frames so far complete (`last`: of
        every chunk left, zeros after the end)."""
        net = self.network
        self.forward = forward if self.forward is None else np.concatenate([self.forward, forward])
        width = net.chunk_frames + net.right_context
        out = []
        while len(self.forward) >= width or (last and len(self.forward)):
            window = self.forward[:width]
            window = np.pad(window, ((0, width - len(window)), (0, 0)))
            out.append(net.head(window)[:min(net.chunk_frames, len(self.forward))])
            self.forward = self.forward[net.chunk_frames:]
        return np.concatenate(out) if out else np.zeros((0, net.num_units), dtype=np.float32)

    def finish(self) -> np.ndarray:
        """The end of the utterance: the posteriors of the model's `end_padding` frames of zeros, if any, and of the
        chunks still waiting for right context."""
        net = self.network
        out = np.zeros((0, net.num_units), dtype=np.float32)
        if net.end_padding and self.buffer is not None:
            out = self.accept(np.zeros((net.end_padding, self.buffer.shape[1]), dtype=np.float32))
        if net.chunk_frames and self.forward is not None:
            out = np.concatenate([out, self._chunks(self.forward[:0], last=True)])
        return out


class StreamingTranscriber:
    """A causal model directory (trained, or its ONNX export) loaded once; `start` begins one stream."""

    def __init__(self, model_dir: str | os.PathLike, *, lm: Any = None, lang_dir: str | os.PathLike | None = None,
                 hotwords: Iterable[str] | None = None, options: DecodeOptions | None = None,
                 config: InferenceConfig | None = None) -> None:
        from asr.features import make_options
        from asr.modeldir import load_model_dir

        self.config = config or InferenceConfig()
        self.searcher = make_searcher(model_dir, lm=lm, lang_dir=lang_dir, hotwords=hotwords, options=options,
                                      greedy=self.config.greedy)
        self.model = load_model_dir(model_dir, "cpu", self.config.num_threads)
        if not self.model.config.causal:
            raise AsrError(f"{model_dir}: a bidirectional model reads later frames and cannot stream; train one with "
                           f"asr train --causal true")
        module = getattr(self.model.network, "module", None)
        if module is not None:
            from asr.models.stream import TorchStreamingNetwork

            self.network: StreamingNetwork = TorchStreamingNetwork(module)
        else:
            from asr.inference.network import load_streaming_network
            from asr.modeldir import EXPORT_FILE

            self.network = load_streaming_network(Path(model_dir) / EXPORT_FILE, self.config.num_threads)
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
        self.network = NetworkStream(self.transcriber.network)
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
