"""Long audio: a recording made of a data set's utterances separated by pauses, transcribed whole with
`asr transcribe` cut in its pauses (energy VAD, the default) and by the clock, against the utterances' words.

    python bench/long_audio.py --model exp/official/crnn --data data/official/test \
        --lm data/official/local/lm/lm.arpa --decode-config recipes/fsdd/conf/decode.yaml     # FSDD, issue 14

The recording (seeded): utterances in random order, each followed by a pause of uniform length in
[--min-pause, --max-pause] seconds of white noise at --noise-rms, until --minutes of audio; `--speaker` takes one
speaker's.
Also printed: the WER of the same utterances decoded one by one (`asr decode`), the figure to match; with
`--oracle`, the recording decoded segment by segment at the utterances' true edges, and where the VAD's edges lie
against them (what separates the two).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np
import soundfile

from asr.datadir import load_utterance_audio, read_data_dir, subset_data_dir
from asr.inference.config import load_decode_config
from asr.inference.decode import decode_data_dir
from asr.config import build_config
from asr.inference.transcribe import Transcriber
from asr.inference.vad import VadOptions, frame_log_energy, speech_segments
from asr.scoring import score_texts


def build_recording(data_dir: Path, out: Path, minutes: float, min_pause: float, max_pause: float, seed: int,
                    speaker: str | None, noise_rms: float) -> tuple[str, list[str], int, list[tuple[float, float]]]:
    """Write the recording; return its reference words, the utterances it holds (in order), the sample rate and
    where each utterance lies in it (start, end seconds)."""
    data = read_data_dir(data_dir)
    keys = sorted(k for k in data.text if speaker is None or data.utt2spk.get(k) == speaker)
    rng = np.random.default_rng(seed)
    rng.shuffle(keys)
    pieces, words, spans, seconds, rate = [], [], [], 0.0, None
    for key in keys:
        wave, rate = load_utterance_audio(data, key)
        pause = rng.normal(0.0, noise_rms, int(rng.uniform(min_pause, max_pause) * rate))
        pieces += [wave, pause]
        words.append(data.text[key])
        spans.append((seconds, seconds + len(wave) / rate))
        seconds += (len(wave) + len(pause)) / rate
        if seconds >= minutes * 60:
            break
    soundfile.write(out, np.clip(np.concatenate(pieces) / 32768.0, -1, 1), rate, subtype="PCM_16")
    return " ".join(words), keys[:len(words)], rate, spans


def print_edge_errors(wav: Path, rate: int, spans: list[tuple[float, float]], vad: VadOptions,
                      speech: np.ndarray | None = None) -> None:
    """Where the VAD's segments (with `speech`: another detector's frames) start and end against the utterances'
    true edges (when it finds one each)."""
    wave, _ = soundfile.read(wav, dtype="float32")
    segments = speech_segments(frame_log_energy(lambda a, b: wave[a:b] * 32768.0, len(wave), rate, vad), vad, speech)
    if speech is not None:
        print("\n(WebRTC's frames)", end="")
    if len(segments) != len(spans):
        print(f"\nVAD edges: {len(segments)} segments for {len(spans)} utterances, not paired")
        return
    late = np.array([a - s for (a, _), (s, _) in zip(segments, spans)]) * 1000
    early = np.array([e - b for (_, b), (_, e) in zip(segments, spans)]) * 1000
    print(f"\nVAD edges against the true ones, ms (5/25/50/75/95th percentiles): start "
          f"{np.percentile(late, [5, 25, 50, 75, 95]).round().tolist()}, end "
          f"{np.percentile(-early, [5, 25, 50, 75, 95]).round().tolist()}; {int((late > 20).sum())} of "
          f"{len(spans)} start over 20 ms late, {int((early > 20).sum())} end over 20 ms early")


def webrtc_speech_frames(wav: Path, options: VadOptions, mode: int) -> np.ndarray:
    """Per energy frame (frame_log_energy's layout), WebRTC's call on the 10 ms at its centre: the peer VAD
    (`pip install webrtcvad-wheels`; 8, 16, 32 or 48 kHz audio), whose frames replace the energy threshold."""
    import webrtcvad

    wave, rate = soundfile.read(wav, dtype="int16")
    vad = webrtcvad.Vad(mode)
    window = int(round(rate * options.frame_length_ms / 1000))
    shift = int(round(rate * options.frame_shift_ms / 1000))
    step = rate // 100
    total = 0 if len(wave) < window else 1 + (len(wave) - window) // shift
    centre = (window - step) // 2
    return np.array([vad.is_speech(wave[i * shift + centre:i * shift + centre + step].tobytes(), rate)
                     for i in range(total)], dtype=bool)


@contextlib.contextmanager
def cmvn_prior(tau: float | None):
    """With tau: a per-speaker-CMVN model normalises each segment by its own stats plus the file's scaled to tau
    frames (a MAP estimate, as Kaldi's online CMVN leans on a prior), instead of the file's stats alone."""
    if tau is None:
        yield
        return
    from asr.features.cmvn import compute_cmvn_stats
    from asr.modeldir import ModelDir

    normalize = ModelDir.normalize

    def with_prior(self: ModelDir, feats: np.ndarray, speaker_stats: np.ndarray | None = None) -> np.ndarray:
        if speaker_stats is not None and self.cmvn == "speaker":
            speaker_stats = compute_cmvn_stats(np.asarray(feats, np.float64)) + speaker_stats * (
                tau / speaker_stats[0, -1])
        return normalize(self, feats, speaker_stats)

    with mock.patch.object(ModelDir, "normalize", with_prior):
        yield


def _write_list(path: Path, keys: list[str]) -> Path:
    path.write_text("".join(f"{k}\n" for k in keys), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", type=Path, required=True, help="data dir with wav.scp and text")
    parser.add_argument("--lm", default=None)
    parser.add_argument("--decode-config", default=None)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--min-pause", type=float, default=0.2)
    parser.add_argument("--max-pause", type=float, default=0.8)
    parser.add_argument("--speaker", default=None, help="only this speaker's utterances")
    parser.add_argument("--noise-rms", type=float, default=30.0,
                        help="level of the pauses' white noise (int16 scale; 30 is -61 dBFS, a quiet room)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--oracle", action="store_true",
                        help="also decode the recording cut at the utterances' true edges, and print how far the "
                             "VAD's edges lie from them")
    parser.add_argument("--vad", action="append", default=[], metavar="NAME=VALUE",
                        help="a VadOptions field for segment=energy (e.g. threshold_ratio=0.2, pad_s=0.1); repeatable")
    parser.add_argument("--webrtc", type=int, default=None, metavar="MODE",
                        help="also cut by WebRTC's VAD at this aggressiveness (0-3) in place of the energy "
                             "threshold, the rest of the segmenter unchanged (needs webrtcvad-wheels)")
    parser.add_argument("--cmvn-prior", type=float, default=None, metavar="TAU",
                        help="whole recordings: a per-speaker-CMVN model's segments normalised by their own stats "
                             "plus the file's as a prior of TAU frames")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="asr-bench-long-"))
    wav = work / "recording.wav"
    reference, keys, rate, spans = build_recording(args.data, wav, args.minutes, args.min_pause, args.max_pause,
                                                    args.seed, args.speaker, args.noise_rms)
    options, config = load_decode_config(args.decode_config, {"device": "cpu", "nj": 1})
    count = len(keys)
    print(f"{wav}: {count} utterances of {args.data}{f' ({args.speaker})' if args.speaker else ''}, "
          f"{soundfile.info(wav).duration:.1f} s, pauses {args.min_pause}-{args.max_pause} s, seed {args.seed}\n")
    print("| transcription | WER % | words out / in | seconds |")
    print("|---|---|---|---|")
    subset_data_dir(args.data, work / "utterances", utt_list=_write_list(work / "keys", keys))
    start = time.perf_counter()
    one_by_one = decode_data_dir(args.model, work / "utterances", work / "decode", lm=args.lm, options=options,
                                 config=config, progress=False)
    print(f"| the same utterances one by one (asr decode) | {one_by_one.report.error_rate:.2f} | "
          f"{sum(len(h[0].words) for h in one_by_one.hypotheses.values())} / {count} | "
          f"{time.perf_counter() - start:.1f} |")
    vad = build_config(VadOptions, None, dict(item.split("=", 1) for item in args.vad))
    runs = [("segment=energy", "energy", None), ("segment=none", "none", None)]
    if args.oracle:  # the same segment-by-segment decoding, cut where the utterances really start and end
        runs.append(("cut at the true utterance edges", "energy", lambda energy, options: spans))
    webrtc = None if args.webrtc is None else webrtc_speech_frames(wav, vad, args.webrtc)
    if webrtc is not None:
        runs.insert(1, (f"segment=energy, WebRTC mode {args.webrtc}'s frames", "energy",
                        lambda energy, options: speech_segments(energy, options, webrtc)))
    for name, segment, segments in runs:
        start = time.perf_counter()
        transcriber = Transcriber(args.model, lm=args.lm, options=options,
                                  config=dataclasses.replace(config, segment=segment), vad=vad)
        with mock.patch("asr.inference.vad.speech_segments", segments) if segments else contextlib.nullcontext(), \
                cmvn_prior(args.cmvn_prior):
            result = transcriber(wav)
        elapsed = time.perf_counter() - start
        report = score_texts({"rec": reference}, {"rec": result.text})
        print(f"| whole recording, {name} | {report.error_rate:.2f} | {len(result.words)} / {count} | "
              f"{elapsed:.1f} |")
    if args.oracle:
        print_edge_errors(wav, rate, spans, vad)
        if webrtc is not None:
            print_edge_errors(wav, rate, spans, vad, webrtc)


if __name__ == "__main__":
    main()
