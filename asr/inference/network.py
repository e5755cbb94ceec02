"""The acoustic half of inference: a loaded model directory's (asr.modeldir) CTC log-posteriors and feature options."""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np


def model_posteriors(model: Any, feats: Sequence[np.ndarray]) -> list[np.ndarray]:
    """(T', V) log-posteriors of normalised feature matrices, as one padded batch; an input too short for a
    single frame gives a (0, V) matrix (the network is not run on it)."""
    num_units = len(model.tokenizer.tokens)
    out = [np.zeros((0, num_units), dtype=np.float32)] * len(feats)
    nonempty = [i for i, f in enumerate(feats) if len(f)]
    if nonempty:
        for i, lp in zip(nonempty, model.log_probs([feats[i] for i in nonempty])):
            out[i] = lp
    return out


def model_feature_options(model: Any, path: str | os.PathLike | None = None) -> Any:
    """The model's feature options dataclass (kind and flavor as stored), or those of conf file `path` read as
    options of the model's kind (an option that kind does not have raises AsrError)."""
    from asr.features import make_options

    if path is not None:
        return make_options(model.feature_kind, path=os.fspath(path), flavor=model.feature_flavor)
    return make_options(model.feature_kind, model.feature_options, flavor=model.feature_flavor)


def input_dim(model: Any) -> int:
    from asr.features import feature_dim

    return feature_dim(model_feature_options(model))
