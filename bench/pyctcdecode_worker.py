"""pyctcdecode (+kenlm) side of bench/decode.py, run in whatever Python has them installed.

pyctcdecode 0.5.0 pins numpy<2 while the toolkit runs on numpy 2, so bench/decode.py starts this script in a
separate interpreter (see bench/requirements-decode.txt) and drives it over stdin/stdout, one JSON line per
request. It imports only numpy, pyctcdecode and kenlm. Each request decodes every utterance once and reports the
wall time of the decoding loop alone (the posteriors are already in memory, as for the other contenders).

    python bench/pyctcdecode_worker.py POSTERIORS.npz LM.arpa LABELS.json UNIGRAMS.json
    stdin:  {"beam_width": 32, "alpha": 0.5, "beta": 1.5, "unk_score_offset": -10, "beam_prune_logp": -10,
             "token_min_logp": -5}
    stdout: {"seconds": 1.23, "texts": ["...", ...]}
"""

from __future__ import annotations

import json
import os
import sys
import time

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


def main() -> None:
    import numpy as np

    try:
        import kenlm  # noqa: F401  (pyctcdecode scores with it when present)
        from pyctcdecode import build_ctcdecoder
    except ImportError as e:
        print(json.dumps({"error": f"{e.__class__.__name__}: {e}"}), flush=True)
        return
    posteriors_path, arpa_path, labels_path, unigrams_path = sys.argv[1:5]
    with np.load(posteriors_path) as data:
        posteriors = [data[k] for k in sorted(data.files, key=int)]
    with open(labels_path, encoding="utf-8") as f:
        labels = json.load(f)
    with open(unigrams_path, encoding="utf-8") as f:  # its ARPA reader skips unigrams without a back-off weight
        unigrams = json.load(f)
    import importlib.metadata as metadata
    versions = {p: metadata.version(p) for p in ("pyctcdecode", "kenlm", "numpy")}
    print(json.dumps({"ready": True, "versions": versions}), flush=True)
    decoders: dict[tuple, object] = {}
    for line in sys.stdin:
        request = json.loads(line)
        key = (request["alpha"], request["beta"], request["unk_score_offset"])
        if key not in decoders:  # loading the ARPA into kenlm is set-up, not decoding
            decoders[key] = build_ctcdecoder(labels, kenlm_model_path=arpa_path, unigrams=unigrams,
                                             alpha=request["alpha"], beta=request["beta"],
                                             unk_score_offset=request["unk_score_offset"])
        decoder = decoders[key]
        start = time.perf_counter()
        texts = [decoder.decode(lp, beam_width=request["beam_width"], beam_prune_logp=request["beam_prune_logp"],
                                token_min_logp=request["token_min_logp"]) for lp in posteriors]
        seconds = time.perf_counter() - start
        print(json.dumps({"seconds": seconds, "texts": texts}), flush=True)


if __name__ == "__main__":
    main()
