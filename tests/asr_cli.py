"""Run the `asr` command line in this process, as a user would from a shell, and get its exit code."""

from __future__ import annotations

from asr.cli import main


def run_main(argv: list[object]) -> int:
    """`asr ARGV` in this process; returns the exit code (AsrError -> 1). Any other exception propagates."""
    try:
        main([str(a) for a in argv])
    except SystemExit as e:
        return int(e.code or 0)
    return 0
