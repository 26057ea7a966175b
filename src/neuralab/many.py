"""Train many specs at once: same-shape groups as one batched population, the rest one by one.

Example:
    >>> import neuralab
    >>> base = {"data": {"dataset": "xor", "n_samples": 100}, "model": {"hidden": [4]}, "train": {"epochs": 2}}
    >>> runs = neuralab.train_many([neuralab.load_spec(base, overrides={"train.learning_rate": lr})
    ...                             for lr in (0.01, 0.1)], out_dir=None)
    >>> [run.summary["epochs_run"] for run in runs]
    [2, 2]
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from neuralab.api import summarize, train
from neuralab.run import Run, write_run
from neuralab.spec import ExperimentSpec
from neuralab.training.evaluate import evaluate_split
from neuralab.training.population import (MemberResult, population_problems, population_threads, shared_settings,
                                          train_population)
from neuralab.training.setup import Setup, choose_device, target_scale

log = logging.getLogger(__name__)


def train_many(specs: Sequence[ExperimentSpec], out_dir: str | Path | None = None, *,
               batched: bool = True, workers: int | None = None) -> list[Run]:
    """Train every spec and return one Run per spec, in order.

    Specs that share everything but seed, learning rate, L2, momentum and dropout are
    trained together as one population (see :mod:`neuralab.training.population`); any
    spec that cannot join a population trains alone with :func:`neuralab.train`.

    Args:
        specs: the experiments.
        out_dir: parent folder of the run directories; None (default) writes nothing.
        batched: False trains every spec alone (for comparison).
        workers: processes a population is split across (one CPU thread each); None
            (default) uses every thread when the population's work is big enough to gain.
    """
    runs: list[Run | None] = [None] * len(specs)
    for indices in _groups(specs) if batched else [[i] for i in range(len(specs))]:
        group = [specs[i] for i in indices]
        if len(group) > 1 and not population_problems(group):
            for index, run in zip(indices, _train_group(group, workers=workers)):
                runs[index] = run
        else:
            for index, spec in zip(indices, group):
                runs[index] = train(spec, out_dir=None)
    for run in runs:
        if out_dir is not None:
            write_run(run, out_dir)
    return runs  # type: ignore[return-value]


def _groups(specs: Sequence[ExperimentSpec]) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for index, spec in enumerate(specs):
        groups.setdefault(shared_settings(spec), []).append(index)
    return list(groups.values())


def _train_group(specs: list[ExperimentSpec], *, workers: int | None) -> list[Run]:
    started = time.perf_counter()
    device = choose_device(specs[0].train.device)
    members = train_population(specs, device=device, workers=workers)
    threads = population_threads(members)
    seconds = (time.perf_counter() - started) / len(specs)
    return [_run_of(member, seconds=seconds, device=device, threads=threads) for member in members]


def _run_of(member: MemberResult, *, seconds: float, device: torch.device, threads: int) -> Run:
    setup = Setup(head=member.head, model=member.model, device=device, threads=threads,
                  target_scale=target_scale(member.bundle))
    bundle = member.bundle
    final = {split: evaluate_split(member.model, member.head,
                                   *setup.tensors(getattr(bundle, f"x_{split}"), getattr(bundle, f"y_{split}")),
                                   target_scale=setup.target_scale)
             for split in ("train", "dev", "test")}
    summary = summarize(member.spec, bundle, setup, final=final, history=member.history,
                        best_epoch=member.best_epoch, stop_reason=member.stop_reason, diverged=member.diverged,
                        seconds=seconds)
    summary["trained_in_population"] = True
    return Run(spec=member.spec, summary=summary, history=member.history, model=member.model.cpu(),
               head=member.head, preprocessor=bundle.preprocessor)
