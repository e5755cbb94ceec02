"""The import rules of DESIGN.md, read from the source: only `asr train`'s CLI module imports asr.training, and
the numpy-only packages import no torch, anywhere in a module (function-level imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "asr"
NUMPY_ONLY = ("features", "lm", "decoding", "kaldi_io", "datadir.py", "scoring.py", "audio.py", "units")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_only_the_train_command_imports_the_training_package() -> None:
    importers = [str(p.relative_to(PACKAGE)) for p in _modules() if "training" not in p.relative_to(PACKAGE).parts
                 and any(n == "asr.training" or n.startswith("asr.training.") for n in _imports(p))]
    assert importers == ["cli/train.py"]


def test_the_numpy_only_packages_import_no_torch() -> None:
    offenders = [str(p.relative_to(PACKAGE)) for p in _modules()
                 if p.relative_to(PACKAGE).parts[0] in NUMPY_ONLY
                 and any(n.split(".")[0] in ("torch", "torchaudio") for n in _imports(p))]
    assert offenders == []
