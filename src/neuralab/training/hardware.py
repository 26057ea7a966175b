"""Where an experiment runs: the device, and how many CPU threads it uses.

Example:
    >>> from neuralab.training.hardware import choose_device, choose_threads
    >>> choose_device("cpu").type, choose_threads(requested=3, n_parameters=10)
    ('cpu', 3)
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import torch

log = logging.getLogger(__name__)

# Below this many parameters one network trains on one CPU thread. Measured with
# benchmarks/bench_threads.py (2026-11-30, 2 cores): digits' 26,000-parameter MLP takes 12.8 ms
# an epoch on one thread idle and 14.7 ms with another process keeping a core busy; two threads
# gain nothing idle (12.5 ms) and lose 2.7x busy (39.7 ms), or, with OpenMP's passive wait,
# lose 5.2x idle. A busy laptop is the common case, so one thread unless the layers are big.
MULTITHREAD_MIN_PARAMETERS = 2_000_000
# A population's stacked products (K networks in one batched matmul) are big enough sooner.
POPULATION_THREADS_FROM = 20_000


def choose_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` without a GPU falls back with a warning."""
    if name == "cuda" and not torch.cuda.is_available():
        log.warning("train.device is cuda but no GPU is available; using the CPU")
        return torch.device("cpu")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def choose_threads(*, requested: int | None, n_parameters: int, threads_from: int | None = None) -> int:
    """CPU threads for a network of ``n_parameters``: ``train.threads`` when set, else by size.

    ``threads_from`` is the model kind's own size from which a second thread pays (default
    :data:`MULTITHREAD_MIN_PARAMETERS`).
    """
    if requested:
        return requested
    return torch.get_num_threads() if n_parameters >= (threads_from or MULTITHREAD_MIN_PARAMETERS) else 1


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run a block with ``count`` torch CPU threads, then restore the previous count."""
    previous = torch.get_num_threads()
    if count != previous:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
