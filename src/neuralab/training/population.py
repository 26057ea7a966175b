"""Many networks of one shape trained together: sweeps and searches at a fraction of the cost.

The engine contract: a population admits a setting only where a parity test covers it
(``tests/training/test_population.py``: every catalog optimiser, each varied field, batch
norm, early stopping, clipping, L1, noise, schedules, health records), and every member is
an ordinary :class:`~neuralab.training.experiment.Experiment`, built as it would be alone.
Specs that cannot join (:func:`population_problems` says why: dropout, another model kind,
rollback on divergence, settings beyond the varied ones) train alone, and the caller logs
it. Members are grouped by momentum, a big population is split across forked worker
processes, one per CPU thread (:func:`worker_count`, :mod:`neuralab.training.forked`), and
each part trains as one stacked computation (:mod:`neuralab.training.lockstep`).

Example:
    >>> import neuralab
    >>> base = {"data": {"dataset": "xor", "n_samples": 100}, "model": {"hidden": [4]}, "train": {"epochs": 2}}
    >>> specs = [neuralab.load_spec(base, overrides={"train.learning_rate": lr}) for lr in (0.01, 0.1)]
    >>> [len(experiment.state.history) for experiment in train_population(specs)]
    [2, 2]
"""
from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any

import numpy as np
import torch

from neuralab.data import DataBundle, load_data
from neuralab.models import kind_of
from neuralab.spec import ExperimentSpec
from neuralab.spec.catalog import L1_STYLES
from neuralab.training.experiment import Experiment
from neuralab.training.forked import run_forked
from neuralab.training.hardware import POPULATION_THREADS_FROM, torch_threads
from neuralab.training.lockstep import Lockstep
from neuralab.training.optim import momentum_of

log = logging.getLogger(__name__)

__all__ = ["VARYING", "population_problems", "population_threads", "shared_settings", "train_population",
           "worker_count"]

# Below this many training FLOPs a population trains in one process: forking a worker
# costs tens of milliseconds (measured with benchmarks/population.py).
PARALLEL_MIN_FLOPS = 2e9
# Fields that may differ between the members of one population (each covered by a parity test).
VARYING = ("seed", "train.learning_rate", "train.l2", "train.momentum")


def shared_settings(spec: ExperimentSpec) -> str:
    """The spec without the fields a population may vary: equal keys can train together."""
    raw = spec.model_dump(mode="json")
    for dotted in VARYING:
        *parents, leaf = dotted.split(".")
        node = raw
        for part in parents:
            node = node[part]
        node.pop(leaf)
    raw.pop("name")
    return json.dumps(raw, sort_keys=True)


def population_problems(specs: list[ExperimentSpec]) -> list[str]:
    """Why these specs cannot train as one population ([] when they can): what no parity test covers."""
    problems = []
    first = specs[0]
    if len({shared_settings(spec) for spec in specs}) > 1:
        problems.append(f"they differ in more than {', '.join(VARYING)}")
    if not kind_of(first.model).population:
        problems.append(f"model.kind {first.model.kind!r} trains alone")
    if first.model.dropout > 0:
        problems.append("model.dropout: dropout masks are drawn by each network alone")
    if first.train.on_divergence != "stop":
        problems.append("train.on_divergence: rollback retries an epoch out of lock-step")
    if first.train.max_steps is not None or first.train.accumulate > 1 or first.train.autocast != "off":
        problems.append("train.max_steps, train.accumulate and train.autocast train in the single loop")
    if first.train.l1 > 0 and L1_STYLES[first.train.l1_style].properties["population"] == "no":
        problems.append(f"train.l1_style: {first.train.l1_style!r} keeps each network's dead weights, "
                        "which no parity test covers in lock-step")
    return problems


def train_population(specs: list[ExperimentSpec], *, device: str | torch.device = "cpu",
                     workers: int | None = None, record_health: bool | None = None) -> list[Experiment]:
    """Train ``specs`` together; one trained :class:`Experiment` per spec, in order.

    Each returned experiment holds its trained model and a state as ``fit`` leaves it
    (history, best and kept epochs, stop reason, divergence), and ``health_record`` when
    health was recorded.

    Args:
        specs: the members; they may differ only in the ``VARYING`` fields.
        device: where to train (default cpu).
        workers: processes to use; None (default) decides from the work.
        record_health: keep each member's health record (default: when ``diagnose.health_every`` > 0).

    Raises:
        ValueError: when :func:`population_problems` finds a reason they cannot.
    """
    problems = population_problems(specs)
    if problems:
        raise ValueError("cannot train as one population: " + "; ".join(problems))
    device = torch.device(device)
    record = specs[0].diagnose.health_every > 0 if record_health is None else record_health
    bundles: dict[str, DataBundle] = {}  # members with one data section and seed share their data
    members = [Experiment.from_spec(spec, bundle=_shared_data(spec, bundles), device=device) for spec in specs]
    count = worker_count(members, device=device, requested=workers)
    jobs: list[list[int]] = []  # member indices trained together
    groups: dict[float, list[int]] = {}
    for index, spec in enumerate(specs):
        groups.setdefault(momentum_of(spec.train), []).append(index)
    for indices in groups.values():
        parts = min(count, len(indices))
        jobs += [indices[part::parts] for part in range(parts)]
    with torch_threads(population_threads(members)):  # forked workers use one thread each
        outcomes = run_forked([partial(_train_job, [members[i] for i in job], record) for job in jobs], workers=count)
    for job, outcome in zip(jobs, outcomes):
        for index, result in zip(job, outcome):
            _apply(members[index], result)
    return members


def worker_count(members: list[Experiment], *, device: torch.device, requested: int | None = None) -> int:
    """Processes to train a population with: one per CPU thread when the work is big enough.

    Args:
        members: the population.
        device: a GPU trains in one process.
        requested: a fixed count (None: decide from the work, see ``PARALLEL_MIN_FLOPS``).
    """
    if requested is not None:
        return max(1, requested)
    if device.type != "cpu":
        return 1
    spec = members[0].spec
    flops = 6 * members[0].n_parameters * members[0].bundle.n_train * spec.train.epochs * len(members)
    available = spec.train.threads or torch.get_num_threads()
    return min(available, len(members)) if flops >= PARALLEL_MIN_FLOPS else 1


def population_threads(members: list[Experiment]) -> int:
    """CPU threads for a population trained in one process: the stacked network's size decides,
    by its stacked size (``POPULATION_THREADS_FROM``); ``train.threads`` overrides."""
    parameters = len(members) * members[0].n_parameters
    chosen = torch.get_num_threads() if parameters >= POPULATION_THREADS_FROM else 1
    return members[0].spec.train.threads or chosen


def _shared_data(spec: ExperimentSpec, bundles: dict[str, DataBundle]) -> DataBundle:
    key = f"{spec.data.model_dump_json()}|{spec.seed}"
    if key not in bundles:
        bundles[key] = load_data(spec.data, seed=spec.seed)
    return bundles[key]


def _train_job(members: list[Experiment], record_health: bool) -> list[dict[str, Any]]:
    """Train one group; return what a worker process sends back (numbers and numpy arrays)."""
    outcomes = Lockstep(members, record_health=record_health).train()
    for member, outcome in zip(members, outcomes):
        outcome["weights"] = {name: value.detach().cpu().numpy() for name, value in member.model.state_dict().items()}
    return outcomes


def _apply(member: Experiment, result: dict[str, Any]) -> None:
    """Put a job's result into the parent's experiment (a no-op copy when the job ran here)."""
    state = member.state
    state.history, state.step = result["history"], result["step"]
    state.best_epoch, state.kept_epoch = result["best_epoch"], result["kept_epoch"]
    state.stop_reason, state.diverged = result["stop_reason"], result["diverged"]
    state.metrics = dict(state.history[-1]) if state.history else {}
    member.model.load_state_dict({name: torch.from_numpy(np.asarray(value))
                                  for name, value in result["weights"].items()})
    member.model.eval()
    member.health_record = result.get("health")
