"""Running a recipe's run.sh the way a user does, with its outputs in a temporary work dir."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes"


@pytest.fixture
def run_recipe(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """run_recipe("mini", "--stage", "1", check=True) runs recipes/mini/run.sh with --work-dir tmp_path/work."""

    def run(name: str, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        result = subprocess.run(["bash", str(RECIPES / name / "run.sh"), "--work-dir", str(tmp_path / "work"), *args],
                                capture_output=True, text=True, env=env, timeout=timeout, cwd=tmp_path)
        if check and result.returncode != 0:
            raise AssertionError(f"run.sh failed ({result.returncode}):\n{result.stderr[-4000:]}")
        return result

    return run
