"""Energy VAD (asr.inference.vad) and transcription of long audio cut in its pauses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import asr
from asr.errors import AsrError
from asr.inference.vad import VadOptions, frame_log_energy, speech_segments
from tone_model import RATE, build_tone_model_dir, spell, synthesize, write_wav


def _bursts(spans_s: list[tuple[float, float]], total_s: float, *, level: float = 3000.0, noise: float = 30.0,
            seed: int = 0) -> np.ndarray:
    """White noise at `noise` with louder noise bursts (speech stand-ins) over `spans_s`."""
    rng = np.random.default_rng(seed)
    wave = rng.normal(0.0, noise, int(total_s * RATE))
    for start, end in spans_s:
        a, b = int(start * RATE), int(end * RATE)
        wave[a:b] = rng.normal(0.0, level, b - a)
    return wave.astype(np.float32)


def _segments(wave: np.ndarray, options: VadOptions = VadOptions()) -> list[tuple[float, float]]:
    return speech_segments(frame_log_energy(lambda a, b: wave[a:b], len(wave), RATE, options), options)


def test_segments_follow_the_speech_and_pauses_split_them() -> None:
    spans = [(0.5, 1.0), (1.6, 2.3), (3.0, 3.4)]
    found = _segments(_bursts(spans, 4.0))
    assert len(found) == len(spans)
    for (start, end), (a, b) in zip(spans, found):
        assert abs(a - start) <= 0.03 and abs(b - end) <= 0.03  # a frame: 25 ms window, 10 ms shift


def test_another_detectors_frames_replace_the_threshold_and_keep_the_rest_of_the_segmenter() -> None:
    """`speech` frames (e.g. WebRTC's calls) decide what is speech: a burst they miss is no segment, and a stretch
    they call speech becomes one, still bridged over short gaps and dropped when shorter than a click."""
    wave = _bursts([(0.5, 1.0), (2.0, 2.5)], 4.0)
    options = VadOptions(extend_s=0.0)
    energy = frame_log_energy(lambda a, b: wave[a:b], len(wave), RATE, options)
    speech = np.zeros(len(energy), dtype=bool)
    speech[50:100] = True            # the first burst only
    speech[104:110] = True           # 40 ms later: bridged into it
    speech[300:303] = True           # 30 ms in a pause: a click, dropped
    ((start, end),) = speech_segments(energy, options, speech)
    assert start == pytest.approx(0.5) and end == pytest.approx(1.1 + 0.015)  # the last frame's window ends later
    assert speech_segments(energy, options, np.zeros(len(energy), dtype=bool)) == []


def test_short_pauses_are_bridged_clicks_dropped_and_padding_stays_within_the_pause() -> None:
    wave = _bursts([(0.5, 0.9), (0.98, 1.4), (2.0, 2.02)], 3.0)  # an 80 ms gap inside a "word", a 20 ms click
    assert len(_segments(wave)) == 1
    padded = _segments(_bursts([(0.5, 0.9), (1.1, 1.5)], 2.0), VadOptions(pad_s=0.3))
    assert len(padded) == 2 and padded[0][1] <= padded[1][0] + 1e-9  # each pad takes at most half of the pause
    assert abs(padded[0][0] - 0.2) <= 0.03


def test_a_weak_onset_and_tail_belong_to_their_word_but_quiet_noise_further_off_does_not() -> None:
    """A "word" whose first and last 40 ms are 30 dB quieter than its middle (10 dB above the pauses: a fricative)
    starts and ends with them; without the hysteresis (extend_s=0) it starts and ends where the loud part does.
    An equally weak burst 100 ms before a word, beyond extend_s, stays out."""
    rng = np.random.default_rng(2)
    wave = rng.normal(0.0, 30.0, 3 * RATE)
    for (start, end), level in (((0.50, 0.54), 100.0), ((0.54, 0.90), 3000.0), ((0.90, 0.94), 100.0),
                                ((1.50, 1.54), 100.0), ((1.64, 2.00), 3000.0)):
        a, b = int(start * RATE), int(end * RATE)
        wave[a:b] = rng.normal(0.0, level, b - a)
    wave = wave.astype(np.float32)
    (first, second) = _segments(wave)
    assert first[0] == pytest.approx(0.50, abs=0.03) and first[1] == pytest.approx(0.94, abs=0.03)
    assert second[0] == pytest.approx(1.64, abs=0.03)  # the burst at 1.50-1.54 is 100 ms off: not the word's
    (strict, _) = _segments(wave, VadOptions(extend_s=0.0))
    assert strict[0] == pytest.approx(0.54, abs=0.03) and strict[1] == pytest.approx(0.90, abs=0.03)


def test_noise_alone_has_no_speech_and_long_speech_is_split_under_the_limit() -> None:
    assert _segments(_bursts([], 3.0)) == []
    assert _segments(np.zeros(RATE, dtype=np.float32)) == []
    long = _segments(_bursts([(0.2, 7.8)], 8.0, seed=1), VadOptions(max_segment_s=2.0))
    assert len(long) >= 4 and all(b - a <= 2.0 + 0.05 for a, b in long)
    assert long[0][0] == pytest.approx(0.2, abs=0.03) and long[-1][1] == pytest.approx(7.8, abs=0.03)


def test_energies_do_not_depend_on_the_block_size() -> None:
    wave = _bursts([(0.3, 0.9)], 1.5)
    whole = frame_log_energy(lambda a, b: wave[a:b], len(wave), RATE, block_frames=100000)
    blocks = frame_log_energy(lambda a, b: wave[a:b], len(wave), RATE, block_frames=7)
    np.testing.assert_array_equal(whole, blocks)
    assert len(whole) == 1 + (len(wave) - 200) // 80


@pytest.fixture(scope="module")
def tone_dir(tmp_path_factory) -> Path:
    return build_tone_model_dir(tmp_path_factory.mktemp("tone") / "exp")


def test_long_audio_is_transcribed_segment_by_segment_and_silence_gives_no_words(tone_dir, tmp_path) -> None:
    texts = ["ab ba", "cd", "dc a", "b"]
    rng = np.random.default_rng(0)
    pieces = []
    for i, text in enumerate(texts):
        pieces += [synthesize(tone_dir, spell(tone_dir, text), seed=i), rng.normal(0, 20, RATE).astype(np.float32)]
    wav = write_wav(tmp_path / "long.wav", np.concatenate(pieces))
    chunked = {"device": "cpu", "chunk_length_s": 1.0}  # the file is several chunks long
    result = asr.transcribe(tone_dir, wav, segment="energy", **chunked)[0]
    assert result.text == " ".join(texts)
    assert all(a.end <= b.start for a, b in zip(result.words, result.words[1:]))
    silence = write_wav(tmp_path / "silence.wav", rng.normal(0, 20, 5 * RATE).astype(np.float32))
    assert asr.transcribe(tone_dir, silence, segment="energy", **chunked)[0].text == ""


def test_a_segment_longer_than_a_chunk_goes_through_the_chunks(tone_dir, tmp_path) -> None:
    """Speech without a pause longer than min_silence_s (the tones' gaps are 80 ms) is one segment of several
    chunks: decoded through the clock-based chunks inside it, it still gives the whole file's words."""
    text = " ".join(["ab ba cd dc"] * 4)
    wav = write_wav(tmp_path / "continuous.wav", synthesize(tone_dir, spell(tone_dir, text)))
    whole = asr.transcribe(tone_dir, wav, device="cpu", chunk_length_s=60.0)[0]
    segmented = asr.transcribe(tone_dir, wav, device="cpu", chunk_length_s=2.0, chunk_context_s=0.5)[0]
    assert whole.text == segmented.text == text
    assert [w.word for w in segmented.words] == [w.word for w in whole.words]
    for a, b in zip(segmented.words, whole.words):
        assert abs(a.start - b.start) <= 0.011 and abs(a.end - b.end) <= 0.011  # the span's offset, rounded


def test_data_segment_writes_a_kaldi_segments_file_that_validates(tmp_path) -> None:
    from asr.datadir import DataDir, read_data_dir, validate_data_dir, write_data_dir
    from asr.inference.vad import segment_data_dir

    recordings = {"rec1": [(0.5, 1.0), (1.6, 2.3)], "rec2": [(0.2, 0.6)]}
    wav_scp = {name: str(write_wav(tmp_path / f"{name}.wav", _bursts(spans, 3.0))) for name, spans in
               recordings.items()}
    write_data_dir(tmp_path / "long", DataDir(wav_scp=wav_scp, utt2spk={"rec1": "alice", "rec2": "bob"}))
    segment_data_dir(tmp_path / "long", tmp_path / "seg", progress=False)
    assert validate_data_dir(tmp_path / "seg") == []
    data = read_data_dir(tmp_path / "seg")
    assert [(s.recording, s.start, s.end) for s in data.segments.values()] == [
        ("rec1", pytest.approx(0.5, abs=0.03), pytest.approx(1.0, abs=0.03)),
        ("rec1", pytest.approx(1.6, abs=0.03), pytest.approx(2.3, abs=0.03)),
        ("rec2", pytest.approx(0.2, abs=0.03), pytest.approx(0.6, abs=0.03))]
    first = next(iter(data.segments))
    segment = data.segments[first]
    assert first == f"alice-rec1-{round(segment.start * 100):07d}-{round(segment.end * 100):07d}"
    assert set(data.utt2spk.values()) == {"alice", "bob"} and data.wav_scp == wav_scp
    with pytest.raises(AsrError, match="already segmented"):
        segment_data_dir(tmp_path / "seg", tmp_path / "again", progress=False)
