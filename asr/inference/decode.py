"""Decode a Kaldi data directory with a trained model directory: `asr decode`.

    exp/NAME + data/test (+ data/local/lm/lm.arpa) -> exp/NAME/decode_test/
        text          hypotheses, Kaldi `text` form (an utterance with no words is a line holding its id)
        ctm           word times: `utt 1 start duration word confidence`, seconds from the utterance's start; with
                      `segments`, `recording 1 start duration word` in the recording's time (as Kaldi's
                      steps/get_ctm.sh writes after utils/convert_ctm.pl), for sclite and alignment tools
        nbest         with nbest > 1: `utt-N words` per hypothesis, best first (Kaldi's n-best key convention)
        nbest_scores  with nbest > 1: `utt-N total acoustic lm` (natural logs; lm unweighted)
        decode.yaml   the resolved search and inference options, so the run can be reproduced
        wer, per_utt, per_spk, confusions   when the data directory has `text` (asr.scoring)
        confidence    with `text`: how the word confidences predict correct words (NCE, reliability table;
                      asr.decoding.confidence)

Features come from the data directory's feats.scp when it matches what the model was trained on (same dimension,
and the model's options in the feats.conf beside it, or, without one, the values the model's options give on a
spot-checked utterance), else they are computed from wav.scp with the options stored in the model directory; the
model's CMVN is applied either way. Utterances
are sorted by length and batched (padding + lengths) for the network; the CTC search then runs per utterance, in
`nj` worker processes when asked.

Greedy decoding (`greedy`, or `beam_size` 1) takes the best unit of every frame. Its words and word times come
from the same word logic as the beam search: the search runs over the best path made certain (its units get
probability 1, one row per run of equal units), which has exactly one labelling, the greedy one.
"""

from __future__ import annotations

import logging
import contextlib
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from asr.config import config_to_dict
from asr.datadir import FEATS_CONF
from asr.decoding import DecodeOptions, Hypothesis
from asr.errors import AsrError, skipped_into
from asr.fileio import own_folder, write_text_atomic
from asr.inference.config import InferenceConfig
from asr.inference.network import input_dim, model_feature_options, model_posteriors
from asr.inference.search import Searcher, make_searcher
from asr.parallel import process_pool

logger = logging.getLogger(__name__)

PENDING_PER_JOB = 64  # utterances queued per search process before the acoustic loop waits for results


# --------------------------------------------------------------------------------------------- data directories
@dataclass
class DecodeResult:
    """What `decode_data_dir` wrote and found."""

    out_dir: Path
    hypotheses: dict[str, list[Hypothesis]]  # utterance -> n-best, best first
    frame_shift_s: float
    report: Any = None  # asr.scoring.ScoreReport when the data directory has `text`
    feats_source: str = "wav"
    files: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # with skip_errors: utterance -> why it was skipped
    segments: dict[str, Any] = field(default_factory=dict)  # the data's segments: ctm times per recording

    def summary(self) -> str:
        """compute-wer's one line and the decode directory (Kaldi's `%WER ... exp/x/decode_test`)."""
        skipped = f" ({len(self.failed)} unreadable utterances skipped, listed in failed)" if self.failed else ""
        if self.report is None:
            return (f"decoded {len(self.hypotheses)} utterances into {self.out_dir} (no text to score against)"
                    f"{skipped}")
        return f"{self.report.summary()} {self.out_dir}{skipped}"


def default_out_dir(model_dir: str | os.PathLike, data_dir: str | os.PathLike) -> Path:
    """exp/NAME/decode_<data dir name>, Kaldi's convention; a symlink there (a model directory from elsewhere may
    ship one) is refused rather than written through."""
    return own_folder(model_dir, f"decode_{Path(os.path.abspath(data_dir)).name}")


def _feats_mismatch(model: Any, data: Any, keys: list[str], allow_pipes: bool, allow_resample: bool) -> str | None:
    """Why feats.scp cannot feed this model (None: it can). Checks the dimension, then the options in the
    feats.conf `asr features` writes beside it; without one, recomputes the first utterance's features from its
    audio with the model's options and compares them."""
    from asr.datadir import load_utterance_audio
    from asr.kaldi_io import matrix_shape, read_matrix

    dim = input_dim(model)
    key = keys[0]
    shape = matrix_shape(data.feats_scp[key])
    if len(shape) != 2 or shape[1] != dim:
        return f"feats.scp has {shape[-1]}-dim features but the model takes {dim}-dim {model.feature_kind}"
    conf = (data.path or Path(".")) / FEATS_CONF
    if conf.is_file():
        try:
            theirs = config_to_dict(model_feature_options(model, conf))
        except AsrError as e:
            return f"{FEATS_CONF} does not hold the model's {model.feature_kind} options ({e})"
        ours = config_to_dict(model_feature_options(model))
        differ = [f"{k}={theirs[k]} (model: {ours[k]})" for k in ours if theirs[k] != ours[k]]
        return f"{FEATS_CONF} differs from the model's options: {', '.join(differ)}" if differ else None
    if not data.wav_scp:
        return None
    try:
        wave, rate = load_utterance_audio(data, key, sample_frequency=int(model.sample_frequency),
                                          allow_pipes=allow_pipes, allow_resample=allow_resample)
    except AsrError as e:
        logger.info("cannot spot-check feats.scp against the audio (%s); trusting its dimension", e)
        return None
    ours = model.network_input(wave, rate)  # both with the model's CMVN, so the scale is known
    theirs = model.normalize(np.asarray(read_matrix(data.feats_scp[key]), dtype=np.float64))
    if ours.shape != theirs.shape:
        return (f"utterance {key}: feats.scp has {theirs.shape[0]} frames, the model's feature options give "
                f"{ours.shape[0]}")
    spread = float(np.std(ours)) or 1.0
    difference = float(np.median(np.abs(ours - theirs)))
    if difference > 0.1 * spread:
        return (f"utterance {key}: feats.scp differs from the model's {model.feature_kind} options (median |d| "
                f"{difference:.3g}, spread {spread:.3g})")
    return None


def choose_feats_source(model: Any, data: Any, requested: str, *, allow_pipes: bool = False,
                        allow_resample: bool = False) -> str:
    """"feats" or "wav": where this data directory's features come from for this model."""
    base = data.path or Path(".")
    if requested == "wav" or (requested == "auto" and not data.feats_scp):
        if not data.wav_scp:
            raise AsrError(f"{base / 'wav.scp'}: missing; the data directory needs wav.scp (or a feats.scp made "
                           f"with the model's feature options)")
        return "wav"
    if not data.feats_scp:
        raise AsrError(f"{base / 'feats.scp'}: missing; run `asr features` or use --feats-source wav")
    problem = _feats_mismatch(model, data, sorted(data.feats_scp), allow_pipes, allow_resample)
    if problem is None:
        return "feats"
    if requested == "feats" or not data.wav_scp:
        raise AsrError(f"{base / 'feats.scp'}: {problem}; recompute the features with the model's options "
                       f"({model.path / 'features.yaml'}) or decode from wav.scp")
    logger.warning("%s: %s; computing features from wav.scp instead", base / "feats.scp", problem)
    return "wav"


def _utterance_frames(model: Any, data: Any, keys: list[str], source: str, allow_pipes: bool,
                      failed: dict[str, str] | None = None) -> dict[str, int]:
    """Input frames of the utterances (for length-sorted batches), from headers, never by decoding audio.
    With `failed`, unreadable utterances are recorded there (utt -> error) and left out."""
    if source == "feats":
        if data.utt2num_frames and all(k in data.utt2num_frames for k in keys):
            return {k: int(data.utt2num_frames[k]) for k in keys}
        from asr.kaldi_io import matrix_shape

        frames = {}
        for key in keys:
            with skipped_into(failed, key):
                frames[key] = int(matrix_shape(data.feats_scp[key])[0])
        return frames
    durations = data.utt2dur if data.utt2dur and all(k in data.utt2dur for k in keys) else None
    if durations is None:
        from asr.datadir import compute_utt2dur

        durations = compute_utt2dur(data, allow_pipes=allow_pipes, failed=failed)
    shift_s = float(model.feature_options.get("frame_shift", 10.0)) / 1000.0
    return {k: max(1, int(durations.get(k, 0.0) / shift_s)) for k in keys if k not in (failed or {})}


def _speaker_stats(model: Any, data: Any, keys: list[str], raw_features: Callable[[str], np.ndarray],
                   failed: dict[str, str] | None, progress: bool) -> dict[str, np.ndarray] | None:
    """For a model trained with per-speaker CMVN, the CMVN stats of each speaker of the decoded set (a pass over
    its features before decoding, as Kaldi's compute-cmvn-stats --spk2utt); None for any other model."""
    if getattr(model, "cmvn", "global") != "speaker":
        return None
    from tqdm import tqdm

    from asr.features.cmvn import compute_cmvn_stats, speaker_cmvn_stats

    def readable() -> Iterator[tuple[str, np.ndarray]]:
        for key in tqdm(keys, desc="speaker CMVN stats", unit="utt", disable=not progress, leave=False):
            with skipped_into(failed, key):
                yield key, compute_cmvn_stats(raw_features(key))

    return speaker_cmvn_stats(readable(), data.utt2spk)


_WORKER_SEARCHER: Searcher | None = None


def _search_in_worker(log_probs: np.ndarray) -> list[Hypothesis]:
    assert _WORKER_SEARCHER is not None
    return _WORKER_SEARCHER(log_probs)


def _set_worker_searcher(searcher: Searcher) -> None:
    global _WORKER_SEARCHER
    _WORKER_SEARCHER = searcher


def decode_data_dir(model_dir: str | os.PathLike, data_dir: str | os.PathLike,
                    out_dir: str | os.PathLike | None = None, *, lm: Any = None,
                    lang_dir: str | os.PathLike | None = None, hotwords: Iterable[str] | None = None,
                    options: DecodeOptions | None = None, config: InferenceConfig | None = None,
                    allow_pipes: bool = False, skip_errors: bool = False, progress: bool = True,
                    cmd: str = "local") -> DecodeResult:
    """Decode every utterance of `data_dir` with `model_dir`; write the outputs listed in the module docstring
    into `out_dir` (default exp/NAME/decode_<data>) and score them when the data has `text`.

    `skip_errors`: an utterance whose audio or features cannot be read is logged, listed in `failed` and left
    without a hypothesis (scored as all deletions) instead of stopping the run. `cmd`: `local` (this process,
    `config.nj` search processes), or `dask:ADDRESS`: as Kaldi's decode.sh with `--nj`, the data is split by
    speaker into `config.nj` parts (data_dir/splitN), each decoded by a task of that dask scheduler that loads
    the model itself, and the parts' hypotheses are merged here."""
    from asr.datadir import read_data_dir

    options = options or DecodeOptions()
    config = config or InferenceConfig()
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir(model_dir, data_dir)
    data = read_data_dir(data_dir)
    common = {"lm": lm, "lang_dir": lang_dir, "hotwords": list(hotwords) if hotwords is not None else None,
              "options": options, "allow_pipes": allow_pipes, "skip_errors": skip_errors}
    if cmd == "local":
        decoded = _decode_here(model_dir, data, config=config, progress=progress, **common)
    else:
        decoded = _decode_on_cluster(cmd, model_dir, data_dir, config=config, progress=progress, **common)
    result = DecodeResult(out_dir, decoded.hypotheses, decoded.frame_shift_s, feats_source=decoded.feats_source,
                          failed=decoded.failed, segments=data.segments)
    write_decode_dir(result, options=decoded.options, config=config)
    if data.text:
        from asr.scoring import score_texts

        result.report = score_texts(data.text, {k: h[0].text for k, h in result.hypotheses.items()},
                                    utt2spk=data.utt2spk or None)
        result.report.write(out_dir)
        result.files += ["wer", "per_utt", "per_spk", "confusions"]
        write_text_atomic(out_dir / "confidence", confidence_calibration(result).report())
        result.files.append("confidence")
    logger.info("wrote %s into %s", ", ".join(result.files), out_dir)
    return result


@dataclass
class Decoded:
    """The hypotheses of one decoding run (a whole data directory or one split of it), before anything is
    written: what a cluster task sends back."""

    hypotheses: dict[str, list[Hypothesis]]
    frame_shift_s: float
    feats_source: str
    failed: dict[str, str]
    options: DecodeOptions  # as the search resolved them (greedy: its own beam)


def _decode_on_cluster(cmd: str, model_dir: str | os.PathLike, data_dir: str | os.PathLike, *,
                       config: InferenceConfig, progress: bool, **common: Any) -> Decoded:
    """Split by speaker into config.nj parts, one task each on the scheduler, merged in utterance order."""
    import dataclasses as dc

    from tqdm import tqdm

    from asr.datadir import split_data_dir
    from asr.parallel import cluster_executor, results_in_order

    parts = split_data_dir(data_dir, config.nj, per_spk=True)
    task_config = dc.replace(config, nj=1)
    bar = tqdm(total=len(parts), desc=f"decoding {Path(data_dir).name} ({cmd})", unit="job",
               disable=not progress, dynamic_ncols=True)
    with cluster_executor(cmd) as executor:
        futures = [executor.submit(_decode_here, os.path.abspath(model_dir), os.path.abspath(part),
                                   config=task_config, progress=False, **common) for part in parts]
        decoded = results_in_order(futures, on_done=lambda _: bar.update())
    bar.close()
    hypotheses = {k: h for part in decoded for k, h in part.hypotheses.items()}
    failed = {k: v for part in decoded for k, v in part.failed.items()}
    first = decoded[0]
    return Decoded(dict(sorted(hypotheses.items())), first.frame_shift_s, first.feats_source, failed, first.options)


def _decode_here(model_dir: str | os.PathLike, data_dir: Any, *, lm: Any,
                 lang_dir: str | os.PathLike | None, hotwords: Iterable[str] | None, options: DecodeOptions,
                 config: InferenceConfig, allow_pipes: bool, skip_errors: bool, progress: bool) -> Decoded:
    """Decode in this process (and config.nj search processes): the hypotheses, nothing written. `data_dir`: a
    path (a cluster task reads its split) or the DataDir already read."""
    from tqdm import tqdm

    from asr.datadir import DataDir, load_utterance_audio, read_data_dir
    from asr.kaldi_io import read_matrix
    from asr.modeldir import load_model_dir  # imports torch; local, so importing this module does not
    from asr.batching import make_batches
    from asr.features.cmvn import stats_of

    data = data_dir if isinstance(data_dir, DataDir) else read_data_dir(data_dir)
    searcher = make_searcher(model_dir, lm=lm, lang_dir=lang_dir, hotwords=hotwords, options=options,
                             greedy=config.greedy)
    # the search workers are forked before torch runs anything, and inherit the searcher (its LM) unpickled
    pool_or_none = (process_pool(config.nj, _set_worker_searcher, (searcher,)) if config.nj > 1
                    else contextlib.nullcontext())
    with pool_or_none as pool:
        model = load_model_dir(model_dir, config.device, config.num_threads)
        source = choose_feats_source(model, data, config.feats_source, allow_pipes=allow_pipes,
                                     allow_resample=config.allow_resample)
        keys = sorted(data.feats_scp) if source == "feats" else sorted(data.segments or data.wav_scp)
        if not keys:
            raise AsrError(f"{data.path}: no utterances to decode")
        dim = input_dim(model)
        base = data.path or Path(".")

        def raw_features(key: str) -> np.ndarray:
            if source == "feats":
                raw = np.asarray(read_matrix(data.feats_scp[key]), dtype=np.float32)
                if raw.ndim != 2 or raw.shape[1] != dim:
                    raise AsrError(f"{base / 'feats.scp'}[{key}]: features of shape {raw.shape}, the model takes "
                                   f"{dim} dims; recompute the features with the model's options")
                return raw
            wave, rate = load_utterance_audio(data, key, sample_frequency=int(model.sample_frequency),
                                              allow_resample=config.allow_resample, allow_pipes=allow_pipes)
            return model.raw_features(wave, rate)

        failed: dict[str, str] | None = {} if skip_errors else None
        frames = _utterance_frames(model, data, keys, source, allow_pipes, failed)
        readable = [k for k in keys if k in frames]
        speaker_stats = _speaker_stats(model, data, readable, raw_features, failed, progress)

        def features(key: str) -> np.ndarray:
            return model.normalize(raw_features(key), stats_of(speaker_stats, key, data.utt2spk))

        batches = make_batches([frames[k] for k in readable], config.max_batch_frames, config.max_batch_size,
                               shuffle=False)
        hyps: dict[str, list[Hypothesis]] = {}
        pending: deque = deque()
        bar = tqdm(total=len(keys), desc=f"decoding {base.name}", unit="utt", disable=not progress,
                   dynamic_ncols=True)

        def collect(keep: int) -> None:
            """Take finished searches in order; wait while more than `keep` are queued."""
            while pending and (pending[0][1].done() or len(pending) > keep):
                key, result = pending.popleft()
                hyps[key] = result.result()
                bar.update()

        for batch in batches:
            pairs = []
            for key in (readable[i] for i in batch):
                with skipped_into(failed, key):
                    pairs.append((key, features(key)))
            bar.update(len(batch) - len(pairs))  # the skipped ones
            batch_keys = [key for key, _ in pairs]
            posteriors = model_posteriors(model, [feats for _, feats in pairs]) if pairs else []
            for key, lp in zip(batch_keys, posteriors):
                short = len(lp) == 0
                if short:
                    logger.warning("%s: utterance %s is shorter than one feature frame; empty hypothesis",
                                   base, key)
                if pool is None or short:
                    hyps[key] = searcher(lp)
                    bar.update()
                else:
                    pending.append((key, pool.submit(_search_in_worker, lp)))
            collect(keep=PENDING_PER_JOB * config.nj)
        collect(keep=0)
        bar.close()

    return Decoded({k: hyps[k] for k in keys if k in hyps}, model.frame_shift_s, source, failed or {},
                   searcher.options)


def confidence_calibration(result: DecodeResult) -> Any:
    """How the best hypotheses' word confidences predict which words the scoring found correct."""
    from asr.decoding.confidence import score_calibration

    return score_calibration(result.report, {
        utt: [w.confidence if w.confidence is not None else 1.0 for w in hyps[0].words]
        for utt, hyps in result.hypotheses.items()})


def format_ctm_lines(utt: str, hyp: Hypothesis, frame_shift_s: float, offset_s: float = 0.0) -> list[str]:
    """Kaldi ctm lines `utt 1 start duration word [confidence]` (seconds, 2 decimals)."""
    from asr.kaldi_io.ctm import ctm_line

    lines = []
    for word in hyp.words:
        start, end = word.seconds(frame_shift_s)
        lines.append(ctm_line(utt, start + offset_s, end - start, word.word, confidence=word.confidence))
    return lines


def ctm_lines(result: DecodeResult) -> list[str]:
    """The best hypotheses' words as ctm lines: per utterance, or per recording (sorted by time) with segments."""
    if not result.segments:
        return [line for key, hyps in result.hypotheses.items()
                for line in format_ctm_lines(key, hyps[0], result.frame_shift_s)]
    timed = []
    for key, hyps in result.hypotheses.items():
        segment = result.segments[key]
        for line in format_ctm_lines(segment.recording, hyps[0], result.frame_shift_s, offset_s=segment.start):
            timed.append((segment.recording, float(line.split()[2]), line))
    return [line for _, _, line in sorted(timed, key=lambda row: row[:2])]


def write_decode_dir(result: DecodeResult, *, options: DecodeOptions, config: InferenceConfig) -> None:
    """text, ctm, the n-best lists (nbest > 1) and decode.yaml into result.out_dir."""
    from asr.kaldi_io import write_kaldi_map
    from asr.modeldir import dump_yaml

    out = result.out_dir
    out.mkdir(parents=True, exist_ok=True)
    write_kaldi_map(out / "text", {k: h[0].text for k, h in result.hypotheses.items()})
    write_text_atomic(out / "ctm", "".join(ctm_lines(result)))
    result.files += ["text", "ctm"]
    if result.failed:
        write_kaldi_map(out / "failed", {k: " ".join(v.split()) for k, v in result.failed.items()})
        result.files.append("failed")
    else:
        (out / "failed").unlink(missing_ok=True)  # from an earlier run of this decode dir
    if options.nbest > 1:
        nbest, scores = {}, {}
        for key, hyps in result.hypotheses.items():
            for rank, hyp in enumerate(hyps, 1):
                nbest[f"{key}-{rank}"] = hyp.text
                scores[f"{key}-{rank}"] = f"{hyp.score:.4f} {hyp.acoustic_score:.4f} {hyp.lm_score:.4f}"
        write_kaldi_map(out / "nbest", nbest)
        write_kaldi_map(out / "nbest_scores", scores)
        result.files += ["nbest", "nbest_scores"]
    write_text_atomic(out / "decode.yaml", dump_yaml({**config_to_dict(options), **config_to_dict(config),
                                                      "feats_source_used": result.feats_source}))
    result.files.append("decode.yaml")


__all__ = ["DecodeResult", "choose_feats_source", "ctm_lines", "decode_data_dir", "default_out_dir",
           "format_ctm_lines", "write_decode_dir"]
