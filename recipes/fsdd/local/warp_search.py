#!/usr/bin/env python3
"""Test-time VTLN and ensembles: decode one speaker's data dir at several warp factors, with one model or several,
and print, per model and factor, the WER and the mean best-path log-posterior per frame (an unsupervised choice of
the warp, as Kaldi's VTLN estimation picks the factor that scores best without the transcript); last, the WER of
the posteriors averaged over all the rows (a test-time ensemble: over warps, or over models trained with other
seeds, `--warps 1.0 --model A --model B`).

    python recipes/fsdd/local/warp_search.py --model exp/loso/nicolas/crnn --lm data/loso/nicolas/local/lm/lm.arpa \
        --decode-config recipes/fsdd/conf/decode.yaml data/loso/nicolas/test

A diagnostic for RESULTS.md (the warp the score picks against the warp that would have been best), not a stage:
features are recomputed from the audio with Kaldi's `--vtln-warp`, normalised with the speaker's own stats at
that warp (the model's per-speaker CMVN), and decoded as `asr decode` does.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from asr.datadir import load_utterance_audio, read_data_dir
from asr.features import compute_features
from asr.features.cmvn import accumulate_cmvn_stats
from asr.inference.config import load_decode_config
from asr.inference.search import Searcher, load_lm
from asr.modeldir import load_model_dir
from asr.scoring import score_texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", help="one speaker's data dir (wav.scp, text)")
    parser.add_argument("--model", required=True, action="append",
                        help="model directory (cmvn: speaker); repeat for an ensemble (the same units)")
    parser.add_argument("--lm", default=None, help="ARPA LM for the search")
    parser.add_argument("--decode-config", default=None, help="decoding options file (conf/decode.yaml)")
    parser.add_argument("--warps", default="0.9,0.95,1.0,1.05,1.1", help="warp factors to try")
    args = parser.parse_args()

    models = [load_model_dir(path, "cpu", 1) for path in args.model]
    for path, model in zip(args.model[1:], models[1:]):
        if list(model.tokenizer.tokens) != list(models[0].tokenizer.tokens):
            parser.error(f"{path}: its units (lang/tokens.txt) are not those of {args.model[0]}; an ensemble "
                         f"averages posteriors of the same units")
    options, _ = load_decode_config(args.decode_config)
    searcher = Searcher(models[0].tokenizer, lm=load_lm(args.lm), options=options)
    data = read_data_dir(args.data_dir)
    keys = sorted(data.wav_scp)
    audio = {k: load_utterance_audio(data, k, sample_frequency=int(models[0].sample_frequency)) for k in keys}
    print(f"{'model':>12} {'warp':>6} {'score/frame':>12} {'WER %':>7}")
    summed = None
    for warp in (float(w) for w in args.warps.split(",")):
        features: dict[str, tuple] = {}  # models with the same feature options share one extraction
        for path, model in zip(args.model, models):
            feature_options = {**model.feature_options, "vtln_warp": warp}
            key = repr((model.feature_kind, model.feature_flavor, sorted(feature_options.items())))
            if key not in features:
                raw = {k: compute_features(model.feature_kind, wave, rate, feature_options,
                                           flavor=model.feature_flavor)
                       for k, (wave, rate) in tqdm(audio.items(), desc=f"warp {warp}", leave=False)}
                features[key] = raw, accumulate_cmvn_stats(raw.values())
            raw, stats = features[key]
            posteriors = []
            for start in range(0, len(keys), 32):
                posteriors += model.log_probs([model.normalize(raw[k], stats) for k in keys[start:start + 32]])
            score = float(np.mean([lp.max(axis=1).mean() for lp in posteriors]))
            hyps = {k: searcher(lp)[0].text for k, lp in zip(keys, posteriors)}
            report = score_texts(data.text, hyps)
            print(f"{Path(path).name:>12} {warp:6.2f} {score:12.4f} {report.error_rate:7.2f}", flush=True)
            probs = [np.exp(lp) for lp in posteriors]
            summed = probs if summed is None else [a + b for a, b in zip(summed, probs)]
    hyps = {k: searcher(np.log(p / p.sum(axis=1, keepdims=True)))[0].text for k, p in zip(keys, summed)}
    print(f"{'all':>12} {'all':>6} {'(mean)':>12} {score_texts(data.text, hyps).error_rate:7.2f}")


if __name__ == "__main__":
    main()
