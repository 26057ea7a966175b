"""Tuning on Optuna: grid, random and Bayesian search, pruning, sensitivity sweeps,
architecture search, hyperparameter importance and the learning-rate range test.

Optuna loads only when a study runs, so importing this package stays cheap.

Example:
    >>> from neuralab.tune import SAMPLERS, PRUNERS
    >>> sorted(SAMPLERS), sorted(PRUNERS)
    (['cmaes', 'grid', 'random', 'tpe'], ['hyperband', 'median', 'none'])
"""
from __future__ import annotations

from neuralab.tune.samplers import PRUNERS, SAMPLERS
from neuralab.tune.space import SearchSpace, load_space

__all__ = ["PRUNERS", "SAMPLERS", "SearchSpace", "load_space"]
