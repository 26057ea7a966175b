"""neuralab: a deep-neural-network lab on PyTorch — learn, see, diagnose and tune networks.

Example:
    >>> import neuralab
    >>> spec = neuralab.load_spec({"data": {"dataset": "spiral"}}, overrides={"train.epochs": 2})
    >>> spec.train.epochs
    2

The heavy parts (torch, the engine) are imported on first use, so ``import neuralab`` and
spec validation stay fast.
"""
from __future__ import annotations

import os
from typing import Any

# OpenMP threads that spin while they wait for each other turn a busy core into a 10–20×
# slower epoch (benchmarks/bench_threads.py); waiting threads that sleep cost little. OpenMP
# reads this once, when torch loads: it applies when neuralab is imported before torch, and
# a value the user set wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from neuralab.errors import DataError, NeuralabError, RunError, SpecError, TrainingInterrupted
from neuralab.spec import ExperimentSpec, load_spec

__version__ = "0.1.0"

_LAZY = {
    "train": "neuralab.api", "evaluate": "neuralab.api", "predict": "neuralab.api", "resume": "neuralab.api",
    "Run": "neuralab.runs", "load_run": "neuralab.runs",
    "train_many": "neuralab.many",
    "diagnose": "neuralab.doctor.diagnosis", "bias_variance": "neuralab.doctor.bias_and_variance",
    "improve": "neuralab.doctor.rounds",
    "tune_study": "neuralab.tune.search", "sweep": "neuralab.tune.sweep",
    "find_learning_rate": "neuralab.tune.lr_find", "param_importances": "neuralab.tune.importance",
}

__all__ = ["DataError", "ExperimentSpec", "NeuralabError", "Run", "RunError", "SpecError", "TrainingInterrupted",
           "bias_variance", "diagnose", "improve",
           "evaluate", "find_learning_rate", "load_run", "load_spec", "param_importances",
           "predict", "resume", "sweep", "train", "train_many", "tune_study"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'neuralab' has no attribute {name!r}")
