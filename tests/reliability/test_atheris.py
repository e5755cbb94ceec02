"""A short coverage-guided fuzzing session (atheris_parsers.py) over every file parser. The [dev] extra installs
atheris on Linux x86-64, where CI runs; elsewhere the test skips. Hypothesis fuzzing of the same parsers runs
everywhere (test_fuzz_parsers.py)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from reliability_cli import asr_env

HARNESS = Path(__file__).with_name("atheris_parsers.py")


@pytest.mark.slow
def test_atheris_session_finds_no_crash(tmp_path: Path) -> None:
    if os.environ.get("CI") and platform.system() == "Linux" and platform.machine() == "x86_64":
        import atheris  # noqa: F401  (the [dev] extra installs it here: a missing one is a CI failure)
    pytest.importorskip("atheris")
    result = subprocess.run([sys.executable, str(HARNESS), "-runs=4000", "-max_len=512", "-seed=1",
                             f"-artifact_prefix={tmp_path}/"], capture_output=True, text=True, timeout=300,
                            env=asr_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Done 4000 runs" in result.stderr, result.stderr[-2000:]
