#!/usr/bin/env python3
"""Synthetic spoken digits in FSDD's layout, from many eSpeak NG voices: more voices for a 5-speaker corpus.

    python recipes/fsdd/local/synthesize_digits.py --num-voices 100 --per-digit 2 synth/

writes `synth/recordings/{digit}_{speaker}_{index}.wav` (8 kHz, 16-bit mono, like FSDD), so `asr prepare fsdd`
reads it as it reads FSDD, and `synth/settings.yaml` with the options used. A speaker is one eSpeak NG voice
(an English accent with a voice variant: `synenusm1` is en-us+m1); each of its digits is spoken at its own
rate and pitch, with a little silence around it, a random level and light noise (20-40 dB SNR).

eSpeak NG comes from the `espeakng-loader` package, which the demo needs as well (`pip install -e .[demo]`).
Reproducible: file i of a voice depends only on (seed, voice, digit, index).
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import re
import shutil
import sys
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile
import yaml
from scipy.signal import resample_poly
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "utils"))
from espeak import Espeak, deterministic_variants, pad_with_noise  # noqa: E402

logger = logging.getLogger("synthesize_digits")

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ACCENTS = ("en-us", "en", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-us-nyc")
# English digits as a speaker of another language reads them: each respelled in that language's orthography,
# so the language's own voice says them with its vowels and consonants (a German w as v, a French th as s). The
# spellings were checked against eSpeak NG's phoneme output for each voice (espeak_TextToPhonemes).
ACCENTED_WORDS = {
    "de": ("siero", "wann", "tuh", "Sri", "foor", "feiw", "sicks", "sewwen", "ejt", "nein"),
    "fr": ("zirô", "ouane", "tou", "sri", "fôr", "faillve", "sixe", "sévène", "éillte", "naillne"),
    "nl": ("zierou", "wan", "toe", "srie", "foor", "faaiv", "siks", "sevven", "eet", "naain"),
    "es": ("síro", "uán", "tú", "trí", "fór", "fáif", "síks", "séven", "éit", "náin"),
    "it": ("ziro", "uan", "tu", "tri", "for", "faiv", "sics", "seven", "eit", "nain"),
}
# Variants that sound like no person (robots, croaks, whispers) are left out.
UNHUMAN = re.compile(r"robo|robot|croak|tweaky|whisper|kaukovalta", re.IGNORECASE)


@dataclass(frozen=True)
class DigitOptions:
    """Everything that determines the synthetic corpus; saved as settings.yaml beside it."""

    num_voices: int = 100
    accented_voices: int = 0    # of the num_voices, how many are other languages' voices (ACCENTED_WORDS)
    per_digit: int = 2          # repetitions of each digit per voice
    seed: int = 0
    sample_frequency: int = 8000
    min_rate: int = 110         # words per minute
    max_rate: int = 220
    min_pitch: int = 15         # eSpeak pitch, 0-100 (50 = the voice's own)
    max_pitch: int = 85
    min_snr_db: float = 20.0
    max_snr_db: float = 40.0
    max_pad_s: float = 0.1      # silence before and after the digit, each uniform in [0, max_pad_s] (FSDD is trimmed)


def all_voices(languages: tuple[str, ...] = ACCENTS) -> list[str]:
    """Every voice of `languages` with every human-sounding reproducible variant, in a fixed order."""
    variants = [v for v in deterministic_variants() if not UNHUMAN.search(v) and " " not in v]
    return [f"{language}+{variant}" for language in languages for variant in variants]


def choose_voices(options: DigitOptions) -> list[str]:
    """`num_voices` voices spread over accents and variants, `accented_voices` of them from other languages;
    the same for the same seed."""
    chosen = []
    for languages, count in ((ACCENTS, options.num_voices - options.accented_voices),
                             (tuple(ACCENTED_WORDS), options.accented_voices)):
        voices = all_voices(languages)
        if count > len(voices):
            raise SystemExit(f"{count} voices of {', '.join(languages)} asked for: eSpeak NG offers {len(voices)}")
        random.Random(options.seed).shuffle(voices)
        chosen += voices[:count]
    return sorted(chosen)


def digit_word(voice: str, digit: int) -> str:
    """What `voice` is given to say: the English word, or its respelling for another language's voice."""
    language = voice.partition("+")[0]
    return ACCENTED_WORDS[language][digit] if language in ACCENTED_WORDS else DIGIT_WORDS[digit]


def speaker_id(voice: str) -> str:
    """FSDD speaker names are alphanumeric: en-gb-x-rp+m3 -> synengbxrpm3."""
    return "syn" + re.sub(r"[^A-Za-z0-9]", "", voice).lower()


def render(espeak: Espeak, voice: str, digit: int, index: int, options: DigitOptions) -> np.ndarray:
    """One spoken digit: speak, resample, pad, scale and add noise; int16 samples."""
    rng = np.random.default_rng([options.seed, zlib.crc32(voice.encode()), digit, index])
    rate = int(rng.integers(options.min_rate, options.max_rate + 1))
    pitch = int(rng.integers(options.min_pitch, options.max_pitch + 1))
    word = digit_word(voice, digit)
    samples, sample_rate = espeak.synthesize(word, voice, rate=rate, pitch=pitch)
    if samples.size == 0 or not np.any(samples):
        raise RuntimeError(f"eSpeak NG produced silence for {word!r} ({voice})")
    speech = samples.astype(np.float64)
    voiced = np.flatnonzero(np.abs(speech) > 0.02 * np.abs(speech).max())  # trim eSpeak's own silence
    speech = speech[voiced[0]:voiced[-1] + 1]
    common = math.gcd(options.sample_frequency, sample_rate)
    speech = resample_poly(speech, options.sample_frequency // common, sample_rate // common)
    pads = (rng.uniform(0.0, options.max_pad_s, size=2) * options.sample_frequency).astype(int)
    speech *= 10 ** (rng.uniform(-12.0, 3.0) / 20) * 8000.0 / max(np.abs(speech).max(), 1.0)  # a random level
    return pad_with_noise(speech, (int(pads[0]), int(pads[1])), rng.uniform(options.min_snr_db, options.max_snr_db),
                          rng)


def synthesize_digits(out_dir: Path, options: DigitOptions) -> None:
    """Write the corpus into `out_dir`, replacing it only once complete (a rerun never sees half)."""
    out_dir = Path(out_dir)
    tmp_dir = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    recordings = tmp_dir / "recordings"
    recordings.mkdir(parents=True)
    voices = choose_voices(options)
    with Espeak() as espeak:
        for voice in tqdm(voices, desc="synthesize digits", unit="voice"):
            for digit in range(10):
                for index in range(options.per_digit):
                    wave = render(espeak, voice, digit, index, options)
                    soundfile.write(recordings / f"{digit}_{speaker_id(voice)}_{index}.wav", wave,
                                    options.sample_frequency, subtype="PCM_16")
    (tmp_dir / "settings.yaml").write_text(yaml.safe_dump({**asdict(options), "voices": voices}, sort_keys=False),
                                           encoding="utf-8")
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp_dir.rename(out_dir)
    logger.info("wrote %d digits of %d voices into %s", len(voices) * 10 * options.per_digit, len(voices), out_dir)


def is_complete(out_dir: Path, options: DigitOptions) -> bool:
    """Whether `out_dir` already holds the corpus these options describe."""
    settings = Path(out_dir) / "settings.yaml"
    if not settings.is_file():
        return False
    saved = yaml.safe_load(settings.read_text(encoding="utf-8"))
    return {k: v for k, v in saved.items() if k != "voices"} == asdict(options)


def main(argv: list[str] | None = None) -> None:
    defaults = DigitOptions()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("out_dir", type=Path, help="folder to write (recordings/ and settings.yaml)")
    parser.add_argument("--num-voices", type=int, default=defaults.num_voices, help="eSpeak NG voices (speakers)")
    parser.add_argument("--accented-voices", type=int, default=defaults.accented_voices,
                        help="how many of the voices are German, French, Dutch, Spanish or Italian ones reading "
                             "English digits respelled in their own orthography (foreign accents)")
    parser.add_argument("--per-digit", type=int, default=defaults.per_digit, help="repetitions of each digit")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of every random choice")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    if args.num_voices < 1 or args.per_digit < 1:
        parser.error("--num-voices and --per-digit must be at least 1")
    if not 0 <= args.accented_voices <= args.num_voices:
        parser.error("--accented-voices must be between 0 and --num-voices")
    options = DigitOptions(num_voices=args.num_voices, accented_voices=args.accented_voices,
                           per_digit=args.per_digit, seed=args.seed)
    if is_complete(args.out_dir, options):
        logger.info("%s already holds these digits (settings.yaml matches); nothing to do", args.out_dir)
        return
    synthesize_digits(args.out_dir, options)


if __name__ == "__main__":
    main()
