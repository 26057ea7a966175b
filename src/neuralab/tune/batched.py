"""Searches in populations: grid and random points known up front, trained many at a time.

The grid sampler's points are fixed, and the random sampler's do not depend on earlier
results, so a worker can draw a search's points before it starts and train them up
front: points whose specs share a shape (they differ only in learning rate, L2,
momentum or seed) train together as one batched population
(:mod:`neuralab.training.population`, both cores when the work is big enough). Random
points are drawn by Optuna's own seeded ``RandomSampler`` and queued into the study
(``enqueue_trial``), so the study holds exactly the points that were trained.

Optuna's loop then runs as usual — heartbeats, storage, the grid's bookkeeping, the
pruner — and each trial replays its point's per-epoch dev errors as if it were training
alone. A pruner sees the same numbers in the same order, so it prunes the same trials at
the same epochs (the population simply trained them to the end). Points that cannot share
a computation (other widths, batch norm…) train when their trial comes, one at a time.
Adaptive samplers (TPE, CMA-ES), whose next point depends on the last result, and storages
shared by several workers keep the one-trial-at-a-time path.

Example:
    >>> from neuralab.tune.batched import batchable
    >>> batchable(sampler="random", shared_storage=False), batchable(sampler="tpe", shared_storage=False)
    (True, False)
"""
from __future__ import annotations

import itertools
import json
import logging
from typing import Any


from neuralab.errors import NeuralabError
from neuralab.spec import ExperimentSpec, load_spec
from neuralab.training.population import population_problems, shared_settings, train_population
from neuralab.tune.samplers import make_sampler
from neuralab.tune.trial import result_row
from neuralab.tune.space import SearchSpace, grid_space, suggest

log = logging.getLogger(__name__)

BATCHED_SAMPLERS = ("grid", "random")  # samplers whose points do not depend on earlier results


def batchable(*, sampler: str, shared_storage: bool) -> bool:
    """True when a search's trials can be drawn and trained up front, many at a time."""
    return sampler in BATCHED_SAMPLERS and not shared_storage


def grid_results(base: ExperimentSpec, space: SearchSpace) -> dict[str, dict[str, Any]]:
    """Train every grid point that can share a population; results keyed by :func:`point_key`."""
    import optuna

    table = grid_space(space)
    points = [suggest(space, optuna.trial.FixedTrial(dict(zip(table, values))), uniform_width=True)
              for values in itertools.product(*table.values())]
    return population_results(base, points)


def random_results(study: Any, base: ExperimentSpec, space: SearchSpace, *, count: int,
                   seed: int) -> dict[str, dict[str, Any]]:
    """Draw ``count`` random points, queue them into ``study``, train those that share a population.

    Args:
        study: the Optuna study the points are queued into (its trials then take them in order).
        base: the base spec; space: the search space.
        count: points to draw (the trials the study still needs).
        seed: the random sampler's seed (the one the study's own sampler was given).
    """
    import optuna

    drawer = optuna.create_study(sampler=make_sampler("random", space, seed=seed))  # in memory, thrown away
    points = []
    for _ in range(count):
        trial = drawer.ask()
        points.append(suggest(space, trial))
        study.enqueue_trial(dict(trial.params))
        drawer.tell(trial, 0.0)
    return population_results(base, points)


def population_results(base: ExperimentSpec, points: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Train the points (dotted overrides of ``base``) that can share a population with others."""
    specs: dict[str, ExperimentSpec] = {}
    for overrides in points:
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
        problems = population_problems(members) if len(members) > 1 else ["alone"]
        if not problems:
            for key, member in zip(keys, train_population(members, record_health=False)):
                results[key] = result_row(member.state, member.score(["train", "dev"]),
                                          n_parameters=member.n_parameters)
        elif len(members) > 1:
            log.info("%d points train one at a time: %s", len(members), "; ".join(problems))
    log.info("trained %d of %d points in populations", len(results), len(specs))
    return results


def point_key(overrides: dict[str, Any]) -> str:
    """A stable text key for one point's overrides."""
    return json.dumps(overrides, sort_keys=True, default=str)
