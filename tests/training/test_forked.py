"""Jobs in forked workers: results in order, really in other processes, and a fallback that loses nothing."""
from __future__ import annotations

import os
import threading

import pytest

from neuralab.training import forked
from neuralab.training.forked import can_fork, run_forked


def test_results_come_back_in_job_order_from_other_processes():
    if not can_fork():
        pytest.skip(f"forking is unsafe here ({threading.active_count()} threads)")
    parent = os.getpid()
    results = run_forked([lambda i=i: (i * i, os.getpid()) for i in range(5)], workers=2)
    assert [value for value, _ in results] == [0, 1, 4, 9, 16]
    assert parent not in {pid for _, pid in results}
    assert forked._JOBS == []  # nothing kept alive after the call


def test_one_worker_runs_the_jobs_here():
    assert run_forked([os.getpid, os.getpid], workers=1) == [os.getpid()] * 2


def test_a_parent_with_threads_does_not_fork():
    release = threading.Event()
    helper = threading.Thread(target=release.wait)
    helper.start()
    try:
        assert not can_fork()
        assert run_forked([os.getpid], workers=2) == [os.getpid()]
    finally:
        release.set()
        helper.join()


def test_a_dying_worker_falls_back_to_this_process():
    if not can_fork():
        pytest.skip("forking is unsafe here")
    parent = os.getpid()

    def dies_in_a_child():
        if os.getpid() != parent:
            os._exit(1)  # a worker killed mid-job (out of memory, a signal)
        return "done here"

    assert run_forked([dies_in_a_child, dies_in_a_child], workers=2) == ["done here"] * 2
