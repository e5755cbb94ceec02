"""asr.inference.decode: a data directory through a model directory, checked against the model's own posteriors and against
audio whose words we know (tests/tone_model.py: a hand-wired model that hears one tone per unit)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from asr.datadir import DataDir, write_data_dir
from asr.inference.config import InferenceConfig, load_decode_config
from asr.inference.decode import decode_data_dir
from asr.decoding import CTCDecoder, DecodeOptions, greedy_search
from asr.errors import AsrError
from asr.features import compute_features
from asr.kaldi_io import ArkWriter, read_kaldi_map
from asr.lm import train_ngram, write_arpa
from asr.modeldir import load_model_dir
from tone_model import EDGE_S, GAP_S, RATE, TONE_S, build_tone_model_dir, spell, synthesize, write_wav

REPO = Path(__file__).resolve().parents[2]
TEXTS = {"spk1-u1": "ab ba", "spk1-u2": "cd", "spk2-u3": "dd ab cd dc", "spk2-u4": "a b c d"}


def write_tone_data(root: Path, model_dir: Path, texts: dict[str, str], *, seed: int = 0) -> Path:
    """A data dir (wav.scp, text, utt2spk) of tone audio spelling `texts`."""
    wavs = {}
    for i, (key, text) in enumerate(sorted(texts.items())):
        wavs[key] = str(write_wav(root / f"{key}.wav", synthesize(model_dir, spell(model_dir, text), seed=seed + i)))
    data = root / "data"
    write_data_dir(data, DataDir(wav_scp=wavs, text=dict(texts), utt2spk={k: k.split("-")[0] for k in texts}))
    return data


@pytest.fixture(scope="module")
def tone(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tone")
    model_dir = build_tone_model_dir(root / "exp" / "tone")
    return model_dir, write_tone_data(root, model_dir, TEXTS)


def quiet(**fields) -> InferenceConfig:
    return InferenceConfig(device="cpu", **fields)


def test_decode_recovers_the_words_and_matches_the_model_posteriors(tone, tmp_path):
    model_dir, data = tone
    result = decode_data_dir(model_dir, data, tmp_path / "beam", config=quiet(max_batch_size=2), progress=False)
    greedy = decode_data_dir(model_dir, data, tmp_path / "greedy", config=quiet(greedy=True), progress=False)
    assert read_kaldi_map(tmp_path / "beam" / "text", is_text=True) == TEXTS
    assert read_kaldi_map(tmp_path / "greedy" / "text", is_text=True) == TEXTS
    assert result.summary().startswith("%WER 0.00 [ 0 / 11, 0 ins, 0 del, 0 sub ]")

    # the same answers from the model's own posteriors, one utterance at a time (no batching, no padding)
    model = load_model_dir(model_dir)
    decoder = CTCDecoder(model.tokenizer)
    for key, value in read_kaldi_map(data / "wav.scp").items():
        import soundfile as sf

        wave, rate = sf.read(value, dtype="float32")
        log_probs = model.log_probs([model.network_input(wave * 32768.0, rate)])[0]
        assert greedy.hypotheses[key][0].text == model.tokenizer.decode(greedy_search(log_probs))
        assert result.hypotheses[key][0].text == decoder.decode(log_probs)[0].text
        assert greedy.hypotheses[key][0].score == pytest.approx(float(log_probs.max(axis=1).sum()), abs=1e-3)


def test_outputs_are_kaldi_files_with_word_times(tone, tmp_path):
    model_dir, data = tone
    wrong = tmp_path / "data"
    shutil.copytree(data, wrong)
    (wrong / "text").write_text((data / "text").read_text().replace("spk1-u2 cd", "spk1-u2 dc"))
    result = decode_data_dir(model_dir, wrong, tmp_path / "out", options=DecodeOptions(nbest=3),
                             config=quiet(), progress=False)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["text", "ctm", "nbest", "nbest_scores", "decode.yaml", "wer", "per_utt", "per_spk", "confusions",
         "confidence"])
    wer = (out / "wer").read_text().splitlines()
    assert wer[0] == "%WER 9.09 [ 1 / 11, 0 ins, 0 del, 1 sub ]"
    assert result.summary() == f"{wer[0]} {out}"
    assert "dc -> cd" in (out / "confusions").read_text()

    nbest = read_kaldi_map(out / "nbest", is_text=True)
    scores = read_kaldi_map(out / "nbest_scores")
    for key, text in TEXTS.items():
        assert nbest[f"{key}-1"] == text
        totals = [float(scores[f"{key}-{r}"].split()[0]) for r in (1, 2, 3)]
        assert totals == sorted(totals, reverse=True)

    # ctm: every word spans its tones, and is confidently heard (the tones are clean)
    ctm = (out / "ctm").read_text()
    for key in ("spk1-u1", "spk2-u4"):
        check_word_times(ctm, key, TEXTS[key])
    assert all(0.9 < float(line.split()[5]) <= 1.0 for line in ctm.splitlines())
    # confidence: the 11 hypothesis words against the (edited) reference: 10 correct
    report = (out / "confidence").read_text().splitlines()
    assert report[0].startswith("NCE ") and "over 11 hypothesis words, 10 correct" in report[0]


def check_word_times(ctm: str, key: str, text: str) -> None:
    """Each ctm word of `key` starts with its first tone and ends with its last (tone i sounds from
    EDGE + i * (TONE + GAP) for TONE seconds; the `|` tone between words counts)."""
    rows = [line.split() for line in ctm.splitlines() if line.startswith(f"{key} ")]
    assert [r[4] for r in rows] == text.split()
    unit_index = 0
    for row, word in zip(rows, text.split()):
        assert row[1] == "1"
        start, duration = float(row[2]), float(row[3])
        tone_start = EDGE_S + unit_index * (TONE_S + GAP_S)
        tone_end = EDGE_S + (unit_index + len(word) - 1) * (TONE_S + GAP_S) + TONE_S
        assert start == pytest.approx(tone_start, abs=0.04), word
        assert start + duration == pytest.approx(tone_end, abs=0.04), word
        unit_index += len(word) + 1


def test_word_times_of_repeated_units(tone, tmp_path):
    model_dir, data = tone
    decode_data_dir(model_dir, data, tmp_path / "out", config=quiet(), progress=False)
    check_word_times((tmp_path / "out" / "ctm").read_text(), "spk2-u3", TEXTS["spk2-u3"])


def test_phone_model_decodes_to_words_through_the_lexicon(tmp_path):
    model_dir = build_tone_model_dir(tmp_path / "exp", kind="phone", texts=("no on",), toned=("N", "OW1", "AA1"))
    data = write_tone_data(tmp_path, model_dir, {"s-1": "no on", "s-2": "on no no"})
    for greedy in (False, True):
        result = decode_data_dir(model_dir, data, tmp_path / f"out{greedy}", config=quiet(greedy=greedy),
                                 progress=False)
        assert {k: h[0].text for k, h in result.hypotheses.items()} == {"s-1": "no on", "s-2": "on no no"}
        assert [w.word for w in result.hypotheses["s-2"][0].words] == ["on", "no", "no"]


def test_lm_or_hotwords_decide_between_equally_likely_units(tmp_path):
    """Where `b` and `c` sound together the acoustics cannot choose; the LM given with --lm does, or hotwords."""
    model_dir = build_tone_model_dir(tmp_path / "exp")
    both = synthesize(model_dir, ["a", "b"]) + synthesize(model_dir, ["a", "c"]) - synthesize(model_dir, ["a", "a"])
    data = tmp_path / "data"
    write_data_dir(data, DataDir(wav_scp={"u": str(write_wav(tmp_path / "u.wav", both))}))
    for word in ("ab", "ac"):
        lm_path = tmp_path / f"{word}.arpa"
        write_arpa(train_ngram([[word, "ba"], [word]], order=2, smoothing="kneser_ney"), lm_path)
        result = decode_data_dir(model_dir, data, tmp_path / word, lm=lm_path, options=DecodeOptions(lm_weight=1.0),
                                 config=quiet(), progress=False)
        assert result.hypotheses["u"][0].text == word
        assert result.hypotheses["u"][0].lm_score < 0
    for word in ("ab", "ac"):  # no LM: a hotword tips the balance
        result = decode_data_dir(model_dir, data, tmp_path / f"hot_{word}", hotwords=[word], config=quiet(),
                                 progress=False)
        assert result.hypotheses["u"][0].text == word


def test_nj_processes_give_the_same_hypotheses(tone, tmp_path):
    model_dir, data = tone
    one = decode_data_dir(model_dir, data, tmp_path / "a", config=quiet(nj=1), progress=False)
    two = decode_data_dir(model_dir, data, tmp_path / "b", config=quiet(nj=2), progress=False)
    assert (tmp_path / "a" / "text").read_text() == (tmp_path / "b" / "text").read_text()
    assert (tmp_path / "a" / "ctm").read_text() == (tmp_path / "b" / "ctm").read_text()
    assert [h[0].score for h in one.hypotheses.values()] == [h[0].score for h in two.hypotheses.values()]


def _write_feats(data: Path, options: dict) -> None:
    """feats.scp as another tool would write it: no feats.conf saying how."""
    import soundfile as sf

    with ArkWriter(data / "feats.ark", data / "feats.scp") as writer:
        for key, value in read_kaldi_map(data / "wav.scp").items():
            wave, rate = sf.read(value, dtype="float32")
            writer.write(key, compute_features("fbank", wave * 32768.0, rate, options).astype(np.float32))


@pytest.mark.parametrize("writer", ["asr features", "other tool"])
def test_feats_scp_is_used_only_when_it_matches_the_model(tone, tmp_path, caplog, writer):
    """`asr features` leaves feats.conf beside feats.scp, which is compared with the model's options; for
    features from elsewhere the first utterance is recomputed from its audio and compared."""
    from asr.features import make_options
    from asr.features.extract import extract_data_dir

    def features(folder: Path, **options) -> None:
        shutil.copytree(data, folder)
        if writer == "asr features":
            extract_data_dir(folder, "fbank", make_options("fbank", {"sample_frequency": 8000, **options}),
                             progress=False)
        else:
            _write_feats(folder, options)

    model_dir, data = tone
    features(tmp_path / "own", dither=0.0)
    result = decode_data_dir(model_dir, tmp_path / "own", tmp_path / "o1", config=quiet(), progress=False)
    assert result.feats_source == "feats" and result.report.totals.errors == 0

    other = tmp_path / "other"  # same dimension, other options: recomputed from wav.scp, with a warning
    features(other, dither=0.0, low_freq=600.0)
    result = decode_data_dir(model_dir, other, tmp_path / "o2", config=quiet(), progress=False)
    assert result.feats_source == "wav" and result.report.totals.errors == 0
    reason = "low_freq=600.0 (model: 20.0)" if writer == "asr features" else "differs from the model's fbank options"
    assert reason in caplog.text
    with pytest.raises(AsrError, match=re.escape(f"{other / 'feats.scp'}: ")):
        decode_data_dir(model_dir, other, tmp_path / "o3", config=quiet(feats_source="feats"), progress=False)

    no_wav = tmp_path / "no_wav"  # other dimension and no audio to fall back on
    features(no_wav, dither=0.0, num_mel_bins=30)
    (no_wav / "wav.scp").unlink()
    with pytest.raises(AsrError, match=r"no_wav/feats\.scp: feats\.scp has 30-dim features but the model takes 23"):
        decode_data_dir(model_dir, no_wav, tmp_path / "o4", config=quiet(), progress=False)


def test_too_short_utterance_gives_an_empty_hypothesis(tone, tmp_path):
    model_dir, _ = tone
    data = tmp_path / "data"
    short = write_wav(tmp_path / "short.wav", np.full(100, 50.0, dtype=np.float32))  # 12 ms < one 25 ms frame
    write_data_dir(data, DataDir(wav_scp={"u": str(short)}, text={"u": "ab"}))
    result = decode_data_dir(model_dir, data, tmp_path / "out", config=quiet(), progress=False)
    assert result.hypotheses["u"][0].text == ""
    assert (tmp_path / "out" / "text").read_text() == "u\n"
    assert result.report.totals.deletions == 1


@pytest.mark.parametrize("missing", ["config.yaml", "features.yaml", "model.pt", "cmvn.ark", "lang/tokens.txt"])
def test_model_dir_missing_a_file_names_it(tone, tmp_path, missing):
    model_dir, data = tone
    broken = tmp_path / "exp"
    shutil.copytree(model_dir, broken, ignore=shutil.ignore_patterns("decode_*"))
    (broken / missing).unlink()
    with pytest.raises(AsrError, match=re.escape(str(broken / missing))):
        decode_data_dir(broken, data, tmp_path / "out", config=quiet(), progress=False)


def test_units_that_do_not_fit_the_model_are_named(tone, tmp_path):
    model_dir, data = tone
    other_units = build_tone_model_dir(tmp_path / "other", texts=("abcdefg",), toned=("a", "b"))
    with pytest.raises(AsrError, match=r"other/lang/tokens\.txt: 10 units, but the model outputs 7"):
        decode_data_dir(model_dir, data, tmp_path / "o1", lang_dir=other_units / "lang", config=quiet(),
                        progress=False)
    swapped = tmp_path / "swapped"  # the model's weights, another lang: the weights do not fit
    shutil.copytree(other_units, swapped)
    shutil.copy(model_dir / "model.pt", swapped / "model.pt")
    with pytest.raises(AsrError, match=r"swapped/model\.pt: weights do not fit"):
        decode_data_dir(swapped, data, tmp_path / "o2", config=quiet(), progress=False)


def test_bad_lm_and_bad_audio_are_named(tone, tmp_path):
    model_dir, data = tone
    lm = tmp_path / "lm.arpa"
    lm.write_text("\\data\\\nngram 1=2\n\n\\1-grams:\n-1.0 a\n\\end\\\n")
    with pytest.raises(AsrError, match=re.escape(str(lm))):
        decode_data_dir(model_dir, data, tmp_path / "o1", lm=lm, config=quiet(), progress=False)
    for name, content in (("empty.wav", None), ("garbage.wav", b"RIFF\x00\x01junk" * 10)):
        path = tmp_path / name
        if content is None:
            write_wav(path, np.zeros(0, dtype=np.float32))
        else:
            path.write_bytes(content)
        bad = tmp_path / f"data_{name}"
        write_data_dir(bad, DataDir(wav_scp={"u": str(path)}))
        with pytest.raises(AsrError, match=re.escape(str(path))):
            decode_data_dir(model_dir, bad, tmp_path / f"o_{name}", config=quiet(), progress=False)


def test_conf_decode_yaml_loads_and_flags_override_it():
    options, config = load_decode_config(REPO / "conf" / "decode.yaml", {"beam_size": "8", "nj": None})
    assert options.beam_size == 8 and options.lm_weight == 0.5 and config.chunk_length_s == 30.0
    assert config.nj == 1
    with pytest.raises(AsrError, match="unknown decoding option"):
        load_decode_config(None, {"beam": 3})


def test_segmented_recordings_get_a_ctm_in_recording_time(tone, tmp_path):
    """With `segments` the ctm is keyed by recording and timed from its start, as Kaldi's get_ctm.sh writes."""
    from asr.datadir import Segment

    model_dir, _ = tone
    first, second = (synthesize(model_dir, spell(model_dir, TEXTS[k]), seed=i)
                     for i, k in enumerate(("spk1-u1", "spk2-u3")))
    pause = np.zeros(int(0.5 * RATE), np.float32)
    wav = write_wav(tmp_path / "rec.wav", np.concatenate([first, pause, second]))
    start = (len(first) + len(pause)) / RATE
    data = tmp_path / "data"
    write_data_dir(data, DataDir(wav_scp={"rec": str(wav)}, text={k: TEXTS[k] for k in ("spk1-u1", "spk2-u3")},
                                 utt2spk={"spk1-u1": "spk1", "spk2-u3": "spk2"},
                                 segments={"spk1-u1": Segment("rec", 0.0, len(first) / RATE),
                                           "spk2-u3": Segment("rec", start, -1)}))
    result = decode_data_dir(model_dir, data, tmp_path / "out", config=quiet(), progress=False)
    assert result.summary().startswith("%WER 0.00 ")
    ctm = (tmp_path / "out" / "ctm").read_text()
    assert {line.split()[0] for line in ctm.splitlines()} == {"rec"}
    check_word_times(ctm.replace("rec ", "spk1-u1 ", 2), "spk1-u1", TEXTS["spk1-u1"])  # its 2 words come first
    shifted = "".join(f"spk2-u3 1 {float(row[2]) - start:.2f} {row[3]} {row[4]}\n"
                      for row in (line.split() for line in ctm.splitlines()[2:]))
    check_word_times(shifted, "spk2-u3", TEXTS["spk2-u3"])


@pytest.mark.parametrize("cmvn", ["speaker", "utterance"])
def test_speaker_and_utterance_cmvn_make_decoding_blind_to_a_speakers_channel(cmvn, tmp_path):
    """A model trained with per-speaker (or per-utterance) CMVN decodes a speaker whose every feature is shifted
    and scaled (a louder voice, another microphone's gain) exactly as the original: the decoder normalises with
    the decoded set's own speaker stats, as Kaldi's apply-cmvn --utt2spk does."""
    from synthetic_corpus import write_corpus

    from asr.kaldi_io import read_matrix
    from asr.training.config import TrainConfig
    from asr.training.trainer import run_training

    train, valid, lang = write_corpus(tmp_path)
    config = TrainConfig(model="rnn", hidden_size=16, num_layers=1, epochs=2, cmvn=cmvn, spec_augment=False,
                         feature_type="mfcc", feature_config=str(tmp_path / "mfcc.conf"), max_frames=400)
    run_training(config, train, None, lang, tmp_path / "exp", progress=False)
    data = DataDir(path=valid)
    shifted = tmp_path / "shifted"
    shifted.mkdir()
    from asr.datadir import read_data_dir

    original = read_data_dir(valid)
    with ArkWriter(shifted / "feats.ark", shifted / "feats.scp") as writer:
        for key, entry in sorted(original.feats_scp.items()):
            feats = np.asarray(read_matrix(entry))
            writer.write(key, feats * 1.5 + 4.0 if original.utt2spk[key] == "spk1" else feats)
    data.feats_scp = {line.split(" ", 1)[0]: line.split(" ", 1)[1]
                      for line in (shifted / "feats.scp").read_text().splitlines()}
    data.text, data.utt2spk = original.text, original.utt2spk
    write_data_dir(shifted, data)
    before = decode_data_dir(tmp_path / "exp", valid, tmp_path / "d1", config=quiet(greedy=True), progress=False)
    after = decode_data_dir(tmp_path / "exp", shifted, tmp_path / "d2", config=quiet(greedy=True), progress=False)
    heard = {k: h[0].text for k, h in before.hypotheses.items()}
    assert sum(map(bool, heard.values())) >= len(heard) // 2  # the model says something
    assert {k: h[0].text for k, h in after.hypotheses.items()} == heard
    model = load_model_dir(tmp_path / "exp")
    assert model.cmvn == cmvn and model.cmvn_stats is None and not (tmp_path / "exp" / "cmvn.ark").exists()
