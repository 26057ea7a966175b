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

from typing import Any

from neuralab.errors import DataError, NeuralabError, RunError, SpecError
from neuralab.spec import ExperimentSpec, load_spec

__version__ = "0.1.0"

_LAZY = {
    "train": "neuralab.api", "evaluate": "neuralab.api", "predict": "neuralab.api",
    "Run": "neuralab.run", "load_run": "neuralab.run",
}

__all__ = ["DataError", "ExperimentSpec", "NeuralabError", "Run", "RunError", "SpecError",
           "evaluate", "load_run", "load_spec", "predict", "train"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'neuralab' has no attribute {name!r}")
