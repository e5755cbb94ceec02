"""Benchmark: our CTC prefix beam search + N-gram LM next to pyctcdecode (+kenlm) and torchaudio's flashlight
`ctc_decoder`, on the same synthetic character posteriors and the same ARPA trigram, at several beam widths.

Posteriors: speechocean762 transcripts spelled in character units (`|` between words), each unit held 1-2
frames between runs of blank frames; blank stays plausible on unit frames, every frame carries Gaussian logit
noise, and a unit is often confused with a similar-looking/-sounding one (vowels, B/P, D/T, M/N, ...), which
sometimes wins. Seeded. LM: a Laplace (add-one) trigram from `asr.lm`, trained on the transcripts of the other
utterances and written as ARPA; every decoder reads that file (kenlm and flashlight load it themselves).

Timing follows the shared benchmarking guide (BENCHMARKING.md): threads pinned to 1, one untimed warm-up per contender and beam,
then `--rounds` rounds; in each round every contender decodes all utterances once, in an order that rotates
between rounds; speed ratios are taken within a round and the median over rounds is reported. Our decoder and
our LM are rebuilt before every timed call, so no cache outlives one pass over the utterances.

pyctcdecode pins numpy<2, so it runs in its own interpreter (`--peer-python`, see
bench/requirements-decode.txt); its worker reports the time of its decoding loop alone.

    python bench/decode.py [--utterances 200] [--rounds 3] [--beams 8,32,100]
                           [--peer-python PEERS_VENV/bin/python]
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import importlib.metadata as metadata  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402
from scipy.special import log_softmax  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from asr.decoding import CTCDecoder, DecodeOptions, greedy_search  # noqa: E402
from asr.lm import read_arpa, train_ngram, write_arpa  # noqa: E402
from asr.scoring import score_texts  # noqa: E402
from asr.units import train_tokenizer  # noqa: E402

SPEECHOCEAN_TEXT = REPO.parent / "shared" / "data" / "speechocean762-train" / "text"
SIMILAR = ["AEIOUY", "BP", "DT", "MN", "SZC", "CKGQ", "FV", "GJ", "LR", "WV", "HX"]
DEFAULT_PEER_PYTHON = os.environ.get("ASR_BENCH_PEER_PYTHON", sys.executable)


def similar_units(tokens: list[str]) -> dict[int, list[int]]:
    """unit id -> ids of the units it is confused with."""
    ids = {t: i for i, t in enumerate(tokens)}
    out: dict[int, set[int]] = {}
    for group in SIMILAR:
        for a in group:
            for b in group:
                if a != b and a in ids and b in ids:
                    out.setdefault(ids[a], set()).add(ids[b])
    return {k: sorted(v) for k, v in out.items()}


def synthesize(units: list[int], num_units: int, similar: dict[int, list[int]], rng: np.random.Generator, *,
               noise: float, confusion: float) -> np.ndarray:
    """Float32 (T, V) log-posteriors of a CTC model that spells `units` with mistakes (see module docstring)."""
    plan: list[int] = [0] * int(rng.integers(2, 6))
    previous = -1
    for u in units:
        gap = int(rng.integers(0, 3))
        if u == previous:
            gap = max(gap, 1)  # CTC needs a blank between repeats
        plan += [0] * gap + [u] * int(rng.integers(1, 3))
        previous = u
    plan += [0] * int(rng.integers(2, 6))
    T = len(plan)
    logits = noise * rng.standard_normal((T, num_units))
    logits[:, 1] = -10.0  # <unk> is never said
    for t, u in enumerate(plan):
        if u == 0:
            logits[t, 0] = 6.0 + rng.standard_normal()
            continue
        logits[t, u] = 6.0 + rng.standard_normal()
        logits[t, 0] = 3.0 + rng.standard_normal()
        if u in similar and rng.random() < confusion:
            other = similar[u][int(rng.integers(len(similar[u])))]
            logits[t, other] = logits[t, u] + rng.normal(-0.5, 1.0)
    return log_softmax(logits, axis=1).astype(np.float32)


class PyctcdecodeWorker:
    """The pyctcdecode worker process (bench/pyctcdecode_worker.py) in the peer interpreter."""

    def __init__(self, python: str, posteriors_path: Path, arpa_path: Path, labels_path: Path,
                 unigrams_path: Path) -> None:
        self.proc = subprocess.Popen([python, str(REPO / "bench" / "pyctcdecode_worker.py"), str(posteriors_path),
                                      str(arpa_path), str(labels_path), str(unigrams_path)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        hello = json.loads(self.proc.stdout.readline() or '{"error": "worker exited"}')
        if "error" in hello:
            self.close()
            raise RuntimeError(hello["error"])
        self.versions: dict[str, str] = hello["versions"]

    def decode(self, request: dict) -> tuple[float, list[str]]:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        return reply["seconds"], reply["texts"]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def flashlight_contender(tokens: list[str], arpa_path: Path, words: list[str], workdir: Path, beam: int,
                         options: DecodeOptions) -> Callable[[list[np.ndarray]], list[str]]:
    """torchaudio's flashlight lexicon decoder with the same LM and, where they exist, the same options.
    KenLM inside flashlight scores in log10, so its LM weight is ours times ln(10)."""
    import torch
    from torchaudio.models.decoder import ctc_decoder

    lexicon_path = workdir / "lexicon.txt"
    if not lexicon_path.exists():
        spellable = set(tokens)
        lines = [f"{w} {' '.join(w)} |" for w in words if set(w) <= spellable]
        lexicon_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    decoder = ctc_decoder(lexicon=str(lexicon_path), tokens=tokens, lm=str(arpa_path), nbest=1, beam_size=beam,
                          beam_threshold=-options.beam_prune_logp, lm_weight=options.lm_weight * math.log(10),
                          word_score=options.word_bonus, unk_score=-math.inf, sil_score=0.0,
                          blank_token=tokens[0], sil_token="|", unk_word="<unk>")

    def run(posteriors: list[np.ndarray]) -> list[str]:
        texts = []
        for lp in posteriors:
            emissions = torch.from_numpy(lp).unsqueeze(0)
            hyp = decoder(emissions)[0][0]
            texts.append(" ".join(hyp.words))
        return texts

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", type=Path, default=SPEECHOCEAN_TEXT, help="Kaldi text file of transcripts")
    parser.add_argument("--utterances", type=int, default=200, help="utterances decoded per timed call")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--beams", default="8,32,100")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise", type=float, default=1.5, help="std of the Gaussian logit noise")
    parser.add_argument("--confusion", type=float, default=0.35, help="chance a unit gets a similar competitor")
    parser.add_argument("--smoothing", default="laplace", choices=["laplace", "kneser_ney"])
    parser.add_argument("--peer-python", default=DEFAULT_PEER_PYTHON,
                        help="interpreter with pyctcdecode+kenlm (numpy<2); default $ASR_BENCH_PEER_PYTHON, else "
                             "this one")
    args = parser.parse_args()
    import torch
    torch.set_num_threads(1)
    beams = [int(b) for b in args.beams.split(",")]
    options = DecodeOptions()

    lines = [line.split(maxsplit=1) for line in args.text.read_text(encoding="utf-8").splitlines()]
    texts = [parts[1] for parts in lines if len(parts) == 2]
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(texts))
    test_texts = [texts[i] for i in order[:args.utterances]]
    lm_texts = [texts[i] for i in order[args.utterances:]]
    tokenizer = train_tokenizer("char", texts)
    similar = similar_units(tokenizer.tokens)
    posteriors = [synthesize(tokenizer.encode(t), len(tokenizer.tokens), similar, rng, noise=args.noise,
                             confusion=args.confusion) for t in test_texts]
    refs = {f"u{i:05d}": t for i, t in enumerate(test_texts)}

    def wer(hyps: list[str]) -> float:
        return score_texts(refs, {f"u{i:05d}": h for i, h in enumerate(hyps)}).error_rate

    workdir = Path(tempfile.mkdtemp(prefix="asr-bench-decode-"))
    arpa_path = workdir / "lm.arpa"
    lm = train_ngram([t.split() for t in lm_texts], order=3, smoothing=args.smoothing)
    write_arpa(lm, arpa_path)
    words = sorted(w for w in lm.vocab if w not in ("<s>", "</s>", "<unk>"))
    oov = sum(w not in lm.vocab for t in test_texts for w in t.split()) / sum(len(t.split()) for t in test_texts)
    frames = sum(len(p) for p in posteriors)
    print(f"{len(posteriors)} utterances, {frames} frames ({frames / len(posteriors):.0f}/utt), "
          f"{len(tokenizer.tokens)} units; LM: {args.smoothing} trigram on {len(lm_texts)} other transcripts "
          f"({len(words)} words, test OOV rate {100 * oov:.1f}%)", file=sys.stderr)

    greedy_texts = [tokenizer.decode(greedy_search(p)) for p in posteriors]

    # contenders: name -> (beam -> callable returning (seconds, texts))
    def ours(beam: int, lexicon: bool) -> Callable[[], tuple[float, list[str]]]:
        def run() -> tuple[float, list[str]]:
            fresh_lm = read_arpa(arpa_path)  # no LM cache carried over from an earlier call
            decoder = CTCDecoder(tokenizer, lm=fresh_lm, beam_size=beam, lexicon_constraint=lexicon)
            start = time.perf_counter()
            out = [decoder.decode(p)[0].text for p in posteriors]
            return time.perf_counter() - start, out
        return run

    contenders: dict[str, Callable[[int], Callable[[], tuple[float, list[str]]]]] = {
        "asr (ours)": lambda beam: ours(beam, False),
        "asr (ours) + lexicon": lambda beam: ours(beam, True),
    }
    versions = {"numpy": np.__version__}
    notes = []
    worker = None
    peer_python = args.peer_python if Path(args.peer_python).exists() else sys.executable
    try:
        np.savez(workdir / "posteriors.npz", **{str(i): p for i, p in enumerate(posteriors)})
        labels = ["" if i == 0 else " " if t == "|" else "⁇" if t == "<unk>" else t
                  for i, t in enumerate(tokenizer.tokens)]
        (workdir / "labels.json").write_text(json.dumps(labels), encoding="utf-8")
        (workdir / "unigrams.json").write_text(json.dumps(words), encoding="utf-8")
        worker = PyctcdecodeWorker(peer_python, workdir / "posteriors.npz", arpa_path, workdir / "labels.json",
                                   workdir / "unigrams.json")
        versions.update({f"{k} (peer venv)": v for k, v in worker.versions.items()})

        def pyctc(beam: int) -> Callable[[], tuple[float, list[str]]]:
            request = {"beam_width": beam, "alpha": options.lm_weight, "beta": options.word_bonus,
                       "unk_score_offset": options.unk_penalty, "beam_prune_logp": options.beam_prune_logp,
                       "token_min_logp": options.token_min_logp}
            return lambda: worker.decode(request)
        contenders["pyctcdecode+kenlm"] = pyctc
    except (RuntimeError, OSError) as e:
        notes.append(f"pyctcdecode not run ({e}); see bench/requirements-decode.txt")
    try:
        import torchaudio
        versions["torchaudio"] = torchaudio.__version__
        versions["flashlight-text"] = metadata.version("flashlight-text")

        def flashlight(beam: int) -> Callable[[], tuple[float, list[str]]]:
            run = flashlight_contender(tokenizer.tokens, arpa_path, words, workdir, beam, options)

            def timed() -> tuple[float, list[str]]:
                start = time.perf_counter()
                out = run(posteriors)
                return time.perf_counter() - start, out
            return timed
        flashlight(beams[0])  # fails here, not mid-benchmark, if it cannot run
        contenders["flashlight (torchaudio) lexicon+kenlm"] = flashlight
    except Exception as e:  # noqa: BLE001 -- any failure to import/build the peer means "not run"
        notes.append(f"flashlight ctc_decoder not run ({e.__class__.__name__}: {e})")

    rows = []
    names = list(contenders)
    for beam in beams:
        runs = {name: contenders[name](beam) for name in names}
        for name in names:  # warm-up, untimed
            runs[name]()
        seconds: dict[str, list[float]] = {name: [] for name in names}
        outputs: dict[str, list[str]] = {}
        for r in range(args.rounds):
            rotated = names[r % len(names):] + names[:r % len(names)]
            for name in rotated:
                s, out = runs[name]()
                seconds[name].append(s)
                outputs[name] = out
        for name in names:
            ratio = "n/a"
            if "pyctcdecode+kenlm" in seconds:
                ratio = f"{statistics.median(p / s for p, s in zip(seconds['pyctcdecode+kenlm'], seconds[name])):.2f}x"
            rows.append((beam, name, wer(outputs[name]), len(posteriors) / statistics.median(seconds[name]), ratio))
            print(f"beam {beam} {name}: WER {rows[-1][2]:.2f}% {rows[-1][3]:.1f} utt/s {ratio}", file=sys.stderr)
    if worker is not None:
        worker.close()

    print(f"\nCTC prefix beam search + {args.smoothing} trigram, {len(posteriors)} synthetic speechocean762 "
          f"utterances ({frames} frames), 1 thread, median of {args.rounds} rounds\n")
    print(f"greedy (no LM): WER {wer(greedy_texts):.2f}%\n")
    print("| beam | decoder | WER % | utt/s | speed vs pyctcdecode |")
    print("|---:|---|---:|---:|---:|")
    for beam, name, w, speed, ratio in rows:
        print(f"| {beam} | {name} | {w:.2f} | {speed:.1f} | {ratio} |")
    print(f"\nOptions (all decoders): lm_weight={options.lm_weight} (flashlight: x ln10 for its log10 KenLM scores), "
          f"word_bonus={options.word_bonus}, unk_penalty={options.unk_penalty}, "
          f"beam_prune_logp={options.beam_prune_logp} (flashlight beam_threshold), token_min_logp="
          f"{options.token_min_logp} (ours, pyctcdecode), end-of-sentence LM score on. Flashlight decodes through a "
          f"lexicon of the LM's words; so does 'asr (ours) + lexicon'.")
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    for note in notes:
        print(f"Note: {note}")


if __name__ == "__main__":
    main()
