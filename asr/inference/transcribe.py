"""Audio files -> words with times: `asr transcribe` and the Python API `asr.transcribe(...)`.

    import asr
    for t in asr.transcribe("exp/crnn", ["a.wav", "b.flac"], lm="data/local/lm/lm.arpa"):
        print(t.source, t.text, [(w.word, w.start, w.end) for w in t.words])

Any sample rate (resampled to the model's, polyphase) and any channel count (channels averaged, or one picked
with `channel`). Long audio is processed in overlapping chunks so memory stays bounded whatever the length:

- the file is read block by block with soundfile: each chunk is `chunk_length_s` of audio plus up to
  `chunk_context_s` on each side, cut on the model's frame grid (whole output frames, subsampling included);
- features, CMVN and the network run on the chunk with its context, and only the posteriors of the chunk's
  centre are kept, so every kept frame saw context on both sides;
- the kept posteriors are stitched in a buffer; once it holds `chunk_length_s`, it is decoded, and the words that
  end before its last half chunk are final: the buffer is cut in the middle of the gap after the last of them
  and the rest waits for the next chunk's posteriors, to be decoded again with them. So no word is split at a
  chunk boundary, every frame is searched at most about twice, and memory stays bounded. The LM context restarts
  at each cut. Word times count from the start of the file.

A file no longer than one chunk is processed whole, exactly as `asr decode` does an utterance. A longer one is, by
default (`segment="energy"`), first cut where it pauses (asr.inference.vad: an energy VAD, two reads of the
file, memory flat in its length): each speech segment is decoded as one utterance, as a model trained on short
utterances expects, and silence gives no words. With a per-speaker CMVN model the file is one speaker: its speech
segments' stats normalise every segment. `segment="none"` keeps the clock-based chunks described above.

`asr.transcribe` is this module's `transcribe`, imported on first use, so `import asr` itself stays free of torch.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from asr.inference.config import InferenceConfig, field_names
from asr.inference.network import model_posteriors
from asr.inference.search import Searcher, make_searcher
from asr.decoding import DecodeOptions, WordTiming
from asr.errors import AsrError

logger = logging.getLogger(__name__)

EXTENSIONS = {"text": ".txt", "json": ".json", "srt": ".srt", "ctm": ".ctm"}  # --output-dir file per format
FORMATS = tuple(EXTENSIONS)
SRT_MAX_WORDS = 12  # words per subtitle cue
SRT_MAX_S = 5.0  # longest cue
SRT_PAUSE_S = 0.6  # a silence this long starts a new cue
SRT_UNSURE_BELOW = 0.5  # words heard with less confidence are set in italics (<i>, which SubRip players render),
#                         for whoever checks the captions; json and ctm carry every word's confidence


@dataclass
class Word:
    word: str
    start: float  # seconds from the start of the file
    end: float
    confidence: float | None = None  # in [0, 1], from the CTC posteriors (asr.decoding.confidence)


@dataclass
class Transcript:
    """The result for one audio file."""

    source: str  # the path as given
    text: str
    words: list[Word] = field(default_factory=list)
    duration: float = 0.0  # seconds of audio

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.source, "text": self.text, "duration": round(self.duration, 3),
                "words": [{"word": w.word, "start": round(w.start, 3), "end": round(w.end, 3),
                           "confidence": None if w.confidence is None else round(w.confidence, 3)}
                          for w in self.words]}


def transcript_of(source: str, timings: Sequence[WordTiming], frame_shift_s: float, duration: float) -> Transcript:
    """A Transcript from words timed in output frames."""
    words = [Word(t.word, t.start_frame * frame_shift_s, t.end_frame * frame_shift_s, t.confidence) for t in timings]
    return Transcript(source, " ".join(w.word for w in words), words, duration)


# --------------------------------------------------------------------------------------------- audio in blocks
class AudioFile:
    """One audio file, read in pieces: mono float32 in the int16 range, at the model's sample rate.

    Positions are samples at `target_rate`; the file is only ever read for the range asked for."""

    def __init__(self, path: str | os.PathLike, target_rate: int, channel: int | None = None) -> None:
        import soundfile as sf

        self.path = os.fspath(path)
        self.target_rate = int(target_rate)
        if not os.path.exists(self.path):
            raise AsrError(f"{self.path}: audio file not found; check the path")
        if os.path.isdir(self.path):
            raise AsrError(f"{self.path}: is a directory, not an audio file")
        try:
            self._file = sf.SoundFile(self.path)
        except (sf.SoundFileError, RuntimeError, ValueError, TypeError) as e:
            raise AsrError(f"{self.path}: cannot read as audio ({' '.join(str(e).split())}); the file is corrupt or "
                           f"in an unsupported format, convert it to WAV/FLAC (sox, ffmpeg)") from None
        self.rate, self.channels, frames = self._file.samplerate, self._file.channels, self._file.frames
        if self.rate <= 0 or self.channels < 1:
            self.close()
            raise AsrError(f"{self.path}: header gives rate {self.rate} Hz, {self.channels} channels; corrupt file")
        if channel is not None and not 0 <= channel < self.channels:
            self.close()
            raise AsrError(f"{self.path}: channel {channel} requested but the file has {self.channels} channel(s); "
                           f"pass --channel between 0 and {self.channels - 1}")
        if frames <= 0:
            self.close()
            raise AsrError(f"{self.path}: contains no samples; nothing to transcribe")
        self.channel = channel
        self.file_frames = frames
        self.num_samples = int(frames * self.target_rate // self.rate)

    @property
    def duration(self) -> float:
        return self.file_frames / self.rate

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples [start, stop) at the target rate (fewer at the end of the file)."""
        from asr.audio import INT16_SCALE, resample

        begin = int(round(start * self.rate / self.target_rate))
        end = min(self.file_frames, int(round(stop * self.rate / self.target_rate)))
        try:
            self._file.seek(begin)
            block = self._file.read(max(0, end - begin), dtype="float32", always_2d=True)
        except (RuntimeError, ValueError, OSError) as e:
            raise AsrError(f"{self.path}: read failed at sample {begin} ({' '.join(str(e).split())}); the file is "
                           f"truncated or corrupt") from None
        wave = block[:, self.channel] if self.channel is not None else block.mean(axis=1, dtype=np.float32)
        if not np.all(np.isfinite(wave)):
            raise AsrError(f"{self.path}: NaN or infinite samples near {begin / self.rate:.2f} s; the audio is broken")
        if self.rate != self.target_rate:
            wave = resample(wave, self.rate, self.target_rate)[:stop - start]
        return np.ascontiguousarray(wave * np.float32(INT16_SCALE), dtype=np.float32)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> AudioFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AudioSpan:
    """Samples [start, stop) of an AudioFile, read as a file of their own (positions count from `start`)."""

    def __init__(self, audio: AudioFile, start: int, stop: int) -> None:
        self.audio, self.start, self.num_samples, self.path = audio, start, stop - start, audio.path

    def read(self, start: int, stop: int) -> np.ndarray:
        return self.audio.read(self.start + start, self.start + min(stop, self.num_samples))


# --------------------------------------------------------------------------------------------- the transcriber
@dataclass
class _Geometry:
    """The model's frame grid: samples per input frame (shift, window), input frames per output frame."""

    shift: int
    window: int
    snip_edges: bool
    subsampling: int
    opts: Any

    def input_frames(self, num_samples: int) -> int:
        from asr.features.framing import num_frames

        return num_frames(num_samples, self.opts)


class Transcriber:
    """A model directory loaded once, with its search, transcribing file after file."""

    def __init__(self, model_dir: str | os.PathLike, *, lm: Any = None, lang_dir: str | os.PathLike | None = None,
                 hotwords: Iterable[str] | None = None, options: DecodeOptions | None = None,
                 config: InferenceConfig | None = None, channel: int | None = None, progress: bool = False,
                 vad: Any = None) -> None:
        from asr.features import make_options
        from asr.inference.vad import VadOptions

        self.config = config or InferenceConfig()
        self.searcher: Searcher = make_searcher(model_dir, lm=lm, lang_dir=lang_dir, hotwords=hotwords,
                                                options=options, greedy=self.config.greedy)
        from asr.modeldir import load_model_dir  # imports torch; local, so `import asr.transcribe` does not

        self.model = load_model_dir(model_dir, self.config.device, self.config.num_threads)
        self.channel = channel
        self.progress = progress
        self.vad = dataclasses.replace(vad or VadOptions(), max_segment_s=float("inf"))  # long ones: the chunks
        opts = make_options(self.model.feature_kind, self.model.feature_options)
        self.rate = int(self.model.sample_frequency)
        self.grid = _Geometry(opts.window_shift, opts.window_size, opts.snip_edges,
                              self.model.subsampling, opts)

    def __call__(self, path: str | os.PathLike) -> Transcript:
        """Transcribe one file (whole, or in chunks when longer than one chunk)."""
        with AudioFile(path, self.rate, self.channel) as audio:
            timings = list(self._words(audio))
            duration = audio.duration
        return transcript_of(os.fspath(path), timings, self.model.frame_shift_s, duration)

    def _chunk_frames(self) -> tuple[int, int]:
        """(chunk, context) in input frames, both whole output frames."""
        s = self.grid.subsampling
        per_s = self.rate / self.grid.shift
        chunk = max(s, int(round(self.config.chunk_length_s * per_s / s)) * s)
        context = int(np.ceil(self.config.chunk_context_s * per_s / s)) * s
        return chunk, context

    def chunk_posteriors(self, audio: AudioFile | AudioSpan) -> Iterator[np.ndarray]:
        """The file's (T', V) log-posteriors, one block per chunk: only chunk centres, so the blocks concatenate
        to one row per output frame of the whole file. A file no longer than one chunk is one block."""
        total = self.grid.input_frames(audio.num_samples)
        chunk, context = self._chunk_frames()
        if total <= chunk:
            lp = model_posteriors(self.model, [self.model.network_input(audio.read(0, audio.num_samples),
                                                                           self.rate)])[0]
            if len(lp) == 0:
                logger.warning("%s: shorter than one feature frame; empty transcript", audio.path)
            yield lp
            return
        from tqdm import tqdm

        s = self.grid.subsampling
        for start in tqdm(range(0, total, chunk), desc=Path(audio.path).name, unit="chunk",
                          disable=not self.progress, leave=False, dynamic_ncols=True):
            stop = min(start + chunk, total)
            first, last = max(0, start - context), min(total, stop + context)
            wave = audio.read(first * self.grid.shift, last * self.grid.shift + self.grid.window)
            lp = model_posteriors(self.model, [self.model.network_input(wave, self.rate)[:last - first]])[0]
            yield lp[(start - first) // s: -(-(stop - first) // s)]

    def _words(self, audio: AudioFile) -> Iterator[WordTiming]:
        """The words of the file with output-frame times from its start, in order."""
        if self.config.segment == "energy" and self.grid.input_frames(audio.num_samples) > self._chunk_frames()[0]:
            yield from self._segment_words(audio)
            return
        yield from self._chunk_words(audio)

    def _segment_words(self, audio: AudioFile) -> Iterator[WordTiming]:
        """Each speech segment decoded as one utterance (one longer than a chunk through the chunks), word times
        shifted to the file's output frames."""
        from asr.features.cmvn import accumulate_cmvn_stats
        from asr.inference.vad import frame_log_energy, speech_segments

        energy = frame_log_energy(audio.read, audio.num_samples, self.rate, self.vad)
        spans = [(int(a * self.rate), min(int(b * self.rate), audio.num_samples))
                 for a, b in speech_segments(energy, self.vad)]
        logger.info("%s: %d speech segments, %.1f of %.1f s", audio.path, len(spans),
                    sum(b - a for a, b in spans) / self.rate, audio.num_samples / self.rate)
        if not spans:
            return
        chunk = self._chunk_frames()[0] * self.grid.shift  # samples
        stats = None
        if self.model.cmvn == "speaker":  # the file is one speaker: its speech, not each segment alone
            stats = accumulate_cmvn_stats(self.model.raw_features(audio.read(p, min(p + chunk, b)), self.rate)
                                          for a, b in spans for p in range(a, b, chunk))
        samples_per_frame = self.rate * self.model.frame_shift_s
        for a, b in spans:
            offset = int(round(a / samples_per_frame))
            if b - a > chunk:
                words = self._chunk_words(AudioSpan(audio, a, b))
            else:
                feats = self.model.normalize(self.model.raw_features(audio.read(a, b), self.rate), stats)
                posteriors = model_posteriors(self.model, [feats])[0]
                words = iter(self.searcher(posteriors)[0].words if len(posteriors) else [])
            yield from (_shifted(w, offset) for w in words)

    def _chunk_words(self, audio: AudioFile | AudioSpan) -> Iterator[WordTiming]:
        """Clock-based chunks decoded in a buffer cut between words (the module docstring)."""
        segment = self._chunk_frames()[0] // self.grid.subsampling  # output frames decoded at a time, at least
        tail = segment // 2  # words ending this close to the buffer's end wait for the next chunk
        buffer: list[np.ndarray] = []
        offset = 0  # output frame where the buffer starts
        for block in self.chunk_posteriors(audio):
            buffer.append(block)
            if sum(map(len, buffer)) <= segment:
                continue
            posteriors = np.concatenate(buffer)
            words = self.searcher(posteriors)[0].words
            count, cut = word_gap_cut(words, len(posteriors) - tail)
            if cut == 0 and len(posteriors) >= 2 * segment:  # one "word" longer than a chunk: take it whole
                count, cut = len(words), len(posteriors)
            yield from (_shifted(w, offset) for w in words[:count])
            offset += cut
            buffer = [posteriors[cut:]]
        yield from (_shifted(w, offset) for w in self.searcher(np.concatenate(buffer))[0].words)


def _shifted(word: WordTiming, offset: int) -> WordTiming:
    return dataclasses.replace(word, start_frame=word.start_frame + offset, end_frame=word.end_frame + offset)


def word_gap_cut(words: Sequence[WordTiming], limit: int) -> tuple[int, int]:
    """(number of words to keep, frame to cut at): the latest gap between decoded words that begins by `limit`,
    cut in its middle (at most at `limit`), so that no kept word can still grow with later audio."""
    count, cut = 0, 0
    for i in range(len(words) + 1):
        begin = words[i - 1].end_frame if i else 0
        if begin > limit:
            break
        end = min(words[i].start_frame if i < len(words) else limit, limit)
        count, cut = i, (begin + max(begin, end)) // 2
    return count, cut


def transcribe(model_dir: str | os.PathLike, audio: str | os.PathLike | Sequence[str | os.PathLike], lm: Any = None,
               *, lang_dir: str | os.PathLike | None = None, hotwords: Iterable[str] | None = None,
               options: DecodeOptions | None = None, config: InferenceConfig | None = None,
               channel: int | None = None, progress: bool = False, **overrides: Any) -> list[Transcript]:
    """Transcribe one audio file or several with a model directory; one Transcript per file, in order.

    `lm`: an ARPA path or a loaded N-gram LM. `overrides`: DecodeOptions or InferenceConfig fields by name
    (beam_size=8, lm_weight=0.8, greedy=True, chunk_length_s=20, ...), applied over `options`/`config`."""
    options = options or DecodeOptions()
    config = config or InferenceConfig()
    if overrides:
        unknown = set(overrides) - field_names(DecodeOptions) - field_names(InferenceConfig)
        if unknown:
            raise TypeError(f"transcribe() got unknown option(s) {sorted(unknown)}")
        options = dataclasses.replace(options, **{k: v for k, v in overrides.items()
                                                  if k in field_names(DecodeOptions)})
        config = dataclasses.replace(config, **{k: v for k, v in overrides.items()
                                                if k in field_names(InferenceConfig)})
    paths = [audio] if isinstance(audio, (str, os.PathLike)) else list(audio)
    transcriber = Transcriber(model_dir, lm=lm, lang_dir=lang_dir, hotwords=hotwords, options=options,
                              config=config, channel=channel, progress=progress)
    return [transcriber(path) for path in paths]


# --------------------------------------------------------------------------------------------- output formats
def format_transcript(transcript: Transcript, fmt: str, *, several: bool = False) -> str:
    """One file's result in one of FORMATS, as `asr transcribe` prints it (`several`: one of several files).

    text: the text, or `file<TAB>text` for one of several files; json: one JSON object per line (JSON Lines) with
    file, text, duration and the words with start/end seconds; srt: SubRip cues, headed `==> file <==` for one
    of several files; ctm: `name 1 start duration word` lines, name = the file name without its extension."""
    if fmt == "text":
        return f"{transcript.source}\t{transcript.text}\n" if several else transcript.text + "\n"
    if fmt == "json":
        return json.dumps(transcript.to_dict(), ensure_ascii=False) + "\n"
    if fmt == "srt":
        return (f"==> {transcript.source} <==\n" if several else "") + format_srt(transcript)
    if fmt == "ctm":
        return format_ctm(transcript)
    raise AsrError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def format_transcripts(transcripts: Sequence[Transcript], fmt: str) -> str:
    """All results, as `asr transcribe` prints them for these files."""
    return "".join(format_transcript(t, fmt, several=len(transcripts) > 1) for t in transcripts)


def write_transcript(transcript: Transcript, fmt: str, output_dir: str | os.PathLike) -> Path:
    """Write one file's result to output_dir/<file name without extension>.<txt|json|srt|ctm>, atomically."""
    from asr.fileio import write_text_atomic

    target = Path(output_dir) / (Path(transcript.source).stem + EXTENSIONS[fmt])
    write_text_atomic(target, format_transcript(transcript, fmt))
    logger.info("%s -> %s", transcript.source, target)
    return target


def format_ctm(transcript: Transcript) -> str:
    from asr.kaldi_io.ctm import ctm_line

    name = Path(transcript.source).stem
    return "".join(ctm_line(name, w.start, w.end - w.start, w.word, confidence=w.confidence)
                   for w in transcript.words)


def _srt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def format_srt(transcript: Transcript) -> str:
    """SubRip cues: words grouped until a pause, SRT_MAX_WORDS words or SRT_MAX_S seconds; words whose confidence
    is below SRT_UNSURE_BELOW in italics."""
    cues: list[list[Word]] = []
    for word in transcript.words:
        if cues and (word.start - cues[-1][-1].end < SRT_PAUSE_S and len(cues[-1]) < SRT_MAX_WORDS
                     and word.end - cues[-1][0].start <= SRT_MAX_S):
            cues[-1].append(word)
        else:
            cues.append([word])
    return "".join(f"{i}\n{_srt_time(c[0].start)} --> {_srt_time(c[-1].end)}\n{' '.join(map(_srt_word, c))}\n\n"
                   for i, c in enumerate(cues, 1))


def _srt_word(word: Word) -> str:
    unsure = word.confidence is not None and word.confidence < SRT_UNSURE_BELOW
    return f"<i>{word.word}</i>" if unsure else word.word


__all__ = ["AudioFile", "FORMATS", "Transcriber", "Transcript", "Word", "format_srt", "format_transcript",
           "format_transcripts", "transcribe", "word_gap_cut", "write_transcript"]
