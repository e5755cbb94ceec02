"""`asr score REF HYP`: compute-wer's lines on stdout, reports on request, one-line errors."""

from __future__ import annotations

from pathlib import Path

import jiwer

from asr_cli import run_main as run


def test_score_real_transcripts_with_reports(speechocean_dir: Path, tmp_path: Path, capsys):
    lines = (speechocean_dir / "text").read_text().splitlines()[:200]
    ref = tmp_path / "data" / "text"
    ref.parent.mkdir()
    ref.write_text("\n".join(lines) + "\n")
    (ref.parent / "utt2spk").write_text("".join(f"{line.split()[0]} spk{i % 3}\n" for i, line in enumerate(lines)))
    # Hypotheses: drop the last word of every 5th utterance, swap THE -> A, leave out the last 10 utterances.
    hyp_lines = []
    for i, line in enumerate(lines[:-10]):
        fields = line.replace(" THE ", " A ").split()
        hyp_lines.append(" ".join(fields[:-1] if i % 5 == 0 and len(fields) > 2 else fields))
    hyp = tmp_path / "hyp"
    hyp.write_text("\n".join(hyp_lines) + "\n")
    report_dir = tmp_path / "report"
    assert run(["score", "--report", str(report_dir), str(ref), str(hyp)]) == 0
    out = capsys.readouterr().out.splitlines()
    refs = [line.split(maxsplit=1)[1] for line in lines]
    hyps = [h.split(maxsplit=1)[1] if len(h.split()) > 1 else "" for h in hyp_lines] + [""] * 10
    expected = jiwer.process_words(refs, hyps)
    errors = expected.substitutions + expected.deletions + expected.insertions
    assert out[0].startswith(f"%WER {100 * expected.wer:.2f} [ {errors} / {sum(len(r.split()) for r in refs)},")
    assert out[2] == "Scored 200 sentences, 10 not present in hyp."
    assert sorted(p.name for p in report_dir.iterdir()) == ["confusions", "per_spk", "per_utt", "wer"]
    assert (report_dir / "wer").read_text().splitlines()[0] == out[0]
    assert "THE -> A" in (report_dir / "confusions").read_text()
    per_spk = (report_dir / "per_spk").read_text()
    assert "| spk0 " in per_spk and "| spk2 " in per_spk  # utt2spk beside REF was used
    assert (report_dir / "per_utt").read_text().count("id: (") == 200
    assert run(["score", "--cer", str(ref), str(hyp)]) == 0
    assert capsys.readouterr().out.startswith("%CER ")


def test_bad_input_is_one_line(tmp_path: Path, capsys):
    ref = tmp_path / "ref"
    ref.write_text("u1 a b\nu1 a c\n")
    assert run(["score", str(ref), str(ref)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("asr: error: ") and f"{ref}:2" in err and "\n" not in err
    assert run(["score", str(tmp_path / "nope"), str(ref)]) == 1
    assert "not found" in capsys.readouterr().err


def test_score_confidence_reads_a_ctm_and_reports_nce(tmp_path: Path, capsys):
    """NCE = (H_max - H_conf) / H_max (sclite), from the ctm's sixth column against which words the alignment
    found correct; a ctm without confidences is a one-line error."""
    import math

    ref = tmp_path / "text"
    ref.write_text("u1 ONE TWO THREE\nu2 FOUR FIVE\n")
    ctm = tmp_path / "ctm"  # written out of time order: words are put in order by start time
    ctm.write_text("u1 1 0.50 0.20 TWO 0.30\nu1 1 0.10 0.30 ONE 0.90\nu1 1 0.90 0.20 THREE 0.80\n"
                   "u2 1 0.00 0.40 FOUR 0.60\nu2 1 0.40 0.30 SIX 0.10\n")
    ctm.write_text(ctm.read_text().replace("TWO 0.30", "TOO 0.30"))
    report_dir = tmp_path / "report"
    assert run(["score", "--confidence", "--report", str(report_dir), str(ref), str(ctm)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("%WER 40.00 [ 2 / 5, 0 ins, 0 del, 2 sub ]")
    conf, ok = [0.9, 0.3, 0.8, 0.6, 0.1], [True, False, True, True, False]
    h_max = -(3 * math.log2(3 / 5) + 2 * math.log2(2 / 5))
    h_conf = -sum(math.log2(c) if k else math.log2(1 - c) for c, k in zip(conf, ok))
    assert f"NCE {(h_max - h_conf) / h_max:.4f} over 5 hypothesis words, 3 correct" in out
    assert (report_dir / "confidence").read_text().splitlines()[0] in out
    bare = tmp_path / "bare.ctm"
    bare.write_text("u1 1 0.10 0.30 ONE\n")
    assert run(["score", "--confidence", str(ref), str(bare)]) == 1
    assert "bare.ctm: the words of u1 have no confidence" in capsys.readouterr().err
    broken = tmp_path / "broken.ctm"
    broken.write_text("u1 1 0.10 0.30 ONE 0.5\nu1 1 x 0.30 TWO 0.5\n")
    assert run(["score", "--confidence", str(ref), str(broken)]) == 1
    assert "broken.ctm:2: expected `name channel start duration word [confidence]`" in capsys.readouterr().err
