"""Grid searches in populations: every grid point's network trained many at a time.

A grid sampler's points are known before the search starts, so a worker can train them
up front: points whose specs share a shape (they differ only in learning rate, L2,
momentum, dropout or seed) train together as one batched population
(:mod:`neuralab.training.population`). Optuna's own loop then runs as usual — heartbeats,
storage, the grid's bookkeeping — and each trial reports the per-epoch dev errors and
result its point already has, as if it had trained alone. Points that cannot share a
computation (other widths, batch norm…) train when their trial comes, one at a time.
Searches with a pruner (which must see each epoch as it happens), an adaptive or random
sampler, or a storage shared by several workers keep the one-trial-at-a-time path.

Example:
    >>> from neuralab.tune.batched import batchable
    >>> batchable(sampler="grid", pruner="none", shared_storage=False)
    True
"""
from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import torch

from neuralab.errors import NeuralabError
from neuralab.spec import ExperimentSpec, load_spec
from neuralab.training.evaluate import evaluate_split
from neuralab.training.population import MemberResult, population_problems, shared_settings, train_population
from neuralab.training.setup import target_scale
from neuralab.tune.space import SearchSpace, grid_space, suggest

log = logging.getLogger(__name__)


def batchable(*, sampler: str, pruner: str, shared_storage: bool) -> bool:
    """True when a search's trials can be trained up front, many at a time."""
    return sampler == "grid" and pruner == "none" and not shared_storage


def grid_results(base: ExperimentSpec, space: SearchSpace) -> dict[str, dict[str, Any]]:
    """Train every grid point that can share a population; results keyed by :func:`point_key`."""
    import optuna

    table = grid_space(space)
    specs: dict[str, ExperimentSpec] = {}
    for values in itertools.product(*table.values()):
        overrides = suggest(space, optuna.trial.FixedTrial(dict(zip(table, values))), uniform_width=True)
        try:
            specs[point_key(overrides)] = load_spec(base, overrides=overrides)
        except NeuralabError:
            continue  # the trial itself will fail with the message
    groups: dict[str, list[str]] = {}
    for key, spec in specs.items():
        groups.setdefault(shared_settings(spec), []).append(key)
    results = {}
    for keys in groups.values():
        members = [specs[key] for key in keys]
        if len(members) > 1 and not population_problems(members):
            for key, member in zip(keys, train_population(members)):
                results[key] = scores_of(member)
    log.info("trained %d of %d grid points in populations", len(results), len(specs))
    return results


def point_key(overrides: dict[str, Any]) -> str:
    """A stable text key for one point's overrides."""
    return json.dumps(overrides, sort_keys=True, default=str)


def scores_of(member: MemberResult) -> dict[str, Any]:
    """What :func:`neuralab.tune.trial.train_on_dev` returns, for a population member."""
    bundle, scale = member.bundle, target_scale(member.bundle)
    errors = {}
    for split in ("train", "dev"):
        inputs, targets = (getattr(bundle, f"{kind}_{split}") for kind in ("x", "y"))
        errors[split] = evaluate_split(member.model, member.head, torch.from_numpy(inputs), torch.from_numpy(targets),
                                       target_scale=scale)["error"]
    return {"train_error": errors["train"], "dev_error": errors["dev"], "diverged": member.diverged,
            "epochs_run": len(member.history), "stop_reason": member.stop_reason or "completed all epochs",
            "history": member.history}
