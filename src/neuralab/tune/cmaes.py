"""CMA-ES whose state stays in the process: Optuna's ``CmaEsSampler`` without a pickle in the storage.

Optuna's ``CmaEsSampler`` keeps its CMA-ES optimiser between trials as a pickle in a
trial's system attributes (``cma:optimizer:0…``) and, for the next trial, ``pickle.loads``
whatever the latest such attribute holds: anyone who can write to a study's storage — a
shared PostgreSQL database, a journal on a network drive, a ``study.db`` handed over —
could make every CMA-ES worker that resumes or joins the study run their code.

:class:`InProcessCmaEsSampler` is that sampler with its optimiser kept in memory: it
never reads those attributes (the storage's copy is ignored, planted or not) and never
writes them. Everything else is Optuna's: the generations, the trials told to each, the
seeding. A worker that resumes or joins a study starts, as Optuna's sampler does when it
finds no saved state, from a fresh optimiser and tells it the study's finished trials one
generation per trial — parameters and values, plain JSON data — until it has caught up;
workers sharing a study each keep their own optimiser, fed by every worker's trials.

Example:
    >>> import optuna
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> sampler = InProcessCmaEsSampler(seed=0, n_startup_trials=2, warn_independent_sampling=False)
    >>> study = optuna.create_study(sampler=sampler)
    >>> study.optimize(lambda trial: (trial.suggest_float("x", -3, 3) - 1) ** 2, n_trials=40)
    >>> any(key.endswith("optimizer:0") for trial in study.trials for key in trial.system_attrs)
    False
    >>> max(trial.system_attrs.get("cma:generation", 0) for trial in study.trials) > 2
    True
"""
from __future__ import annotations

from typing import Any

from optuna.samplers import CmaEsSampler


class InProcessCmaEsSampler(CmaEsSampler):
    """Optuna's CMA-ES sampler with its optimiser in this process, never in the storage (see above)."""

    def __init__(self, **settings: Any):
        super().__init__(**settings)
        self._optimizer: Any = None  # cmaes.CMA (or its separable / with-margin kind), told in place

    def sample_relative(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict[str, Any]:
        return super().sample_relative(_WithoutOptimizerWrites(study, self._attr_key_optimizer), trial, search_space)

    def _restore_optimizer(self, completed_trials: list[Any]) -> Any:
        return self._optimizer  # never the storage's pickles

    def _init_optimizer(self, *arguments: Any, **settings: Any) -> Any:
        self._optimizer = super()._init_optimizer(*arguments, **settings)
        return self._optimizer


class _WithoutOptimizerWrites:
    """The study as the sampler sees it: its storage drops the optimiser's pickle (``<prefix>optimizer:i``)."""

    def __init__(self, study: Any, optimizer_key: str):
        self._study = study
        self._storage = _StorageWithoutOptimizer(study._storage, optimizer_key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)


class _StorageWithoutOptimizer:
    def __init__(self, storage: Any, optimizer_key: str):
        self._inner, self._optimizer_key = storage, optimizer_key

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        if not key.startswith(self._optimizer_key):
            self._inner.set_trial_system_attr(trial_id, key, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
