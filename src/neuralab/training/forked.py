"""Independent jobs in forked worker processes, one CPU thread each: both cores for small networks.

A small network's matrix products are too small for a second thread to help (the threads
spend their time synchronising), but two processes side by side each keep a core's full
speed. Population training splits its models into one job per core and runs them here.

Forked children inherit the parent's memory (data sets, prepared models) for free, so a
job is a plain closure; only its result travels back (pickled over a pipe — keep results
to numbers and numpy arrays, not tensors, which would travel through shared memory).
Forking is only safe in a single-threaded parent without CUDA, on Linux; anywhere else,
or when a worker dies, the jobs run one after another in this process instead.

Example:
    >>> run_forked([lambda: 1 + 1, lambda: 2 * 3], workers=2)
    [2, 6]
"""
from __future__ import annotations

import logging
import multiprocessing
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import torch

log = logging.getLogger(__name__)

_JOBS: list[Callable[[], Any]] = []  # the jobs of the running call; children read their copy after fork


def can_fork() -> bool:
    """True where forking this process is safe: Linux, one thread, CUDA not started."""
    return (sys.platform.startswith("linux") and threading.active_count() == 1
            and not torch.cuda.is_initialized())


def run_forked(jobs: list[Callable[[], Any]], *, workers: int) -> list[Any]:
    """Run ``jobs`` in ``workers`` forked processes (one thread each); results in job order.

    Args:
        jobs: callables without arguments; each returns something picklable.
        workers: processes to use; 1 (or an unsafe parent) runs the jobs here, in order.
    """
    global _JOBS
    workers = min(workers, len(jobs))
    if workers <= 1 or not can_fork():
        return [job() for job in jobs]
    _JOBS = list(jobs)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=torch.set_num_threads,
                                 initargs=(1,)) as pool:
            results = list(pool.map(_run, range(len(jobs))))
        log.info("ran %d jobs in %d forked workers", len(jobs), workers)
        return results
    except BrokenProcessPool as error:  # a worker died (out of memory…): lose nothing, run here
        log.warning("a worker process died (%s); running the jobs in this process instead", error)
        return [job() for job in jobs]
    finally:
        _JOBS = []


def _run(index: int) -> Any:
    return _JOBS[index]()
