"""Running `asr` the way a user does, for the reliability suite: as a subprocess (so a hang is caught by a
timeout and a traceback is seen exactly as printed) or in-process through `asr.cli.main` (fast; a non-AsrError
exception escapes to the test and fails it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asr_cli import run_main  # noqa: F401  (re-exported for the reliability tests)

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60  # generous for a loaded 2-core box; a hang is anything past it


def asr_env() -> dict[str, str]:
    """The environment for `python -m asr`: one thread, and the repo importable even without `pip install -e`."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": path}


def asr_command(*args: object) -> list[str]:
    return [sys.executable, "-m", "asr", *map(str, args)]


def run_asr(*args: object, timeout: float = TIMEOUT_S, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m asr ARGS`; a run past `timeout` seconds fails the test as a hang."""
    try:
        return subprocess.run(asr_command(*args), capture_output=True, text=True, timeout=timeout, cwd=cwd,
                              env=asr_env(), check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`asr {' '.join(map(str, args))}` hung: no exit within {timeout} s")


def assert_user_error(result: subprocess.CompletedProcess, *names: object) -> str:
    """Exit 1, no traceback, exactly one `asr: error:` line, and it names each of `names`; returns that line."""
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("asr: error:")]
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert len(errors) == 1, result.stderr[-2000:]
    for name in names:
        assert str(name) in errors[0], (name, errors[0])
    return errors[0]


def write_tone(path: Path, seconds: float = 0.5, rate: int = 8000, subtype: str = "PCM_16", seed: int = 0) -> Path:
    """A short noisy tone: real audio for data directories that must validate and featurize."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(t.size)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, wave.astype(np.float32), rate, subtype=subtype)
    return path
