"""Search strategies and early stopping of bad trials, by name: Optuna's samplers and pruners.

``SAMPLERS`` picks how the next trial's values are chosen (grid, random, TPE — Bayesian
optimisation —, CMA-ES); ``PRUNERS`` picks when an unpromising trial stops early from its
dev error per epoch (Hyperband, median, none). Every entry is seeded from the spec's seed,
so the same spec and space give the same trials on one worker. Optuna is imported on use.

None of them loads a pickle from the study's storage (a shared database or journal is
not code): grid, random and TPE sample from the trials' JSON parameters and values;
CMA-ES keeps its optimiser in the process (:mod:`neuralab.tune.cmaes`) instead of the
pickle Optuna's sampler saves and loads; the pruners read the trials' reported dev errors
(Hyperband also its bracket numbers). ``tests/tune/test_samplers.py`` runs every sampler
and pruner, resumed, with ``pickle.loads`` made to fail, and plants a pickle for CMA-ES.

Example:
    >>> from neuralab.tune.space import load_space
    >>> space = load_space({"params": {"train.learning_rate": {"low": 1e-3, "high": 1e-1, "log": True}}})
    >>> type(make_sampler("random", space, seed=0)).__name__, type(make_pruner("median", epochs=5)).__name__
    ('RandomSampler', 'MedianPruner')
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neuralab.errors import not_one_of
from neuralab.tune.space import SearchSpace, grid_space


def _grid(space: SearchSpace, seed: int) -> Any:
    import optuna

    return optuna.samplers.GridSampler(grid_space(space), seed=seed)


def _random(space: SearchSpace, seed: int) -> Any:
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


def _tpe(space: SearchSpace, seed: int) -> Any:
    import optuna

    # multivariate + group model the NAS preset's conditional widths jointly instead of one by one
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True, n_startup_trials=5)


def _cmaes(space: SearchSpace, seed: int) -> Any:
    import optuna

    from neuralab.tune.cmaes import InProcessCmaEsSampler

    # CMA-ES handles numbers only; categorical choices go to the seeded random sampler. Its state
    # stays in this process: Optuna's own CmaEsSampler would unpickle it from the storage.
    return InProcessCmaEsSampler(seed=seed, warn_independent_sampling=False,
                                 independent_sampler=optuna.samplers.RandomSampler(seed=seed))


SAMPLERS: dict[str, Callable[[SearchSpace, int], Any]] = {
    "grid": _grid, "random": _random, "tpe": _tpe, "cmaes": _cmaes,
}


def _hyperband(epochs: int) -> Any:
    import optuna

    return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(epochs, 1), reduction_factor=3)


def _median(epochs: int) -> Any:
    import optuna

    return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=min(1, epochs - 1))


def _none(epochs: int) -> Any:
    import optuna

    return optuna.pruners.NopPruner()


PRUNERS: dict[str, Callable[[int], Any]] = {"hyperband": _hyperband, "median": _median, "none": _none}


def choice_problems(*, sampler: str, pruner: str) -> list[str]:
    """One line per unknown sampler or pruner name (empty when both are known)."""
    problems = []
    if sampler not in SAMPLERS:
        problems.append(not_one_of("--sampler", sampler, list(SAMPLERS)))
    if pruner not in PRUNERS:
        problems.append(not_one_of("--pruner", pruner, list(PRUNERS)))
    return problems


def make_sampler(name: str, space: SearchSpace, *, seed: int = 0) -> Any:
    """The Optuna sampler called ``name`` (see :data:`SAMPLERS`) for ``space``, seeded."""
    return SAMPLERS[name](space, seed)


def make_pruner(name: str, *, epochs: int) -> Any:
    """The Optuna pruner called ``name`` (see :data:`PRUNERS`) for trials of ``epochs`` epochs."""
    return PRUNERS[name](epochs)
