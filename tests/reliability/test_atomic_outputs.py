"""Outputs written through asr.fileio (temp file + rename) must look like files any tool writes: the mode a plain
open() gives (0666 minus the umask), not mkstemp's private 0600, which made shared data dirs, LMs and models
unreadable to the rest of a group."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from reliability_cli import run_main, write_tone


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_outputs_get_the_umask_mode_not_0600(tmp_path: Path) -> None:
    wav = write_tone(tmp_path / "a.wav", rate=8000)
    data = tmp_path / "data"
    data.mkdir()
    (data / "wav.scp").write_text(f"s-1 {wav}\n")
    (data / "utt2spk").write_text("s-1 s\n")
    (data / "text").write_text("s-1 a b a\n")
    assert run_main(["data", "fix", data]) == 0
    assert run_main(["features", "mfcc", data, "--sample-frequency", "8000", "--no-progress"]) == 0
    assert run_main(["lm", "train", data / "text", tmp_path / "lm.arpa"]) == 0
    expected = 0o666 & ~_umask()
    outputs = [data / name for name in ("spk2utt", "text", "feats.scp", "feats.ark", "utt2num_frames")]
    outputs.append(tmp_path / "lm.arpa")
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in outputs}
    assert set(modes.values()) == {oct(expected)}, modes
