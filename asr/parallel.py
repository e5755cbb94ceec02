"""Work in parallel processes, one way for every stage: `contiguous_jobs`, `run_jobs` (its jobs report progress
with `item_done`), `process_pool`, `cluster_executor`, `results_in_order`.

Feature extraction and the audio perturbations run one job per contiguous split of a data directory
(`contiguous_jobs`); decoding runs each utterance's search while the main process runs the network. Local workers
are forked where the platform can fork, so they inherit large read-only state (an LM, a data directory)
copy-on-write instead of receiving a pickled copy, and they are started when the pool is made, before the caller
starts threads of its own (torch's), which a fork must not copy.

`cluster_executor(cmd)` is Kaldi's `--cmd` for jobs that take a split of a data directory, where `local` is this
machine's process pool and `dask:ADDRESS`, a dask.distributed scheduler, behind which dask-jobqueue runs the
workers on Slurm, PBS, SGE or LSF (extra `[cluster]`). Workers read and write the paths they are given, so a
cluster needs the shared file system Kaldi's queue.pl needs too. Either way the caller gets futures and
`results_in_order` waits on both kinds.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterator, Sequence, TypeVar

import numpy as np

from asr.errors import AsrError, import_extra

LOCAL = "local"
DASK_PREFIX = "dask:"
SCHEDULER_TIMEOUT_S = 30  # how long a --cmd dask:ADDRESS client keeps trying to reach its scheduler

T = TypeVar("T")


def mp_context() -> Any:
    """fork where available (POSIX), else the platform's default (spawn: initargs and arguments are pickled)."""
    if os.name == "posix":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def contiguous_jobs(items: Sequence[T], nj: int) -> list[list[T]]:
    """`nj` contiguous, nearly equal slices of `items` (fewer when there are fewer items; none empty), so the
    jobs' results concatenated in job order are in the order of `items`."""
    nj = max(1, min(nj, len(items)))
    bounds = np.linspace(0, len(items), nj + 1).round().astype(int)
    return [list(items[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


@contextlib.contextmanager
def process_pool(num_workers: int, initializer: Callable[..., None] | None = None,
                 initargs: tuple = ()) -> Iterator[ProcessPoolExecutor]:
    """`num_workers` processes, each running `initializer(*initargs)` once, all started before this returns.

    Leaving the block waits for the submitted work; leaving it on an error first cancels what has not started."""
    pool = ProcessPoolExecutor(num_workers, mp_context=mp_context(), initializer=initializer, initargs=initargs)
    try:
        for started in [pool.submit(os.getpid) for _ in range(num_workers)]:  # a forking pool starts all at once
            started.result()
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


@contextlib.contextmanager
def cluster_executor(cmd: str) -> Iterator[Any]:
    """A client of the dask scheduler at ADDRESS for `dask:ADDRESS`, with `submit(fn, *args, **kwargs)`
    returning futures as the process pool's does; local work takes `process_pool` instead."""
    if not cmd.startswith(DASK_PREFIX) or not cmd[len(DASK_PREFIX):]:
        raise AsrError(f"--cmd {cmd}: give local, or dask:ADDRESS of a dask.distributed scheduler "
                       f"(e.g. dask:tcp://10.0.0.1:8786)")
    distributed = import_extra("distributed", "cluster", f"--cmd {cmd}")
    address = cmd[len(DASK_PREFIX):]
    try:
        client = distributed.Client(address, timeout=f"{SCHEDULER_TIMEOUT_S}s", set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise AsrError(f"--cmd {cmd}: no dask scheduler answers at {address} ({e.__class__.__name__}); start one "
                       f"(dask scheduler, or dask-jobqueue's SLURMCluster) and pass its address") from None
    with client:
        yield _DaskSubmitter(client)


class _DaskSubmitter:
    """`submit` as the process pool's: each call a new task (never deduplicated), futures with done/result."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def submit(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        return self.client.submit(fn, *args, pure=False, **kwargs)


_progress: Any = None  # where `item_done` reports in this process: the bar, a queue to the parent's bar, or None


def item_done(count: int = 1) -> None:
    """Note `count` more items of the running job done: `run_jobs` moves its caller's progress bar by them (a job
    run as a dask task moves it when it finishes instead)."""
    if _progress is not None:
        _progress.put(count)


def run_jobs(job: Callable[..., T], jobs: Sequence[Sequence[Any]], bar: Any, cmd: str, *args: Any,
             job_args: Sequence[tuple] = ()) -> list[T]:
    """`job(items, *job_args[i], *args)` for every split `items` of `jobs`, in order: in this process for one local
    job, else one local process per job or a task each on the dask scheduler of `cmd`. The bar moves per item the
    job reports with `item_done` (locally), or per finished job (dask). `job` must be a module-level function, so
    workers can import it."""
    global _progress
    per_job = list(job_args) or [()] * len(jobs)
    if cmd == LOCAL and len(jobs) == 1:
        _progress = _Bar(bar)
        try:
            return [job(jobs[0], *per_job[0], *args)]
        finally:
            _progress = None
    if cmd != LOCAL:
        with cluster_executor(cmd) as executor:
            futures = [executor.submit(job, items, *extra, *args) for items, extra in zip(jobs, per_job)]
            return results_in_order(futures, on_done=lambda index: bar.update(len(jobs[index])))
    reports = mp_context().SimpleQueue()  # put() writes before it returns: every report is in before the result
    with process_pool(len(jobs), _report_to, (reports,)) as pool:
        futures = [pool.submit(job, items, *extra, *args) for items, extra in zip(jobs, per_job)]
        results = results_in_order(futures, poll=lambda: _drain(reports, bar))
        _drain(reports, bar)
    return results


def _report_to(reports: Any) -> None:
    """A local worker's initializer: its `item_done` reports go to the parent through `reports`."""
    global _progress
    _progress = reports


class _Bar:
    """`item_done`'s sink when the job runs in this process: the bar itself."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def put(self, count: int) -> None:
        self.bar.update(count)


def _drain(reports: Any, bar: Any) -> None:
    """Move the counts the workers have reported so far onto the bar."""
    while not reports.empty():
        bar.update(reports.get())


def results_in_order(futures: Sequence[Any], poll: Callable[[], None] | None = None,
                     on_done: Callable[[int], None] | None = None, interval_s: float = 0.1) -> list:
    """Every future's result, in order (concurrent.futures or dask futures). While waiting, `poll()` runs every
    `interval_s` and `on_done(index)` once per future as it finishes (to feed a progress bar); the first failure
    cancels the futures not yet started and is raised (a worker process that died, locally or on a dask cluster,
    as a one-line AsrError: its own exception says nothing a user can act on)."""
    remaining = list(enumerate(futures))
    while remaining:
        if not any(f.done() for _, f in remaining):
            time.sleep(interval_s)
        done = [f for _, f in remaining if f.done()]
        if on_done is not None:
            for index, future in remaining:
                if future.done():
                    on_done(index)
        remaining = [(i, f) for i, f in remaining if not f.done()]
        if poll is not None:
            poll()
        if any(not f.cancelled() and f.exception() is not None for f in done):
            for _, future in remaining:
                future.cancel()
            break
    for index, future in enumerate(futures):  # the first failed job's error, in submission order
        if future.done() and not future.cancelled() and future.exception() is not None:
            error = future.exception()
            if isinstance(error, BrokenProcessPool) or type(error).__name__ == "KilledWorker":
                raise AsrError(f"job {index + 1} of {len(futures)}: its worker process died ({type(error).__name__}: "
                               f"killed, out of memory or crashed); rerun, with fewer jobs if memory ran out") from None
            future.result()
    return [f.result() for f in futures]
