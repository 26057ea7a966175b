"""Hyperparameter search on Optuna: a study over a search space, its best spec, its outputs.

Each trial trains the base spec with the sampled overrides and scores it on the dev split,
reporting the dev error after every epoch so a pruner can stop a hopeless trial early.
The test split is scored once, for the best spec, at the end. ``trials`` is the number of
finished (complete or pruned) trials the *study* should hold: a resumed study or a second
worker on the same storage carries on until the study as a whole has that many.

Example:
    >>> import neuralab, tempfile
    >>> spec = neuralab.load_spec({"name": "demo", "data": {"dataset": "xor", "n_samples": 100},
    ...                            "model": {"hidden": [4]}, "train": {"epochs": 2}})
    >>> space = {"params": {"train.learning_rate": {"low": 1e-3, "high": 1e-1, "log": True}}}
    >>> result = neuralab.tune_study(spec, space, sampler="random", trials=3, out_dir=tempfile.mkdtemp(),
    ...                              final=False)
    >>> result.counts["COMPLETE"] + result.counts["PRUNED"], (result.dir / "best.yaml").is_file()
    (3, True)
"""
from __future__ import annotations

import json
import logging
import os
import socket
import time
import warnings
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuralab.errors import NeuralabError, RunError, SpecError
from neuralab.spec import ExperimentSpec, load_spec
from neuralab.training import Callback, TrainingState
from neuralab.tune.batched import batchable, grid_results, point_key, random_results
from neuralab.tune.samplers import choice_problems, make_pruner, make_sampler
from neuralab.tune.space import SearchSpace, check_space, grid_size, load_space, space_to_dict, suggest
from neuralab.tune.storage import (DEFAULT_HEARTBEAT_SECONDS, default_storage_url, hide_password, open_storage,
                                   study_names)
from neuralab.tune.trial import dev_split_problems, train_on_dev, trial_board

log = logging.getLogger(__name__)
FINISHED = ("COMPLETE", "PRUNED")


@dataclass
class TrialReport:
    """What a progress display needs after each trial of this worker."""

    number: int
    state: str  # COMPLETE, PRUNED or FAIL (STARTED, number -1: before the first trial)
    value: float | None  # the trial's dev error (None when it failed)
    best_value: float | None  # best dev error of the study so far
    finished: int  # finished trials in the study
    total: int  # finished trials the study should reach


@dataclass
class TuneResult:
    """A finished search: the study, its best spec, where the outputs are, and the final run."""

    study: Any  # optuna.Study
    best_spec: ExperimentSpec
    best_value: float
    dir: Path
    counts: dict[str, int]
    storage_url: str
    final_run: Any = None  # neuralab.Run of the best spec (test split scored), or None
    files: dict[str, Path] = field(default_factory=dict)


def tune_study(spec: ExperimentSpec | str | Path | Mapping[str, Any], space: SearchSpace | str | Path | Mapping, *,
               sampler: str = "tpe", trials: int | None = None, pruner: str = "hyperband",
               storage: str | None = None, study_name: str | None = None, resume: bool = False,
               out_dir: str | Path = "runs", folder_name: str | None = None,
               overrides: Mapping[str, Any] | Sequence[str] | None = None, final: bool = True,
               heartbeat_seconds: int | None = DEFAULT_HEARTBEAT_SECONDS,
               callbacks: Iterable[Callback] = (), on_trial: Callable[[TrialReport], None] | None = None) -> TuneResult:
    """Search ``space`` around ``spec`` with an Optuna study; write best.yaml, trials.csv and plots.

    Args:
        spec: the base spec (fields not in the space stay as they are).
        space: a :class:`SearchSpace`, a space file or a mapping.
        sampler: grid, random, tpe (default) or cmaes (see ``SAMPLERS``).
        trials: finished trials the study should hold (default: the grid's size, else 20).
        pruner: hyperband (default), median or none (see ``PRUNERS``).
        storage: an SQLAlchemy URL shared by workers; default ``<out_dir>/<folder>/study.db``.
            With a storage given, each worker seeds its sampler with its own id as well, so
            that workers starting together do not propose the same points.
        study_name: default the spec's name.
        resume: continue (or join) an existing study; without it an existing study is an error.
        out_dir: parent of the output folder (default ``runs``).
        folder_name: the output folder (default ``<study>-tune``).
        overrides: dotted overrides applied to ``spec`` first, as for ``neuralab train``.
        final: train the best spec once more and score it on the test split (default True).
        heartbeat_seconds: heartbeat of running trials; a trial is failed after 2× (default 10).
        callbacks: extra training callbacks for every trial.
        on_trial: called with a :class:`TrialReport` after each trial this worker runs.

    Raises:
        SpecError: a bad spec, space, sampler or pruner — before any trial runs.
        RunError: the storage cannot be opened, the study exists without ``resume``, or no
            trial completed.
    """
    spec = load_spec(spec, overrides=overrides) if overrides or not isinstance(spec, ExperimentSpec) else spec
    space = load_space(space)
    problems = choice_problems(sampler=sampler, pruner=pruner) + dev_split_problems(spec)
    if trials is not None and trials < 1:
        problems.append(f"--trials: {trials} — must be at least 1")
    if problems:
        raise SpecError(problems)
    check_space(space, spec)
    study_name = study_name or spec.name
    folder = Path(out_dir) / (folder_name or f"{study_name}-tune")
    total = trials or (grid_size(space) if sampler == "grid" else 20)
    _quiet_optuna()
    url = storage or default_storage_url(folder)
    rdb = open_storage(url, heartbeat_seconds=heartbeat_seconds)
    study = _open_study(rdb, study_name, spec=spec, space=space, sampler=sampler, pruner=pruner, resume=resume,
                        shared=storage is not None)
    objective = Objective(spec, space, uniform_width=sampler == "grid", callbacks=callbacks)
    if batchable(sampler=sampler, shared_storage=storage is not None) and not objective.callbacks:
        if on_trial:  # the display starts before the points trained up front, not after
            on_trial(_started(study, total))
        objective.ready = _points_up_front(study, spec, space, sampler=sampler, total=total)
    _optimize(study, objective, total=total, on_trial=on_trial)
    _settle_dead_workers(study, grace_seconds=rdb.grace_period if rdb.heartbeat_interval else None)
    return _finish(study, spec, folder=folder, url=url, final=final)


def _points_up_front(study: Any, spec: ExperimentSpec, space: SearchSpace, *, sampler: str,
                     total: int) -> dict[str, dict[str, Any]]:
    """Train the points this worker will need that can share populations (see ``neuralab.tune.batched``)."""
    from optuna.trial import TrialState

    if sampler == "grid":
        return grid_results(spec, space)
    trials = study.get_trials(deepcopy=False)
    finished = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    queued = sum(t.state == TrialState.WAITING for t in trials)  # points a stopped worker queued already
    count = total - finished - queued
    if count <= 0:
        return {}
    return random_results(study, spec, space, count=count, seed=_sampler_seed(spec.seed, len(trials), shared=False))


def _quiet_optuna() -> None:
    """Optuna logs through Python logging (library code never prints) and stays quiet below warnings."""
    import optuna

    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def _open_study(storage: Any, name: str, *, spec: ExperimentSpec, space: SearchSpace, sampler: str, pruner: str,
                resume: bool, shared: bool) -> Any:
    import optuna

    exists = name in study_names(storage)
    if exists and not resume:
        raise RunError(f"--study: {name!r} already exists in {hide_password(storage.url)}; pass --resume to continue it "
                       "(or to join it from another worker), or --study NEW_NAME to start another")
    settings = {"spec": spec.model_dump(mode="json"), "space": space_to_dict(space)}
    if exists:
        _check_same_study(optuna.load_study(study_name=name, storage=storage), settings)
    n_before = len(storage.get_all_trials(storage.get_study_id_from_name(name))) if exists else 0
    study = optuna.create_study(
        storage=storage, study_name=name, direction="minimize", load_if_exists=True,
        sampler=make_sampler(sampler, space, seed=_sampler_seed(spec.seed, n_before, shared=shared)),
        pruner=make_pruner(pruner, epochs=spec.train.epochs))
    if not exists:
        for key, value in {**settings, "sampler": sampler, "pruner": pruner}.items():
            study.set_user_attr(key, value)
    return study


def _sampler_seed(seed: int, n_before: int, *, shared: bool) -> int:
    """The sampler's seed: the spec's seed, moved on past a resumed study's trials (re-seeding as
    at the start would propose its first points again) and, on a shared storage, by worker, so
    that workers starting together do not propose the same points."""
    if not shared:
        return (seed + n_before) % 2**32
    worker = zlib.crc32(f"{socket.gethostname()}:{os.getpid()}".encode())
    return (seed + n_before + worker) % 2**32


def _check_same_study(study: Any, settings: dict[str, Any]) -> None:
    stored = study.user_attrs
    differs = [key for key, value in settings.items() if key in stored and stored[key] != value]
    if differs:
        raise SpecError([f"--resume: study {study.study_name!r} was started with another {key} "
                         f"(the {key} must stay the same; use --study NEW_NAME for a new search)" for key in differs])


def _optimize(study: Any, objective: "Objective", *, total: int, on_trial: Callable | None) -> None:
    import optuna
    from optuna.trial import TrialState

    finished_states = (TrialState.COMPLETE, TrialState.PRUNED)
    remaining = total - len(study.get_trials(deepcopy=False, states=finished_states))
    if remaining <= 0:
        return
    if on_trial:  # the study is open and valid: a display may start
        on_trial(_started(study, total))
    stop_at_total = optuna.study.MaxTrialsCallback(total, states=finished_states)
    callbacks = [stop_at_total] + ([_reporter(on_trial, total)] if on_trial else [])
    study.optimize(objective, n_trials=remaining, callbacks=callbacks, catch=(NeuralabError,))


def _started(study: Any, total: int) -> TrialReport:
    """The report a display gets before this worker's first trial."""
    from optuna.trial import TrialState

    finished = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
    return TrialReport(number=-1, state="STARTED", value=None, best_value=_best_value(study),
                       finished=min(finished, total), total=total)


def _settle_dead_workers(study: Any, *, grace_seconds: int | None) -> None:
    """Before leaving, wait (at most 1.5 grace periods) for a dead worker's trial to be failed.

    A trial whose worker was killed stays RUNNING until some worker notices its heartbeat
    stopped; the last worker alive would otherwise leave it so. A live worker's trial keeps
    beating and is left alone once the wait is over.
    """
    import optuna
    from optuna.trial import TrialState

    if not grace_seconds:
        return
    deadline = time.monotonic() + grace_seconds * 1.5
    while True:
        optuna.storages.fail_stale_trials(study)  # fails trials silent for a grace period, queues a retry
        if not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)) or time.monotonic() > deadline:
            return
        time.sleep(grace_seconds / 4)


def _reporter(on_trial: Callable[[TrialReport], None], total: int) -> Callable:
    from optuna.trial import TrialState

    def report(study: Any, trial: Any) -> None:
        finished = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
        on_trial(TrialReport(number=trial.number, state=trial.state.name, value=trial.value,
                             best_value=_best_value(study), finished=finished, total=total))

    return report


def _best_value(study: Any) -> float | None:
    try:
        return study.best_value
    except ValueError:  # no complete trial yet
        return None


class Objective:
    """The function Optuna minimises: dev error of the base spec with one trial's overrides."""

    def __init__(self, spec: ExperimentSpec, space: SearchSpace, *, uniform_width: bool = False,
                 callbacks: Iterable[Callback] = ()):
        self.spec, self.space, self.uniform_width = spec, space, uniform_width
        self.callbacks = list(callbacks)
        self.cache: dict = {}  # the data of the last trial, reused while the data section stays the same
        self.ready: dict[str, dict[str, Any]] = {}  # results trained ahead (grid points in populations)
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def __call__(self, trial: Any) -> float:
        trial.set_user_attr("worker", self.worker)
        overrides = suggest(self.space, trial, uniform_width=self.uniform_width)
        trial.set_user_attr("overrides", json.dumps(overrides))
        board = None
        try:  # a combination the spec or the data refuse (the space's bounds were each fine): this trial fails
            spec = load_spec(self.spec, overrides=overrides)
            board = trial_board(spec, trial, overrides)  # each trial a TensorBoard run, when train.tensorboard is set
            scores = self.ready.get(point_key(overrides))
            if scores is not None:
                trial.set_user_attr("trained_in_population", True)
                replay(trial, scores["history"], board=board)
            else:
                scores = train_on_dev(spec, callbacks=[*([board] if board else []), PruningReporter(trial),
                                                       *self.callbacks], cache=self.cache)
            for key in ("train_error", "dev_error", "diverged", "epochs_run", "stop_reason"):
                trial.set_user_attr(key, scores[key])
        except NeuralabError as error:
            trial.set_user_attr("error", "; ".join(error.problems))
            raise
        finally:
            if board is not None:  # complete or pruned: the errors it reached are in its user attributes
                board.finish(trial.user_attrs)
        return scores["dev_error"]


def replay(trial: Any, history: list[dict[str, float]], *, board: Any = None) -> None:
    """Report a point trained ahead epoch by epoch, as training alone would; prune when told to.

    Args:
        board: the trial's TensorBoard logger, which gets each epoch's metrics (or None).

    Raises:
        optuna.TrialPruned: the pruner stopped the trial after one of the epochs.
    """
    for row in history:
        if board is not None:
            board.add_epoch(row)
        trial.report(row["dev_error"], step=int(row["epoch"]))
        if trial.should_prune():
            _pruned(trial, row, epochs_run=int(row["epoch"]))


def _pruned(trial: Any, metrics: dict[str, float], *, epochs_run: int) -> None:
    import optuna

    for key in ("train_error", "dev_error"):
        trial.set_user_attr(key, metrics[key])
    trial.set_user_attr("epochs_run", epochs_run)
    trial.set_user_attr("diverged", False)
    raise optuna.TrialPruned(f"pruned after epoch {int(metrics['epoch'])}")


class PruningReporter(Callback):
    """Reports the dev error after each epoch; stops the trial when the pruner says so."""

    def __init__(self, trial: Any):
        self.trial = trial

    def on_epoch_end(self, state: TrainingState) -> None:
        metrics = state.metrics
        self.trial.report(metrics["dev_error"], step=int(metrics["epoch"]))
        if self.trial.should_prune():
            _pruned(self.trial, metrics, epochs_run=len(state.history))


def best_spec_of(study: Any, base: ExperimentSpec) -> ExperimentSpec:
    """The base spec with the overrides of the study's best complete trial."""
    overrides = json.loads(study.best_trial.user_attrs["overrides"])
    return load_spec(base, overrides=overrides)


def _finish(study: Any, spec: ExperimentSpec, *, folder: Path, url: str, final: bool) -> TuneResult:
    from neuralab.tune.study_files import count_states, write_outputs

    counts = count_states(study)
    if _best_value(study) is None:
        failures = [t.user_attrs.get("error") for t in study.get_trials(deepcopy=False) if t.user_attrs.get("error")]
        raise RunError(f"tune: no trial of study {study.study_name!r} completed ({counts})"
                       + (f"; first failure: {failures[0]}" if failures else ""))
    best = best_spec_of(study, spec)
    result = TuneResult(study=study, best_spec=best, best_value=study.best_value, dir=folder, counts=counts,
                        storage_url=url)
    if final:
        from neuralab.runs.trainer import train_run

        result.final_run = train_run(best, out_dir=folder)
    result.files = write_outputs(result)
    return result
