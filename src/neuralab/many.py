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

from neuralab.api import train
from neuralab.runs.layout import run_of, write_run
from neuralab.runs.run import Run
from neuralab.spec import ExperimentSpec
from neuralab.training.hardware import choose_device
from neuralab.training.population import population_problems, shared_settings, train_population

log = logging.getLogger(__name__)


def train_many(specs: Sequence[ExperimentSpec], out_dir: str | Path | None = "runs", *,
               batched: bool = True, workers: int | None = None) -> list[Run]:
    """Train every spec and return one Run per spec, in order.

    Specs that share everything but seed, learning rate, L2 and momentum train together as
    one population (see :mod:`neuralab.training.population`), with the same numbers as
    alone; any spec that cannot join one trains alone with :func:`neuralab.train`, and the
    log says why.

    Args:
        specs: the experiments.
        out_dir: parent folder of the run directories (default ``runs``, as ``neuralab.train``);
            None writes nothing.
        batched: False trains every spec alone (for comparison).
        workers: processes a population is split across (one CPU thread each); None
            (default) uses every thread when the population's work is big enough to gain.
    """
    runs: list[Run | None] = [None] * len(specs)
    for indices in _groups(specs) if batched else [[i] for i in range(len(specs))]:
        group = [specs[i] for i in indices]
        problems = population_problems(group) if len(group) > 1 else []
        if len(group) > 1 and not problems:
            for index, run in zip(indices, _train_group(group, workers=workers)):
                runs[index] = run
            continue
        if problems:
            log.info("%d specs train one at a time: %s", len(group), "; ".join(problems))
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
    members = train_population(specs, device=choose_device(specs[0].train.device), workers=workers)
    seconds = (time.perf_counter() - started) / len(specs)
    runs = [run_of(member, seconds=seconds) for member in members]
    for run in runs:
        run.summary["trained_in_population"] = True
    return runs
