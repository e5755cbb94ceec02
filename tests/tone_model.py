"""A model directory whose posteriors the tests control: it "hears" pure tones, one frequency per unit.

The network is the training package's `rnn` model (one BiLSTM layer + linear) with hand-set weights that make it
memoryless: forget gate shut, input and output gates open, no recurrent weights, so hidden unit k is
tanh(tanh(ALPHA * x[bin_k])) of the current frame only. The global CMVN stats written into the directory subtract
a threshold from every log-mel bin, so x[bin_k] is positive exactly when unit k's tone sounds. The output layer
makes unit k win on those frames and blank win everywhere else. So `synthesize("ab ba")` (tones for the units of
"ab ba" separated by silence) transcribes to "ab ba" through the real pipeline: audio, fbank, CMVN, model,
decoder. Because each frame's posterior depends on that frame alone, chunked and whole-file transcription can be
compared exactly away from chunk edges.

The directory is written by the training package's own `write_model_dir` (config.yaml, features.yaml, cmvn.ark,
lang/) plus model.pt as a state_dict, exactly what `asr train` leaves behind.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from asr.features import make_options, options_dict
from asr.features.melbanks import inverse_mel_scale, mel_scale
from asr.models import build_model
from asr.training.config import TrainConfig
from asr.training.dataset import FeatureSpec
from asr.modeldir import MODEL_FILE, write_model_dir
from asr.units import train_tokenizer

RATE = 8000
NUM_MEL_BINS = 23
THRESHOLD = 18.0  # log-mel energy between the noise floor (at most 14) and a tone's bin (23 to 28)
ALPHA = 2.0  # gate slope on (energy - threshold)
BETA = 10.0  # output logit scale
TONE_S, GAP_S, EDGE_S = 0.12, 0.08, 0.2
TONE_AMPLITUDE, NOISE_AMPLITUDE = 8000.0, 20.0


def bin_frequency(b: int, rate: int = RATE, num_bins: int = NUM_MEL_BINS) -> float:
    """Centre frequency (Hz) of Kaldi mel bin `b` (low_freq 20 Hz, high_freq Nyquist)."""
    low, high = mel_scale(20.0), mel_scale(rate / 2.0)
    return float(inverse_mel_scale(low + (b + 1) * (high - low) / (num_bins + 1)))


def tone_bins(tokenizer, units: list[str]) -> dict[int, int]:
    """Unit id -> mel bin of its tone, spread 4 bins apart."""
    if len(units) > NUM_MEL_BINS // 4:
        raise ValueError(f"at most {NUM_MEL_BINS // 4} toned units, got {len(units)}")
    return {tokenizer.token_to_id[u]: 2 + 4 * i for i, u in enumerate(units)}


def build_tone_model_dir(out_dir: Path, kind: str = "char", texts: tuple[str, ...] = ("ab ba cd dc",),
                         toned: tuple[str, ...] | None = None, causal: bool = False) -> Path:
    """Write the model directory; `toned` are the units that get a tone (default: every unit but blank/unk);
    `causal`: a unidirectional LSTM (the same outputs: the backward direction's weights are zero anyway)."""
    tokenizer = train_tokenizer(kind, list(texts))
    if toned is None:
        toned = tuple(t for t in tokenizer.tokens if t not in ("<blk>", "<unk>"))
    bins = tone_bins(tokenizer, list(toned))
    num_units = len(tokenizer.tokens)
    config = TrainConfig(model="rnn", rnn_type="lstm", hidden_size=num_units, num_layers=1, dropout=0.0,
                         feature_type="fbank", cmvn="global", norm_vars=True, causal=causal)
    options = options_dict(make_options("fbank", {"sample_frequency": RATE, "dither": 0.0,
                                                  "num_mel_bins": NUM_MEL_BINS}))
    spec = FeatureSpec(kind="fbank", options=options, source="wav", dim=NUM_MEL_BINS, cmvn="global", norm_vars=True)
    # CMVN with count 1, mean THRESHOLD and variance 1: normalised features are (log-mel - THRESHOLD)
    stats = np.zeros((2, NUM_MEL_BINS + 1))
    stats[0, :-1] = THRESHOLD
    stats[0, -1] = 1.0
    stats[1, :-1] = 1.0 + THRESHOLD ** 2
    write_model_dir(out_dir, config, spec, stats, tokenizer)

    model = build_model(config, NUM_MEL_BINS, num_units)
    state = {k: torch.zeros_like(v) for k, v in model.state_dict().items()}
    h = num_units
    gate_bias = state["rnn.rnn.bias_ih_l0"]  # gates i, f, g, o (h rows each)
    gate_bias[0:h] = 20.0
    gate_bias[h:2 * h] = -20.0
    gate_bias[3 * h:4 * h] = 20.0
    weight = state["rnn.rnn.weight_ih_l0"]
    out_w, out_b = state["output.weight"], state["output.bias"]
    out_b[1:] = -10.0
    for unit, b in bins.items():
        weight[2 * h + unit, b] = ALPHA
        out_w[unit, unit] = BETA
        out_b[unit] = 0.0
    model.load_state_dict(state)
    torch.save(model.state_dict(), out_dir / MODEL_FILE)
    return out_dir


def unit_frequencies(model_dir: Path) -> dict[str, float]:
    """Unit -> tone frequency, read back from the weights (so tests need only the directory)."""
    from asr.units import load_tokenizer

    tokenizer = load_tokenizer(model_dir / "lang")
    state = torch.load(model_dir / MODEL_FILE, weights_only=True)
    h = len(tokenizer.tokens)
    weight = state["rnn.rnn.weight_ih_l0"][2 * h:3 * h]
    return {tokenizer.tokens[u]: bin_frequency(int(weight[u].argmax())) for u in range(h) if weight[u].any()}


def synthesize(model_dir: Path, units: list[str], *, seed: int = 0, rate: int = RATE,
               edge_s: float = EDGE_S) -> np.ndarray:
    """int16-range float32 audio: silence, then each unit's tone followed by a gap, then silence."""
    freqs = unit_frequencies(model_dir)
    rng = np.random.default_rng(seed)
    tone_n, gap_n, edge_n = int(TONE_S * rate), int(GAP_S * rate), int(edge_s * rate)
    pieces = [np.zeros(edge_n)]
    t = np.arange(tone_n) / rate
    ramp = np.minimum(1.0, np.minimum(np.arange(tone_n), np.arange(tone_n)[::-1]) / (0.01 * rate))
    for u in units:
        pieces += [TONE_AMPLITUDE * ramp * np.sin(2 * np.pi * freqs[u] * t), np.zeros(gap_n)]
    pieces.append(np.zeros(edge_n))
    wave = np.concatenate(pieces)
    return (wave + rng.normal(0.0, NOISE_AMPLITUDE, wave.size)).astype(np.float32)


def spell(model_dir: Path, text: str) -> list[str]:
    """The units of `text` under the directory's tokenizer."""
    from asr.units import load_tokenizer

    tokenizer = load_tokenizer(model_dir / "lang")
    return [tokenizer.tokens[i] for i in tokenizer.encode(text)]


def write_wav(path: Path, wave: np.ndarray, rate: int = RATE) -> Path:
    import soundfile as sf

    sf.write(path, np.clip(wave / 32768.0, -1.0, 1.0), rate, subtype="PCM_16")
    return path
