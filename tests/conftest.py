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


TINY_GPT = {"name": "tiny-gpt", "seed": 0,
            "data": {"dataset": "shakespeare", "max_characters": 6000, "sequence_length": 16},
            "model": {"kind": "transformer", "transformer": {"layers": 2, "heads": 2, "embed_dim": 16}},
            "train": {"optimizer": "adamw", "learning_rate": 0.01, "l2": 0.1, "batch_size": 8, "max_steps": 30,
                      "eval_every": 10, "eval_batches": 2, "schedule": {"name": "warmup_cosine", "warmup_steps": 3}},
            "diagnose": {"health_every": 5, "text_samples": 2}}


@pytest.fixture
def tiny_gpt_spec():
    """The tiny character GPT's spec, as a mapping (tests change it with overrides)."""
    return TINY_GPT


@pytest.fixture(scope="session")
def tiny_gpt_run(tmp_path_factory):
    """A 2-layer character GPT trained for 30 steps on 6,000 characters of Shakespeare, written to disk."""
    import neuralab

    torch.set_num_threads(1)
    return neuralab.train(load_spec(TINY_GPT), out_dir=tmp_path_factory.mktemp("gpt"))
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
