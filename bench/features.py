"""Single-thread throughput of our MFCC/fbank next to kaldi-native-fbank, torchaudio, librosa and
python_speech_features.

Workloads: (a) every FSDD recording (8 kHz), one call per file; (b) one 10-minute 16 kHz signal. Each
contender gets the same float32 samples in the int16 range, already in memory; its own conversion (to a
tensor, to [-1, 1] floats) is inside the timed call. One untimed warm-up, then --rounds rounds; in each round
every contender runs once per workload, in an order rotated from round to round. Ratios (our throughput /
peer throughput) are taken within a round; the table shows medians over rounds. `ours-numpy1-path` is ours
through the copy that numpy < 2 needs (issue 15: what an install beside a numpy<2 pin pays).

    python bench/features.py                  # full run (5 rounds; a few minutes on a loaded machine)
    python bench/features.py --rounds 3 --files 500 --minutes 2   # quicker look
"""

from __future__ import annotations

import os

# Pin every thread pool to one thread before numpy/torch are imported.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from importlib.metadata import PackageNotFoundError, version  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402
import soundfile  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FSDD = REPO.parent / "shared" / "data" / "fsdd" / "recordings"

# The work every contender does: Kaldi's compute-mfcc-feats / compute-fbank-feats defaults, no dither.
FRAME_LENGTH_MS, FRAME_SHIFT_MS, NUM_MEL_BINS, NUM_CEPS, LIFTER = 25.0, 10.0, 23, 13, 22.0
OPTIONS_TEXT = ("25 ms povey frames every 10 ms, pre-emphasis 0.97, DC removal, 23 mel bins (20 Hz..Nyquist), "
                "MFCC: 13 ceps, lifter 22, log energy in c0; fbank: log mel, no energy; dither 0. "
                "librosa and python_speech_features have no povey window/DC removal: they use their own "
                "closest settings (librosa: hann, centered frames, n_fft = next power of two of the window, "
                "Slaney mel, power_to_db; psf: rectangular window, nfft 512, lifter 22, energy in c0).")

Features = Callable[[np.ndarray, int], object]


def ours(kind: str) -> Features:
    import asr.features

    compute = getattr(asr.features, kind)
    return lambda wave, rate: compute(wave, rate, dither=0.0)


def ours_numpy1_path(kind: str) -> Features:
    """Ours through the path numpy < 2 takes (its rfft has no `out=`: the result is copied into the block), so the
    cost of that fallback is measured on any numpy."""
    import asr.features
    from asr.features import spectrum

    compute = getattr(asr.features, kind)

    def run(wave: np.ndarray, rate: int) -> object:
        spectrum.RFFT_HAS_OUT, before = False, spectrum.RFFT_HAS_OUT
        try:
            return compute(wave, rate, dither=0.0)
        finally:
            spectrum.RFFT_HAS_OUT = before

    return run


def kaldi_native_fbank(kind: str) -> Features:
    import kaldi_native_fbank as knf

    def run(wave: np.ndarray, rate: int) -> np.ndarray:
        opts = knf.MfccOptions() if kind == "mfcc" else knf.FbankOptions()
        opts.frame_opts.dither = 0.0  # its default is 3e-5
        opts.frame_opts.samp_freq = rate
        opts.mel_opts.num_bins = NUM_MEL_BINS
        computer = knf.OnlineMfcc(opts) if kind == "mfcc" else knf.OnlineFbank(opts)
        computer.accept_waveform(rate, wave.tolist())  # a list was faster than an array here on short files
        computer.input_finished()
        return np.array([computer.get_frame(i) for i in range(computer.num_frames_ready)])

    return run


def torchaudio_kaldi(kind: str) -> Features:
    import torch
    import torchaudio.compliance.kaldi as kaldi

    torch.set_num_threads(1)
    compute = kaldi.mfcc if kind == "mfcc" else kaldi.fbank
    extra = {"use_energy": True, "num_ceps": NUM_CEPS} if kind == "mfcc" else {}

    def run(wave: np.ndarray, rate: int) -> np.ndarray:
        return compute(torch.from_numpy(wave)[None], sample_frequency=rate, dither=0.0, energy_floor=0.0,
                       num_mel_bins=NUM_MEL_BINS, **extra).numpy()

    return run


def librosa_features(kind: str) -> Features:
    import librosa

    def run(wave: np.ndarray, rate: int) -> np.ndarray:
        window = int(rate * FRAME_LENGTH_MS / 1000)
        framing = {"n_fft": 1 << (window - 1).bit_length(), "win_length": window,
                   "hop_length": int(rate * FRAME_SHIFT_MS / 1000), "n_mels": NUM_MEL_BINS}
        y = wave / np.float32(32768.0)
        if kind == "mfcc":
            return librosa.feature.mfcc(y=y, sr=rate, n_mfcc=NUM_CEPS, **framing)
        return librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=rate, **framing))

    return run


def python_speech_features(kind: str) -> Features:
    import python_speech_features as psf

    def run(wave: np.ndarray, rate: int) -> np.ndarray:
        common = {"winlen": FRAME_LENGTH_MS / 1000, "winstep": FRAME_SHIFT_MS / 1000, "nfilt": NUM_MEL_BINS,
                  "nfft": 512, "lowfreq": 20}
        if kind == "mfcc":
            return psf.mfcc(wave, rate, numcep=NUM_CEPS, ceplifter=LIFTER, appendEnergy=True, **common)
        return psf.logfbank(wave, rate, **common)

    return run


CONTENDERS: dict[str, tuple[str, Callable[[str], Features]]] = {
    "ours": ("asr", ours),
    "ours-numpy1-path": ("asr", ours_numpy1_path),
    "kaldi-native-fbank": ("kaldi-native-fbank", kaldi_native_fbank),
    "torchaudio": ("torchaudio", torchaudio_kaldi),
    "librosa": ("librosa", librosa_features),
    "python_speech_features": ("python_speech_features", python_speech_features),
}


def load_workloads(files: int, minutes: float) -> dict[str, tuple[list[tuple[np.ndarray, int]], float]]:
    """name -> (list of (float32 int16-range samples, rate), seconds of audio)."""
    paths = sorted(FSDD.glob("*.wav"))[:files] if files else sorted(FSDD.glob("*.wav"))
    if not paths:
        sys.exit(f"no FSDD recordings under {FSDD}")
    short = [(soundfile.read(p, dtype="int16")[0].astype(np.float32), soundfile.info(p).samplerate) for p in paths]
    rate = 16000
    t = np.arange(int(minutes * 60 * rate)) / rate
    rng = np.random.default_rng(0)
    # a wobbling harmonic tone plus noise, in the int16 range
    pitch = 150 + 50 * np.sin(2 * np.pi * 0.3 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    tone = sum(np.sin(k * phase) / k for k in range(1, 8))
    long = (3000 * tone + rng.normal(0, 300, len(t))).astype(np.float32)
    return {
        f"fsdd ({len(short)} files, 8 kHz)": (short, sum(len(w) / r for w, r in short)),
        f"{minutes:g} min 16 kHz signal": ([(long, rate)], len(long) / rate),
    }


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", type=int, default=0, help="use only the first N FSDD files (0 = all)")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the long signal")
    parser.add_argument("--kinds", default="mfcc,fbank")
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    args = parser.parse_args()

    workloads = load_workloads(args.files, args.minutes)
    names = [n for n in args.contenders.split(",") if n]
    if "ours" not in names:
        names.insert(0, "ours")
    print(f"# Feature extraction throughput (seconds of audio per wall second, single thread)\n")
    print(f"Python {platform.python_version()}, numpy {np.__version__}, "
          + ", ".join(f"{CONTENDERS[n][0]} {package_version(CONTENDERS[n][0])}" for n in names))
    print(f"\nOptions: {OPTIONS_TEXT}\n")
    print(f"{args.rounds} rounds, order rotated per round; ratio = ours / peer within a round, median shown.\n")
    for kind in args.kinds.split(","):
        functions = {n: CONTENDERS[n][1](kind) for n in names}
        # throughput[workload][contender] -> list per round
        throughput: dict[str, dict[str, list[float]]] = {w: {n: [] for n in names} for w in workloads}
        for workload, (waves, seconds) in workloads.items():
            for name in names:  # warm-up, untimed (imports, caches)
                for wave, rate in waves[:3]:
                    functions[name](wave[: rate * 3], rate)
            for round_index in range(args.rounds):
                shift = round_index % len(names)
                for name in names[shift:] + names[:shift]:
                    compute = functions[name]
                    start = time.perf_counter()
                    for wave, rate in waves:
                        compute(wave, rate)
                    throughput[workload][name].append(seconds / (time.perf_counter() - start))
        print(f"## {kind}\n")
        header = "| contender | " + " | ".join(f"{w}: audio s / s | ours / peer" for w in workloads) + " |"
        print(header)
        print("|" + "---|" * (1 + 2 * len(workloads)))
        for name in names:
            cells = []
            for workload in workloads:
                runs = throughput[workload][name]
                ratio = statistics.median(o / p for o, p in zip(throughput[workload]["ours"], runs))
                cells += [f"{statistics.median(runs):,.0f}", "-" if name == "ours" else f"{ratio:.2f}x"]
            print(f"| {name} | " + " | ".join(cells) + " |")
        print()


if __name__ == "__main__":
    main()
