#!/usr/bin/env python3
"""Synthesize the `mini` corpus: grammar sentences spoken by eSpeak NG voices, offline and reproducible.

    python recipes/mini/local/synthesize.py --num-train 1500 --num-dev 150 --num-test 300 corpus/

writes `corpus/{train,dev,test}/<speaker>/<index>.wav` (16 kHz, 16-bit mono) each with a sidecar `<index>.txt`
transcript, and `corpus/settings.yaml` with the options used. `asr prepare folder` imports a split as it is:
the folder is the speaker, and the utterance id becomes `<speaker>-<index>`.

- Voices: eSpeak NG accents x voice variants; train, dev and test use disjoint variants, so test speakers
  are never heard in training. Each utterance gets its own speaking rate, pitch, leading/trailing silence
  and a light white noise (25-40 dB SNR).
- Sentences: `grammar.py`; dev and test sentences come from a held-out pool that the training text (and so
  the LM) never contains.
- Reproducible: utterance i of a split depends only on (seed, split, i), so the same options give identical
  bytes on every machine, and a smaller corpus is the first utterances of a larger one.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile
import yaml
from scipy.signal import resample_poly
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "utils"))
from espeak import Espeak, pad_with_noise  # noqa: E402
from grammar import sample_sentence  # noqa: E402

logger = logging.getLogger("synthesize")

# accent (eSpeak language voice) + variant. A variant (the voice's timbre) belongs to one split only: dev and
# test speakers are never heard in training, not even with another accent.
VOICES: dict[str, list[str]] = {
    "train": ["en-us+m1", "en-us+f1", "en-us+Andy", "en-us+klatt", "en-us+Denis", "en-us+steph2", "en-us+Mario",
              "en+m2", "en+f4", "en+david", "en+max", "en+Hugo", "en+belinda", "en+klatt3",
              "en-gb-x-rp+m3", "en-gb-x-rp+linda", "en-gb-x-rp+quincy", "en-gb-x-rp+Lee", "en-gb-x-rp+aunty",
              "en-gb-x-rp+gustave",
              "en-gb-scotland+m4", "en-gb-scotland+steph", "en-gb-scotland+paul", "en-gb-scotland+f1",
              "en-gb-scotland+Michael",
              "en-029+m5", "en-029+aunty", "en-029+klatt2", "en-029+steph3", "en-029+pablo",
              "en-gb-x-gbclan+m6", "en-gb-x-gbclan+belinda", "en-gb-x-gbclan+edward", "en-gb-x-gbclan+f4",
              "en-gb-x-gbclan+Diogo",
              "en-gb-x-gbcwmd+m7", "en-gb-x-gbcwmd+anika", "en-gb-x-gbcwmd+Gene", "en-gb-x-gbcwmd+linda",
              "en-gb-x-gbcwmd+iven",
              "en-us-nyc+m8", "en-us-nyc+shelby", "en-us-nyc+ian", "en-us-nyc+anika", "en-us-nyc+Nguyen"],
    "dev": ["en-us+Alex", "en-gb-x-rp+Andrea", "en-gb-scotland+norbert"],
    "test": ["en-us+john", "en+Annie", "en-gb-x-rp+robert", "en-029+grandma", "en-gb-x-gbclan+travis",
             "en-us-nyc+michel"],
}
SPLITS = list(VOICES)


@dataclass(frozen=True)
class CorpusOptions:
    """Everything that determines the corpus; saved as settings.yaml beside it."""

    num_train: int = 1500
    num_dev: int = 150
    num_test: int = 300
    seed: int = 0
    sample_frequency: int = 16000
    min_rate: int = 130  # words per minute
    max_rate: int = 200
    min_pitch: int = 30  # eSpeak pitch, 0-100 (50 = the voice's own)
    max_pitch: int = 70
    min_snr_db: float = 25.0
    max_snr_db: float = 40.0
    max_pad_s: float = 0.4  # silence before and after the speech, each uniform in [0.05, max_pad_s]

    def count(self, split: str) -> int:
        return {"train": self.num_train, "dev": self.num_dev, "test": self.num_test}[split]


def speaker_id(voice: str) -> str:
    """A Kaldi-friendly speaker id for a voice: en-gb-x-rp+m3 -> en-gb-x-rp_m3."""
    return voice.replace("+", "_")


@dataclass(frozen=True)
class UtterancePlan:
    """What one synthetic utterance says and in which voice, rate and pitch: decided before any audio exists."""

    name: str  # file name without extension: the index, unique within the split
    speaker: str
    voice: str
    text: str
    rate: int
    pitch: int


def plan_utterance(options: CorpusOptions, split: str, index: int) -> UtterancePlan:
    """What utterance `index` of `split` says and how; depends on (seed, split, index) only."""
    rng = random.Random(f"{options.seed}/{split}/{index}")
    voices = VOICES[split]
    voice = voices[index % len(voices)]
    text = sample_sentence(rng, held_out=split != "train")
    speaker = speaker_id(voice)
    return UtterancePlan(name=f"{index:05d}", speaker=speaker, voice=voice, text=text,
                     rate=rng.randint(options.min_rate, options.max_rate),
                     pitch=rng.randint(options.min_pitch, options.max_pitch))


def render(espeak: Espeak, utt: UtterancePlan, options: CorpusOptions, split_index: int,
           index: int) -> np.ndarray:
    """Speak, resample to the corpus rate, pad with silence and add light noise: int16 samples."""
    samples, rate = espeak.synthesize(utt.text.lower(), utt.voice, rate=utt.rate, pitch=utt.pitch)
    if samples.size == 0 or not np.any(samples):
        raise RuntimeError(f"eSpeak NG produced silence for {utt.speaker}/{utt.name}: {utt.text!r} ({utt.voice})")
    common = math.gcd(options.sample_frequency, rate)
    speech = resample_poly(samples.astype(np.float64), options.sample_frequency // common, rate // common)
    rng = np.random.default_rng([options.seed, split_index, index])
    pads = rng.uniform(0.05, options.max_pad_s, size=2) * options.sample_frequency
    return pad_with_noise(speech, (int(pads[0]), int(pads[1])), rng.uniform(options.min_snr_db, options.max_snr_db),
                          rng)


def synthesize_corpus(out_dir: Path, options: CorpusOptions) -> None:
    """Write the whole corpus into `out_dir`, replacing it only once complete (a rerun never sees half)."""
    out_dir = Path(out_dir)
    tmp_dir = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    with Espeak() as espeak:
        for split_index, split in enumerate(SPLITS):
            seconds = 0.0
            for index in tqdm(range(options.count(split)), desc=f"synthesize {split}", unit="utt"):
                utt = plan_utterance(options, split, index)
                wave = render(espeak, utt, options, split_index, index)
                speaker_dir = tmp_dir / split / utt.speaker
                speaker_dir.mkdir(parents=True, exist_ok=True)
                soundfile.write(speaker_dir / f"{utt.name}.wav", wave, options.sample_frequency,
                                subtype="PCM_16")
                (speaker_dir / f"{utt.name}.txt").write_text(utt.text + "\n", encoding="utf-8")
                seconds += wave.size / options.sample_frequency
            logger.info("%s: %d utterances, %d voices, %.1f minutes of audio", split, options.count(split),
                        min(len(VOICES[split]), options.count(split)), seconds / 60)
    (tmp_dir / "settings.yaml").write_text(yaml.safe_dump(asdict(options), sort_keys=False), encoding="utf-8")
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp_dir.rename(out_dir)
    logger.info("wrote %s", out_dir)


def is_complete(out_dir: Path, options: CorpusOptions) -> bool:
    """Whether `out_dir` already holds the corpus these options describe."""
    settings = Path(out_dir) / "settings.yaml"
    return settings.is_file() and yaml.safe_load(settings.read_text(encoding="utf-8")) == asdict(options)


def main(argv: list[str] | None = None) -> None:
    defaults = CorpusOptions()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("out_dir", type=Path, help="corpus folder to write")
    parser.add_argument("--num-train", type=int, default=defaults.num_train, help="training utterances")
    parser.add_argument("--num-dev", type=int, default=defaults.num_dev, help="dev utterances")
    parser.add_argument("--num-test", type=int, default=defaults.num_test, help="test utterances")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of every random choice")
    parser.add_argument("--force", action="store_true", help="rewrite the corpus even if it is complete")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    for name in ("num_train", "num_dev", "num_test"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    options = CorpusOptions(num_train=args.num_train, num_dev=args.num_dev, num_test=args.num_test,
                            seed=args.seed)
    if not args.force and is_complete(args.out_dir, options):
        logger.info("%s already holds this corpus (settings.yaml matches); nothing to do", args.out_dir)
        return
    synthesize_corpus(args.out_dir, options)


if __name__ == "__main__":
    main()
