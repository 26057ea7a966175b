"""Shared fixtures: tiny seeded specs so every test trains in well under a second."""
from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch

from neuralab.spec import load_spec


@pytest.fixture(autouse=True)
def _single_thread():
    # Tests compare numbers across runs; one thread keeps them stable and the suite fast.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def tiny_spec():
    """A 2-D circle problem small enough to train in a fraction of a second."""
    return load_spec({
        "name": "tiny", "seed": 0,
        "data": {"dataset": "circle", "n_samples": 120},
        "model": {"hidden": [8]},
        "train": {"epochs": 3, "batch_size": 16, "learning_rate": 0.01},
    })


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    def fail(number, frame):
        raise TimeoutError(f"ran for over {seconds} s: a hang or unbounded work")
    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def time_limit():
    """``with time_limit(seconds):`` fails the test when the block runs longer — a hang guard, not a timing check."""
    return _time_limit
