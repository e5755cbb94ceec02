"""Offline text-to-speech with eSpeak NG through ctypes, reproducible sample for sample.

The library comes from the PyPI package `espeakng-loader`, which bundles `libespeak-ng` and its voice data,
so nothing is installed system-wide and nothing is downloaded.

Reproducibility needs two precautions, both found by synthesizing the same sentence twice:
- libespeak-ng keeps synthesis state in static variables (pitch flutter index, filter memories) that
  `espeak_Terminate` does not reset, so the second synthesis of a sentence differs from the first. Each
  `synthesize` call therefore loads a private copy of the library afresh and unloads it afterwards: every
  utterance starts from the same state, whatever was synthesized before it, and in whatever order.
- voice variants with a `breath` setting (f2, f3, f5, whisper, ...) add noise that differs from process to
  process; `deterministic_variants` lists the variants without it, and `synthesize` refuses the others.
"""

from __future__ import annotations

import _ctypes
import contextlib
import ctypes
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

# espeak_AUDIO_OUTPUT: deliver samples to the synth callback and return when the text is spoken
AUDIO_OUTPUT_SYNCHRONOUS = 2
# espeak_Initialize option: return an error code instead of calling exit() when the data is missing
INITIALIZE_DONT_EXIT = 0x8000
# espeak_PARAMETER ids
PARAMETER_RATE = 1
PARAMETER_PITCH = 3
POS_CHARACTER = 1
CHARS_UTF8 = 1
# espeak_TextToPhonemes phonememode: IPA
PHONEMES_IPA = 0x02

SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


def espeak_paths() -> tuple[Path, Path]:
    """The bundled shared library and voice-data folder of the `espeakng-loader` package."""
    try:
        import espeakng_loader
    except ImportError:
        raise SystemExit("eSpeak NG is missing: install the demo extra (pip install -e '.[demo]')") from None

    return Path(espeakng_loader.get_library_path()), Path(espeakng_loader.get_data_path())


def deterministic_variants() -> list[str]:
    """Voice variants (`voices/!v/*`) whose output is identical in every process (no `breath` noise)."""
    variants_dir = espeak_paths()[1] / "voices" / "!v"
    return sorted(path.name for path in variants_dir.iterdir()
                  if path.is_file() and not _has_breath(path))


def _has_breath(variant_file: Path) -> bool:
    lines = variant_file.read_text(encoding="utf-8", errors="replace").splitlines()
    return any(line.split()[:1] in (["breath"], ["breathw"]) for line in lines)


class Espeak:
    """Synthesizes text with a named eSpeak NG voice; use as a context manager (it owns a temp folder)."""

    def __init__(self) -> None:
        library, self.data_path = espeak_paths()
        self._tmp = tempfile.TemporaryDirectory(prefix="espeak-")
        # A private copy: dlopen shares one instance per file, and a fresh instance per utterance needs a file
        # that nobody else in this process keeps loaded.
        self._library = Path(self._tmp.name) / library.name
        shutil.copyfile(library, self._library)
        self._variants = set(deterministic_variants())

    def __enter__(self) -> "Espeak":
        return self

    def __exit__(self, *exc: object) -> None:
        self._tmp.cleanup()

    @contextlib.contextmanager
    def _session(self, voice: str) -> Iterator[tuple[ctypes.CDLL, int]]:
        """A freshly loaded library with `voice` set, and its sample rate; unloaded afterwards."""
        variant = voice.partition("+")[2]
        if variant and variant not in self._variants:
            raise ValueError(f"voice variant {variant!r} is not reproducible or does not exist; "
                             f"use one of deterministic_variants()")
        lib = ctypes.CDLL(str(self._library), mode=ctypes.RTLD_LOCAL)
        try:
            lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
            sample_rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_path).encode(),
                                                INITIALIZE_DONT_EXIT)
            if sample_rate <= 0:
                raise RuntimeError(f"espeak_Initialize failed with the data in {self.data_path}")
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"eSpeak NG has no voice {voice!r}")
            yield lib, sample_rate
            lib.espeak_Terminate()
        finally:
            _ctypes.dlclose(lib._handle)

    def synthesize(self, text: str, voice: str, *, rate: int = 175, pitch: int = 50) -> tuple[np.ndarray, int]:
        """Speak `text` with `voice` ("en-us", "en-gb-x-rp+m4"): int16 samples and their sample rate.

        `rate` is in words per minute (80-450), `pitch` 0-100 (50 is the voice's normal pitch).
        """
        chunks: list[np.ndarray] = []

        def collect(samples: ctypes.POINTER(ctypes.c_short), count: int, events: ctypes.c_void_p) -> int:
            if count > 0:
                chunks.append(np.ctypeslib.as_array(samples, (count,)).copy())
            return 0  # 0 = go on synthesizing

        callback = SynthCallback(collect)
        with self._session(voice) as (lib, sample_rate):
            lib.espeak_SetSynthCallback(callback)
            lib.espeak_SetParameter(PARAMETER_RATE, int(rate), 0)
            lib.espeak_SetParameter(PARAMETER_PITCH, int(pitch), 0)
            lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                         ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
            encoded = text.encode()
            status = lib.espeak_Synth(encoded, len(encoded) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
            if status != 0:
                raise RuntimeError(f"espeak_Synth failed with status {status} on {text!r}")
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        return samples, sample_rate

    def phonemes(self, text: str, voice: str) -> str:
        """What `voice` says for `text`, in IPA (espeak_TextToPhonemes): how a respelling is checked."""
        with self._session(voice) as (lib, _):
            lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
            lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
            encoded = ctypes.create_string_buffer(text.encode())
            cursor = ctypes.c_void_p(ctypes.addressof(encoded))
            return lib.espeak_TextToPhonemes(ctypes.byref(cursor), CHARS_UTF8, PHONEMES_IPA).decode()


def pad_with_noise(speech: np.ndarray, pads: tuple[int, int], snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """`speech` with pads[0] and pads[1] samples of silence before and after, and white noise `snr_db` below the
    speech's power over all of it: int16 samples, clipped."""
    wave = np.concatenate([np.zeros(pads[0]), speech, np.zeros(pads[1])])
    noise_rms = np.sqrt(np.mean(speech**2)) / 10 ** (snr_db / 20)
    wave += rng.normal(0.0, noise_rms, size=wave.size)
    return np.clip(np.round(wave), -32768, 32767).astype(np.int16)
