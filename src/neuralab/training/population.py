"""Many networks of one shape trained together: sweeps and searches at a fraction of the cost.

Sweeps and searches train networks that differ only in learning rate, L2, momentum,
dropout rate or seed. This module decides which specs can share one computation
(:func:`population_problems`), groups them by momentum, splits a big population across
worker processes, one per CPU thread (:func:`worker_count`, :mod:`neuralab.training.forked`),
and trains each part as one stacked computation (:mod:`neuralab.training.stacked`). Each
model keeps its own hyperparameters, batches, metrics, early stopping and divergence
guard, so its numbers match training it alone within float rounding.

Example:
    >>> import neuralab
    >>> from neuralab.training.population import train_population
    >>> base = {"data": {"dataset": "xor", "n_samples": 100}, "model": {"hidden": [4]}, "train": {"epochs": 2}}
    >>> specs = [neuralab.load_spec(base, overrides={"train.learning_rate": lr}) for lr in (0.01, 0.1)]
    >>> [len(result.history) for result in train_population(specs)]
    [2, 2]
"""
from __future__ import annotations

import json
from functools import partial
from typing import Any

import torch

from neuralab.data import DataBundle, load_data
from neuralab.spec import ExperimentSpec
from neuralab.training.forked import run_forked
from neuralab.training.setup import MULTITHREAD_MIN_PARAMETERS, prepare, torch_threads
from neuralab.training.stacked import MemberResult, StackedGroup

__all__ = ["MemberResult", "VARYING", "population_problems", "population_threads", "shared_settings",
           "train_population", "worker_count"]

# Below this many training FLOPs a population trains in one process: forking a worker
# costs tens of milliseconds (measured with benchmarks/population.py).
PARALLEL_MIN_FLOPS = 2e9
# Fields that may differ between the members of one population.
VARYING = ("seed", "train.learning_rate", "train.l2", "train.momentum", "model.dropout")
_MOMENTUM_OPTIMIZERS = {"momentum", "nesterov", "adam", "adamw", "nadam"}


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
    """Why these specs cannot train as one population ([] when they can)."""
    problems = []
    if len({shared_settings(spec) for spec in specs}) > 1:
        problems.append(f"they differ in more than {', '.join(VARYING)}")
    first = specs[0]
    if getattr(first.train, "on_divergence", "stop") != "stop":
        problems.append("train.on_divergence other than 'stop'")
    return problems


def train_population(specs: list[ExperimentSpec], *, device: str | torch.device = "cpu",
                     workers: int | None = None) -> list[MemberResult]:
    """Train ``specs`` together; one :class:`MemberResult` per spec, in order.

    Models whose optimiser uses momentum are grouped by momentum value; each group is
    one batched computation. On the CPU a big enough population is split across worker
    processes, one per thread (see :func:`worker_count`); each model's numbers are the
    same whichever way it is split.

    Args:
        specs: the members; they may differ only in the ``VARYING`` fields.
        device: where to train (default cpu).
        workers: processes to use; None (default) decides from the work.

    Raises:
        ValueError: when :func:`population_problems` finds a reason they cannot.
    """
    problems = population_problems(specs)
    if problems:
        raise ValueError("cannot train as one population: " + "; ".join(problems))
    device = torch.device(device)
    bundles: dict[tuple[str, int], DataBundle] = {}  # members with one data section and seed share their data
    members = [_member(spec, bundles) for spec in specs]
    count = worker_count(members, device=device, requested=workers)
    jobs: list[list[int]] = []  # member indices trained together
    groups: dict[float, list[int]] = {}
    for index, spec in enumerate(specs):
        key = spec.train.momentum if spec.train.optimizer in _MOMENTUM_OPTIMIZERS else 0.0
        groups.setdefault(key, []).append(index)
    for indices in groups.values():
        parts = min(count, len(indices))
        jobs += [indices[part::parts] for part in range(parts)]
    with torch_threads(population_threads(members)):  # forked workers use one thread each
        outcomes = run_forked([partial(_train_job, [members[i] for i in job], device) for job in jobs], workers=count)
    for job, outcome in zip(jobs, outcomes):
        for index, result in zip(job, outcome):
            _apply(members[index], result)
    return members


def worker_count(members: list[MemberResult], *, device: torch.device, requested: int | None = None) -> int:
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
    parameters = sum(p.numel() for p in members[0].model.parameters())
    flops = 6 * parameters * len(members[0].bundle.y_train) * spec.train.epochs * len(members)
    available = spec.train.threads or torch.get_num_threads()
    return min(available, len(members)) if flops >= PARALLEL_MIN_FLOPS else 1


def population_threads(members: list[MemberResult]) -> int:
    """CPU threads for a population trained in one process: the stacked network's size decides,
    as a single network's does (``MULTITHREAD_MIN_PARAMETERS``); ``train.threads`` overrides."""
    parameters = len(members) * sum(p.numel() for p in members[0].model.parameters())
    chosen = torch.get_num_threads() if parameters >= MULTITHREAD_MIN_PARAMETERS else 1
    return members[0].spec.train.threads or chosen


def _member(spec: ExperimentSpec, bundles: dict) -> MemberResult:
    key = (spec.data.model_dump_json(), spec.seed)
    bundle = bundles[key] = bundles.get(key) or load_data(spec.data, seed=spec.seed)
    setup = prepare(spec, bundle, device="cpu")  # the same initial weights as training alone
    return MemberResult(spec=spec, model=setup.model, head=setup.head, bundle=bundle)


def _train_job(members: list[MemberResult], device: torch.device) -> list[dict[str, Any]]:
    """Train one group; return what a worker process sends back (numbers and numpy arrays)."""
    StackedGroup(members, device).train()
    return [{"history": m.history, "best_epoch": m.best_epoch, "stop_reason": m.stop_reason, "diverged": m.diverged,
             "weights": {name: value.detach().cpu().numpy() for name, value in m.model.state_dict().items()}}
            for m in members]


def _apply(member: MemberResult, result: dict[str, Any]) -> None:
    """Put a job's result into the parent's member (a no-op copy when the job ran here)."""
    member.history, member.best_epoch = result["history"], result["best_epoch"]
    member.stop_reason, member.diverged = result["stop_reason"], result["diverged"]
    member.model.load_state_dict({name: torch.from_numpy(value) for name, value in result["weights"].items()})
    member.model.eval()
