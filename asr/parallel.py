"""Work in parallel processes, one way for every stage: `process_pool` and `results_in_order`.

Feature extraction runs one job per split of a data directory in it; decoding runs each utterance's search in
it while the main process runs the network. Workers are forked where the platform can fork, so they inherit
large read-only state (an LM, a data directory) copy-on-write instead of receiving a pickled copy, and they are
started when the pool is made, before the caller starts threads of its own (torch's), which a fork must not
copy. Cluster executors (Kaldi's `--cmd`) are to take the same `submit`/future interface.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Callable, Iterator, Sequence


def mp_context() -> Any:
    """fork where available (POSIX), else the platform's default (spawn: initargs and arguments are pickled)."""
    if os.name == "posix":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


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


def results_in_order(futures: Sequence[Future], poll: Callable[[], None] | None = None,
                     interval_s: float = 0.1) -> list:
    """Every future's result, in order. While waiting, `poll()` runs every `interval_s` (to feed a progress bar,
    say); the first failure cancels the futures not yet started and is raised."""
    from concurrent.futures import FIRST_EXCEPTION, wait

    remaining = set(futures)
    while remaining:
        done, remaining = wait(remaining, timeout=interval_s, return_when=FIRST_EXCEPTION)
        if poll is not None:
            poll()
        if any(f.exception() is not None for f in done):
            for future in remaining:
                future.cancel()
            break
    for future in futures:  # the first failed job's error, in submission order
        if future.done() and not future.cancelled() and future.exception() is not None:
            future.result()
    return [f.result() for f in futures]
