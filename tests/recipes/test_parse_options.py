"""recipes/utils/parse_options.sh and path.sh: Kaldi-style options into shell variables, input checks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UTILS = REPO / "recipes" / "utils"

SCRIPT = f"""
stage=0
stop_stage=100
nj=2
corpus_dir=
use_lm=true
help_message="Usage: demo.sh [options] <out-dir>"
. {UTILS}/parse_options.sh
echo "stage=$stage stop_stage=$stop_stage nj=$nj corpus_dir=$corpus_dir use_lm=$use_lm args=$#:$*"
"""


def run_script(tmp_path: Path, *args: str, script: str = SCRIPT) -> subprocess.CompletedProcess:
    path = tmp_path / "demo.sh"
    path.write_text(script)
    return subprocess.run(["bash", str(path), *args], capture_output=True, text=True, cwd=tmp_path)


def test_options_set_the_declared_variables(tmp_path: Path) -> None:
    result = run_script(tmp_path, "--stage", "3", "--stop-stage=5", "--nj", "4", "--corpus-dir", "/data/my corpus",
                        "--use-lm", "false", "out", "more")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stage=3 stop_stage=5 nj=4 corpus_dir=/data/my corpus use_lm=false args=2:out more"


def test_defaults_stay_without_options(tmp_path: Path) -> None:
    result = run_script(tmp_path)
    assert result.stdout.strip() == "stage=0 stop_stage=100 nj=2 corpus_dir= use_lm=true args=0:"


def test_double_dash_ends_the_options(tmp_path: Path) -> None:
    result = run_script(tmp_path, "--nj", "3", "--", "--stage", "9")
    assert result.stdout.strip() == "stage=0 stop_stage=100 nj=3 corpus_dir= use_lm=true args=2:--stage 9"


def test_config_file_is_sourced_in_order(tmp_path: Path) -> None:
    (tmp_path / "my.conf").write_text("nj=7\nstage=2\n")
    result = run_script(tmp_path, "--nj", "3", "--config", "my.conf", "--stage", "4")
    assert result.stdout.startswith("stage=4 stop_stage=100 nj=7 ")


@pytest.mark.parametrize(("args", "message"), [
    (["--num-jobs", "3"], "unknown option --num-jobs"),
    (["--use-lm", "maybe"], "option --use-lm takes true or false, not 'maybe'"),
    (["--nj"], "option --nj needs a value"),
    (["--config", "absent.conf"], "config file absent.conf not found"),
])
def test_bad_options_fail_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_script(tmp_path, *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stdout == ""


def test_environment_variables_are_not_options(tmp_path: Path) -> None:
    path = tmp_path / "demo.sh"
    path.write_text(SCRIPT)
    result = subprocess.run(["bash", str(path), "--home_dir", "x"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "home_dir": "/root"})
    assert result.returncode == 1 and "unknown option --home-dir" in result.stderr


def test_help_lists_the_options_with_their_values(tmp_path: Path) -> None:
    result = run_script(tmp_path, "--nj", "5", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: demo.sh [options] <out-dir>\n")
    lines = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[2:]}
    assert lines == {"--corpus-dir": [], "--nj": ["5"], "--stage": ["0"], "--stop-stage": ["100"],
                     "--use-lm": ["true"]}


def test_require_names_the_stage_that_writes_a_missing_input(tmp_path: Path) -> None:
    script = f". {UTILS}/path.sh\nrequire 2 exists.txt data/train/feats.scp\necho unreachable\n"
    (tmp_path / "exists.txt").write_text("")
    result = run_script(tmp_path, script=script)
    assert result.returncode == 1 and "unreachable" not in result.stdout
    assert "data/train/feats.scp is missing; stage 2 writes it" in result.stderr


def test_path_sh_runs_this_checkouts_asr(tmp_path: Path) -> None:
    result = run_script(tmp_path, script=f". {UTILS}/path.sh\nasr --version\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("asr, version")
