"""asr.parallel: the process pool every parallel stage uses (features, decode)."""

from __future__ import annotations

import os
import time

import pytest

from asr.errors import AsrError
from asr.parallel import item_done, process_pool, results_in_order, run_jobs

_STATE: dict = {}


def _install(value: object) -> None:
    _STATE["value"] = value


def _read_state(_: int) -> tuple[int, object]:
    return os.getpid(), _STATE.get("value")


def _square_slowly(x: int) -> int:
    time.sleep(0.01 * (5 - x))  # later jobs finish first
    return x * x


def _fail_on(x: int) -> int:
    if x == 1:
        raise ValueError(f"job {x} failed")
    time.sleep(0.3)
    return x


def test_results_come_back_in_submission_order_whatever_order_they_finish_in() -> None:
    with process_pool(2) as pool:
        futures = [pool.submit(_square_slowly, x) for x in range(5)]
        polls = []
        assert results_in_order(futures, poll=lambda: polls.append(1), interval_s=0.001) == [0, 1, 4, 9, 16]
    assert polls  # the poll ran while waiting


def test_every_worker_ran_the_initializer_and_works_in_its_own_process() -> None:
    with process_pool(2, _install, ({"lm": "big"},)) as pool:
        seen = results_in_order([pool.submit(_read_state, i) for i in range(8)])
    assert all(v == {"lm": "big"} for _, v in seen)
    assert os.getpid() not in {pid for pid, _ in seen}
    assert "value" not in _STATE  # the parent's state is untouched


def test_a_failing_job_raises_its_own_error_and_cancels_the_queued_ones() -> None:
    with pytest.raises(ValueError, match="job 1 failed"):
        with process_pool(1) as pool:  # one worker: jobs 2.. are still queued when job 1 fails
            futures = [pool.submit(_fail_on, x) for x in range(6)]
            results_in_order(futures)
    assert futures[0].result() == 0
    assert any(f.cancelled() for f in futures[2:])


def _die(_: int) -> None:
    os._exit(1)


def test_a_worker_process_that_dies_is_a_one_line_error() -> None:
    with pytest.raises(AsrError, match=r"^job 1 of 2: its worker process died \(BrokenProcessPool"):
        with process_pool(2) as pool:
            results_in_order([pool.submit(_die, x) for x in range(2)])


class _CountingBar:
    def __init__(self) -> None:
        self.counts: list[int] = []

    def update(self, count: int) -> None:
        self.counts.append(count)


def _sum_reporting_each(items: list[int], offset: int, scale: int) -> tuple[int, int]:
    for _ in items:
        item_done()
    return os.getpid(), offset + scale * sum(items)


@pytest.mark.parametrize("nj", [1, 3])
def test_run_jobs_passes_each_job_its_own_arguments_and_moves_the_bar_per_item(nj: int) -> None:
    """One job runs in this process, several in worker processes; either way every job gets its items, its own
    job_args and the shared args, results come back in job order, and each item_done() moves the caller's bar."""
    jobs = [[1, 2], [3], [4, 5, 6]][:nj] if nj > 1 else [[1, 2, 3]]
    bar = _CountingBar()
    results = run_jobs(_sum_reporting_each, jobs, bar, "local", 10, job_args=[(100 * i,) for i in range(len(jobs))])
    assert [value for _, value in results] == [100 * i + 10 * sum(items) for i, items in enumerate(jobs)]
    assert sum(bar.counts) == sum(len(items) for items in jobs) and all(c >= 1 for c in bar.counts)
    assert all(pid != os.getpid() for pid, _ in results) if nj > 1 else results[0][0] == os.getpid()
