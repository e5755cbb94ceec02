"""asr.audio: every format and wav.scp form we promise, and a one-line AsrError naming the file for bad input."""

from __future__ import annotations

import shlex
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asr.audio import audio_duration, load_audio, read_wav_scp_entry
from asr.errors import AsrError


def _pcm(n: int = 1600, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-20000, 20000, n).astype(np.int16)


@pytest.fixture
def wav16k(tmp_path: Path) -> tuple[Path, np.ndarray]:
    samples = _pcm()
    path = tmp_path / "a.wav"
    sf.write(path, samples, 16000, subtype="PCM_16")
    return path, samples


def _assert_one_line_naming(excinfo: pytest.ExceptionInfo, name: str) -> None:
    message = str(excinfo.value)
    assert "\n" not in message
    assert name in message


@pytest.mark.parametrize("fmt, ext", [("WAV", "wav"), ("FLAC", "flac"), ("NIST", "sph"), ("OGG", "ogg")])
def test_formats_read_in_int16_range(tmp_path: Path, fmt: str, ext: str) -> None:
    samples = _pcm()
    path = tmp_path / f"x.{ext}"
    sf.write(path, samples, 16000, format=fmt, subtype="VORBIS" if fmt == "OGG" else "PCM_16")
    wave, rate = load_audio(path)
    assert rate == 16000 and wave.dtype == np.float32 and wave.ndim == 1
    if fmt == "OGG":  # lossy: only the scale is checkable
        assert 5000 < np.abs(wave).max() < 32768
    else:  # lossless: exactly the int16 values, as Kaldi reads them
        np.testing.assert_array_equal(wave, samples.astype(np.float32))


def test_normalized_gives_unit_range(wav16k) -> None:
    path, samples = wav16k
    wave, _ = load_audio(path, normalized=True)
    np.testing.assert_allclose(wave, samples / 32768.0, atol=1e-7)


def test_real_fsdd_file_matches_soundfile_int16(fsdd_dir: Path) -> None:
    path = fsdd_dir / "0_jackson_0.wav"
    wave, rate = load_audio(path, sample_frequency=8000)
    reference, reference_rate = sf.read(path, dtype="int16")
    assert rate == reference_rate == 8000
    np.testing.assert_array_equal(wave, reference.astype(np.float32))
    assert audio_duration(path) == pytest.approx(len(reference) / 8000)


def test_multichannel_needs_channel(tmp_path: Path) -> None:
    stereo = np.stack([_pcm(seed=1), _pcm(seed=2)], axis=1)
    path = tmp_path / "st.wav"
    sf.write(path, stereo, 8000, subtype="PCM_16")
    with pytest.raises(AsrError, match="--channel") as excinfo:
        load_audio(path)
    _assert_one_line_naming(excinfo, str(path))
    wave, _ = load_audio(path, channel=1)
    np.testing.assert_array_equal(wave, stereo[:, 1].astype(np.float32))
    with pytest.raises(AsrError, match="channel 2"):
        load_audio(path, channel=2)


def test_eight_channels_pick_one(tmp_path: Path) -> None:
    data = np.random.default_rng(3).uniform(-0.5, 0.5, (500, 8)).astype(np.float32)
    path = tmp_path / "c8.wav"
    sf.write(path, data, 16000, subtype="FLOAT")
    wave, _ = load_audio(path, channel=5, normalized=True)
    np.testing.assert_array_equal(wave, data[:, 5])


def test_rate_mismatch_and_resample(wav16k) -> None:
    path, samples = wav16k
    with pytest.raises(AsrError, match="--allow-resample") as excinfo:
        load_audio(path, sample_frequency=8000)
    _assert_one_line_naming(excinfo, str(path))
    wave, rate = load_audio(path, sample_frequency=8000, allow_resample=True)
    from scipy.signal import resample_poly

    assert rate == 8000
    np.testing.assert_allclose(wave, resample_poly(samples.astype(np.float64), 1, 2), rtol=1e-5, atol=1e-2)


def test_sine_survives_resampling(tmp_path: Path) -> None:
    t = np.arange(8000) / 8000
    path = tmp_path / "sine.wav"
    sf.write(path, 0.5 * np.sin(2 * np.pi * 440 * t), 8000, subtype="FLOAT")
    wave, rate = load_audio(path, sample_frequency=16000, allow_resample=True, normalized=True)
    expected = 0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    assert rate == 16000 and len(wave) == 16000
    assert np.abs(wave[200:-200] - expected[200:-200]).max() < 1e-3


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", ["missing", "zero_length", "random_bytes", "truncated_header", "directory",
                                  "zero_samples", "nan", "inf", "zero_channels"])
def test_bad_audio_is_one_line_error_naming_file(tmp_path: Path, wav16k, case: str) -> None:
    good, _ = wav16k
    path = tmp_path / f"{case}.wav"
    if case == "zero_length":
        _write_bytes(path, b"")
    elif case == "random_bytes":
        _write_bytes(path, np.random.default_rng(0).bytes(4000))
    elif case == "truncated_header":
        _write_bytes(path, good.read_bytes()[:30])
    elif case == "directory":
        path.mkdir()
    elif case == "zero_samples":
        sf.write(path, np.zeros(0, np.int16), 16000)
    elif case in ("nan", "inf"):
        data = np.full(100, 0.1, np.float32)
        data[17] = np.nan if case == "nan" else np.inf
        sf.write(path, data, 16000, subtype="FLOAT")
    elif case == "zero_channels":
        raw = bytearray(good.read_bytes())
        raw[22:24] = struct.pack("<H", 0)  # fmt chunk: NumChannels
        _write_bytes(path, bytes(raw))
    with pytest.raises(AsrError) as excinfo:
        load_audio(path)
    _assert_one_line_naming(excinfo, str(path))


def test_single_sample_and_1hz_load(tmp_path: Path) -> None:
    path = tmp_path / "one.wav"
    sf.write(path, np.array([1234], np.int16), 1)
    wave, rate = load_audio(path)
    assert rate == 1 and wave.tolist() == [1234.0]
    with pytest.raises(AsrError, match="1 Hz"):
        load_audio(path, sample_frequency=16000)


def test_truncated_data_reads_what_is_there(wav16k, tmp_path: Path) -> None:
    good, samples = wav16k
    path = _write_bytes(tmp_path / "cut.wav", good.read_bytes()[:44 + 2 * 100])
    wave, _ = load_audio(path)
    np.testing.assert_array_equal(wave, samples[:100].astype(np.float32))


def test_scp_plain_path(wav16k) -> None:
    path, samples = wav16k
    wave, rate = read_wav_scp_entry(str(path))
    np.testing.assert_array_equal(wave, samples.astype(np.float32))


def test_scp_pipe_refused_without_flag_and_run_with_it(wav16k, tmp_path: Path) -> None:
    path, samples = wav16k
    marker = tmp_path / "ran"
    command = f"touch {shlex.quote(str(marker))}; cat {shlex.quote(str(path))} |"
    with pytest.raises(AsrError, match="--allow-pipes") as excinfo:
        read_wav_scp_entry(command, source="data/wav.scp:3")
    assert str(excinfo.value).startswith("data/wav.scp:3: ")
    assert not marker.exists(), "a refused pipe must not run"
    wave, rate = read_wav_scp_entry(command, allow_pipes=True)
    assert marker.exists() and rate == 16000
    np.testing.assert_array_equal(wave, samples.astype(np.float32))


def test_scp_pipe_streaming_header(wav16k) -> None:
    """sox/flac pipes write a WAV header with unknown (0xFFFFFFFF) sizes; it must still read."""
    path, samples = wav16k
    script = ("import sys; d = open(sys.argv[1], 'rb').read(); "
              "sys.stdout.buffer.write(d[:4] + b'\\xff' * 4 + d[8:40] + b'\\xff' * 4 + d[44:])")
    wave, _ = read_wav_scp_entry(f"{shlex.quote(sys.executable)} -c \"{script}\" {shlex.quote(str(path))} |",
                                 allow_pipes=True)
    np.testing.assert_array_equal(wave, samples.astype(np.float32))


def test_scp_pipe_failure_is_error(tmp_path: Path) -> None:
    with pytest.raises(AsrError, match="exit code 3"):
        read_wav_scp_entry("echo oops >&2; exit 3 |", allow_pipes=True)
    with pytest.raises(AsrError, match="nothing"):
        read_wav_scp_entry("true |", allow_pipes=True)


def test_scp_ark_offset(tmp_path: Path) -> None:
    """A Kaldi wave ark (`wav-copy` layout): `key ` then the RIFF bytes; scp offsets point at 'RIFF'."""
    pieces, expected = [], {}
    ark = tmp_path / "wav.ark"
    offset = 0
    for index, key in enumerate(["u1", "u2"]):
        samples = _pcm(800 + 100 * index, seed=index)
        wav = tmp_path / f"{key}.wav"
        sf.write(wav, samples, 8000, subtype="PCM_16")
        prefix = f"{key} ".encode()
        expected[key] = (offset + len(prefix), samples)
        pieces.append(prefix + wav.read_bytes())
        offset += len(pieces[-1])
    ark.write_bytes(b"".join(pieces))
    for key, (position, samples) in expected.items():
        wave, rate = read_wav_scp_entry(f"{ark}:{position}")
        assert rate == 8000
        np.testing.assert_array_equal(wave, samples.astype(np.float32))
        assert audio_duration(f"{ark}:{position}") == pytest.approx(len(samples) / 8000)
    with pytest.raises(AsrError, match="RIFF") as excinfo:
        read_wav_scp_entry(f"{ark}:5")
    _assert_one_line_naming(excinfo, f"{ark}:5")
    truncated = _write_bytes(tmp_path / "cut.ark", ark.read_bytes()[:200])
    with pytest.raises(AsrError, match="truncated"):
        read_wav_scp_entry(f"{truncated}:{expected['u1'][0]}")


def test_scp_error_names_source(tmp_path: Path) -> None:
    with pytest.raises(AsrError) as excinfo:
        read_wav_scp_entry(str(tmp_path / "nope.wav"), source="data/train/wav.scp:7")
    assert str(excinfo.value).startswith("data/train/wav.scp:7: ")
    assert "nope.wav" in str(excinfo.value)


def test_duration_from_header(tmp_path: Path) -> None:
    for fmt, ext in [("WAV", "wav"), ("FLAC", "flac"), ("NIST", "sph")]:
        path = tmp_path / f"d.{ext}"
        sf.write(path, _pcm(12345), 16000, format=fmt)
        assert audio_duration(path) == pytest.approx(12345 / 16000)
    with pytest.raises(AsrError, match="not found"):
        audio_duration(tmp_path / "nope.wav")
    with pytest.raises(AsrError, match="--allow-pipes"):
        audio_duration(f"cat {tmp_path / 'd.wav'} |")
    assert audio_duration(f"cat {tmp_path / 'd.wav'} |", allow_pipes=True) == pytest.approx(12345 / 16000)


def test_unsupported_codec_in_wav(wav16k, tmp_path: Path) -> None:
    good, _ = wav16k
    raw = bytearray(good.read_bytes())
    raw[20:22] = struct.pack("<H", 0x1234)  # fmt chunk: AudioFormat no decoder knows
    path = _write_bytes(tmp_path / "codec.wav", bytes(raw))
    with pytest.raises(AsrError, match="unsupported format|cannot read") as excinfo:
        load_audio(path)
    _assert_one_line_naming(excinfo, str(path))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.binary(min_size=0, max_size=60), keep=st.integers(0, 400))
def test_fuzzed_headers_give_audio_or_asr_error(tmp_path: Path, header: bytes, keep: int) -> None:
    """Random bytes over a WAV header (and random truncation): never anything but AsrError."""
    path = tmp_path / "fuzz.wav"
    if not (tmp_path / "good.wav").exists():
        sf.write(tmp_path / "good.wav", _pcm(200), 16000, subtype="PCM_16")
    good = (tmp_path / "good.wav").read_bytes()
    path.write_bytes((header + good[len(header):])[:44 + keep])
    try:
        wave, rate = load_audio(path, sample_frequency=16000)
    except AsrError as e:
        assert "\n" not in str(e) and str(path) in str(e)
    else:
        assert wave.dtype == np.float32 and wave.size > 0 and rate == 16000 and np.all(np.isfinite(wave))


@pytest.mark.slow
def test_two_hour_file_loads_and_duration_is_instant(tmp_path: Path) -> None:
    import time

    path = tmp_path / "long.wav"
    block = _pcm(8000 * 60)
    with sf.SoundFile(path, "w", samplerate=8000, channels=1, subtype="PCM_16") as f:
        for _ in range(120):
            f.write(block)
    start = time.perf_counter()
    assert audio_duration(path) == pytest.approx(7200.0)
    assert time.perf_counter() - start < 0.5
    wave, _ = load_audio(path)
    assert wave.shape == (8000 * 7200,)
    np.testing.assert_array_equal(wave[-len(block):], block.astype(np.float32))
