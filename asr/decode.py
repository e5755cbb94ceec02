"""Decode a Kaldi data directory with a trained model directory: `asr decode`.

    exp/NAME + data/test (+ lang/lm.arpa) -> exp/NAME/decode_test/
        text          hypotheses, Kaldi `text` form (an utterance with no words is a line holding its id)
        ctm           word times: `utt 1 start duration word`, seconds from the utterance's start; with
                      `segments`, `recording 1 start duration word` in the recording's time (as Kaldi's
                      steps/get_ctm.sh writes after utils/convert_ctm.pl), for sclite and alignment tools
        nbest         with nbest > 1: `utt-N words` per hypothesis, best first (Kaldi's n-best key convention)
        nbest_scores  with nbest > 1: `utt-N total acoustic lm` (natural logs; lm unweighted)
        decode.yaml   the resolved search and inference options, so the run can be reproduced
        wer, per_utt, per_spk, confusions   when the data directory has `text` (asr.scoring)

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

import dataclasses
import logging
import multiprocessing
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping, Sequence

import numpy as np

from asr.config import build_config, config_to_dict, read_config_file
from asr.datadir import FEATS_CONF
from asr.decoding import CTCDecoder, DecodeOptions, Hypothesis, WordTiming
from asr.errors import AsrError, skipped_into
from asr.fileio import write_text_atomic

logger = logging.getLogger(__name__)

CERTAIN_LOGP = -1.0e4  # log-probability of the units off the best path, in the greedy search's input
PENDING_PER_JOB = 64  # utterances queued per search process before the acoustic loop waits for results


@dataclass
class InferenceConfig:
    """How `asr decode` and `asr transcribe` run the model and the search (what to search for: DecodeOptions)."""

    greedy: bool = False  # best unit per frame, no LM (also implied by beam_size 1)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    num_threads: int = 1  # torch intra-op threads
    max_batch_frames: int = 20000  # decode: cap on padded input frames per acoustic batch
    max_batch_size: int = 32  # decode: cap on utterances per acoustic batch
    nj: int = 1  # decode: search processes (the acoustic model runs in the main process)
    feats_source: Literal["auto", "feats", "wav"] = "auto"  # decode: auto = feats.scp when it matches the model
    allow_resample: bool = False  # decode: resample wav.scp audio at another rate than the model's
    chunk_length_s: float = 30.0  # transcribe: audio per chunk whose posteriors are kept
    chunk_context_s: float = 4.0  # transcribe: extra audio each side of a chunk, seen by the model, then dropped

    def __post_init__(self) -> None:
        for name in ("num_threads", "max_batch_frames", "max_batch_size", "nj"):
            if getattr(self, name) < 1:
                raise AsrError(f"{name}={getattr(self, name)}: must be at least 1")
        if self.chunk_length_s <= 0:
            raise AsrError(f"chunk_length_s={self.chunk_length_s}: must be positive, e.g. 30")
        if self.chunk_context_s < 0:
            raise AsrError(f"chunk_context_s={self.chunk_context_s}: must be >= 0, e.g. 4")


def field_names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def load_decode_config(path: str | os.PathLike | None = None, overrides: Mapping[str, Any] | None = None
                       ) -> tuple[DecodeOptions, InferenceConfig]:
    """DecodeOptions and InferenceConfig from their defaults, then one YAML/Kaldi conf file holding fields of
    either (conf/decode.yaml), then `overrides` (None values skipped)."""
    known = field_names(DecodeOptions) | field_names(InferenceConfig)
    for origin, values in ((os.fspath(path) if path else "", read_config_file(path) if path else {}),
                           ("options", overrides or {})):
        unknown = sorted(set(values) - known)
        if unknown:
            raise AsrError(f"{origin}: unknown decoding option(s) {', '.join(unknown)}; known: "
                           f"{', '.join(sorted(known))}")
    overrides = overrides or {}
    search = build_config(DecodeOptions, path, {k: v for k, v in overrides.items() if k in field_names(DecodeOptions)},
                          ignore_unknown=True)
    run = build_config(InferenceConfig, path,
                       {k: v for k, v in overrides.items() if k in field_names(InferenceConfig)}, ignore_unknown=True)
    return search, run


def load_lm(lm: Any) -> Any:
    """An N-gram LM: a path is read as ARPA (malformed files raise AsrError at file:line); objects pass through."""
    if lm is None or hasattr(lm, "log10_prob"):
        return lm
    from asr.lm import read_arpa

    return read_arpa(lm)


def read_hotwords(path: str | os.PathLike) -> list[str]:
    """One hotword or phrase per line; blank lines and `#` comments skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise AsrError(f"{path}: cannot read hotwords ({e.__class__.__name__}); give a UTF-8 file with one "
                       f"phrase per line") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


class Searcher:
    """The CTC search of one decoding run, set up once (units, LM, lexicon, hotwords) and reused per utterance.

    Holds no torch state, so search processes forked from it share its LM copy-on-write."""

    def __init__(self, tokenizer: Any, *, lm: Any = None, hotwords: Iterable[str] | None = None,
                 options: DecodeOptions | None = None, greedy: bool = False) -> None:
        options = options or DecodeOptions()
        self.tokenizer = tokenizer
        self.num_units = len(tokenizer.tokens)
        self.greedy = greedy or options.beam_size == 1
        if self.greedy:
            if lm is not None:
                logger.warning("greedy decoding ignores the LM; use --beam-size > 1 to apply it")
            # phone units: several word sequences can spell the one best path; a beam keeps those alternatives
            beam = max(options.beam_size, DecodeOptions.beam_size) if tokenizer.kind == "phone" else 1
            self.decoder = CTCDecoder(tokenizer, options=DecodeOptions(beam_size=beam, blank=options.blank))
        else:
            self.decoder = CTCDecoder(tokenizer, lm=lm, hotwords=hotwords, options=options)
        self.options = self.decoder.options

    def __call__(self, log_probs: np.ndarray) -> list[Hypothesis]:
        """Hypotheses of one utterance's (T, V) log-posteriors, best first."""
        if log_probs.ndim != 2 or log_probs.shape[1] != self.num_units:
            raise AsrError(f"the model gives {log_probs.shape[-1]} outputs per frame but the lang dir has "
                           f"{self.num_units} units; decode with the lang dir the model was trained with")
        if not self.greedy:
            return self.decoder.decode(log_probs)
        # the best path, one row per run of equal best units, made certain; word times map back to frames
        best = log_probs.argmax(axis=1)
        starts = np.flatnonzero(np.diff(best, prepend=-1)) if len(best) else np.zeros(0, dtype=np.int64)
        stops = np.append(starts[1:], len(best))
        certain = np.full((len(starts), self.num_units), CERTAIN_LOGP)
        certain[np.arange(len(starts)), best[starts]] = 0.0
        hyp = self.decoder.decode(certain)[0]
        path_score = float(log_probs[np.arange(len(best)), best].sum())
        words = [WordTiming(w.word, int(starts[w.start_frame]), int(stops[w.end_frame - 1])) for w in hyp.words]
        return [dataclasses.replace(hyp, score=path_score, acoustic_score=path_score, words=words)]


def check_lang(model_tokens: Sequence[str], tokenizer: Any, lang_dir: str | os.PathLike) -> None:
    """A lang dir other than the model's own must have the very units the network outputs (a phone lang may
    bring another lexicon)."""
    tokens = list(tokenizer.tokens)
    if len(tokens) != len(model_tokens):
        raise AsrError(f"{Path(lang_dir) / 'tokens.txt'}: {len(tokens)} units, but the model outputs "
                       f"{len(model_tokens)}; use the lang dir the model was trained with")
    for i, (theirs, ours) in enumerate(zip(tokens, model_tokens)):
        if theirs != ours:
            raise AsrError(f"{Path(lang_dir) / 'tokens.txt'}: unit {i} is {theirs!r} but the model's is {ours!r}; "
                           f"use the lang dir the model was trained with")


def make_searcher(model_dir: str | os.PathLike, *, lm: Any = None, lang_dir: str | os.PathLike | None = None,
                  hotwords: Iterable[str] | None = None, options: DecodeOptions | None = None,
                  greedy: bool = False) -> Searcher:
    """The search for a model directory, without loading the network (so it can be forked cheaply)."""
    from asr.units import load_tokenizer

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise AsrError(f"{model_dir}: no such model directory; pass the --out of `asr train`")
    tokenizer = load_tokenizer(model_dir / "lang")
    if lang_dir is not None:
        own = tokenizer.tokens
        tokenizer = load_tokenizer(lang_dir)
        check_lang(own, tokenizer, lang_dir)
    return Searcher(tokenizer, lm=load_lm(lm), hotwords=hotwords, options=options, greedy=greedy)


def load_model(model_dir: str | os.PathLike, config: InferenceConfig):
    """The network of a model directory (asr.training.load_model_dir) on the configured device and threads."""
    import torch

    from asr.training import load_model_dir

    torch.set_num_threads(config.num_threads)
    return load_model_dir(model_dir, device=config.device)


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
    """exp/NAME/decode_<data dir name>, Kaldi's convention."""
    return Path(model_dir) / f"decode_{Path(os.path.abspath(data_dir)).name}"


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
    ours = model.compute_features(wave, rate)  # both with the model's CMVN, so the scale is known
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


def _search_pool(searcher: Searcher, nj: int):
    """`nj` forked processes that inherit `searcher` (no pickling of the LM); None when nj is 1."""
    if nj <= 1:
        return None
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # no fork (Windows, macOS spawn default): the searcher is pickled to each worker
        context = multiprocessing.get_context()
    return context.Pool(nj, initializer=_set_worker_searcher, initargs=(searcher,))


def _set_worker_searcher(searcher: Searcher) -> None:
    global _WORKER_SEARCHER
    _WORKER_SEARCHER = searcher


def decode_data_dir(model_dir: str | os.PathLike, data_dir: str | os.PathLike,
                    out_dir: str | os.PathLike | None = None, *, lm: Any = None,
                    lang_dir: str | os.PathLike | None = None, hotwords: Iterable[str] | None = None,
                    options: DecodeOptions | None = None, config: InferenceConfig | None = None,
                    allow_pipes: bool = False, skip_errors: bool = False, progress: bool = True) -> DecodeResult:
    """Decode every utterance of `data_dir` with `model_dir`; write the outputs listed in the module docstring
    into `out_dir` (default exp/NAME/decode_<data>) and score them when the data has `text`.

    `skip_errors`: an utterance whose audio or features cannot be read is logged, listed in `failed` and left
    without a hypothesis (scored as all deletions) instead of stopping the run."""
    from tqdm import tqdm

    from asr.datadir import load_utterance_audio, read_data_dir
    from asr.kaldi_io import read_matrix
    from asr.training.dataset import make_batches, stats_of

    options = options or DecodeOptions()
    config = config or InferenceConfig()
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir(model_dir, data_dir)
    data = read_data_dir(data_dir)
    searcher = make_searcher(model_dir, lm=lm, lang_dir=lang_dir, hotwords=hotwords, options=options,
                             greedy=config.greedy)
    pool = _search_pool(searcher, config.nj)  # forked before torch runs anything
    try:
        model = load_model(model_dir, config)
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
        bar = tqdm(total=len(keys), desc=f"decoding {Path(data_dir).name}", unit="utt", disable=not progress,
                   dynamic_ncols=True)

        def collect(keep: int) -> None:
            """Take finished searches in order; wait while more than `keep` are queued."""
            while pending and (pending[0][1].ready() or len(pending) > keep):
                key, result = pending.popleft()
                hyps[key] = result.get()
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
                    pending.append((key, pool.apply_async(_search_in_worker, (lp,))))
            collect(keep=PENDING_PER_JOB * config.nj)
        collect(keep=0)
        bar.close()
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()

    result = DecodeResult(out_dir, {k: hyps[k] for k in keys if k in hyps}, model.frame_shift_s,
                          feats_source=source, failed=failed or {}, segments=data.segments)
    write_decode_dir(result, options=searcher.options, config=config)
    if data.text:
        from asr.scoring import score_texts

        result.report = score_texts(data.text, {k: h[0].text for k, h in result.hypotheses.items()},
                                    utt2spk=data.utt2spk or None)
        result.report.write(out_dir)
        result.files += ["wer", "per_utt", "per_spk", "confusions"]
    logger.info("wrote %s into %s", ", ".join(result.files), out_dir)
    return result


def format_ctm_lines(utt: str, hyp: Hypothesis, frame_shift_s: float, offset_s: float = 0.0) -> list[str]:
    """Kaldi ctm lines `utt 1 start duration word` (seconds, 2 decimals)."""
    lines = []
    for word, start, end in hyp.word_times(frame_shift_s):
        lines.append(f"{utt} 1 {start + offset_s:.2f} {end - start:.2f} {word}\n")
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
    from asr.training.modeldir import dump_yaml

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


__all__ = ["DecodeResult", "InferenceConfig", "Searcher", "check_lang", "choose_feats_source", "ctm_lines",
           "decode_data_dir", "default_out_dir", "format_ctm_lines", "load_decode_config", "load_lm", "load_model",
           "make_searcher", "model_posteriors", "read_hotwords"]
