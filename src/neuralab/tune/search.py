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
import warnings
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuralab.errors import NeuralabError, RunError, SpecError
from neuralab.spec import ExperimentSpec, load_spec
from neuralab.training import Callback, TrainingState
from neuralab.training.rules import periods
from neuralab.tune.batched import batchable, grid_results, point_key, random_results
from neuralab.tune.budget import run_trials
from neuralab.tune.naming import choose_study
from neuralab.tune.samplers import choice_problems, make_pruner, make_sampler
from neuralab.tune.space import SearchSpace, check_space, grid_size, load_space, space_to_dict, suggest
from neuralab.tune.storage import (DEFAULT_HEARTBEAT_SECONDS, default_storage_url, hide_password, open_storage,
                                   study_names)
from neuralab.training.experiment import cached_data
from neuralab.tune.cross_validation import cross_validate
from neuralab.tune.small_data import small_dev_warnings
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
    study: str = ""  # the study's name


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
    warnings: list[str] = field(default_factory=list)  # e.g. a dev split too small to choose on


def tune_study(spec: ExperimentSpec | str | Path | Mapping[str, Any], space: SearchSpace | str | Path | Mapping, *,
               sampler: str = "tpe", trials: int | None = None, pruner: str = "hyperband",
               storage: str | None = None, study_name: str | None = None, resume: bool = False,
               out_dir: str | Path = "runs", default_name: str | None = None, folder_suffix: str = "-tune",
               overrides: Mapping[str, Any] | Sequence[str] | None = None, final: bool = True,
               heartbeat_seconds: int | None = DEFAULT_HEARTBEAT_SECONDS, workers: int = 1, worker: bool = False,
               cv: int | None = None, callbacks: Iterable[Callback] = (),
               on_trial: Callable[[TrialReport], None] | None = None) -> TuneResult | None:
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
        study_name: the study to start or, with ``resume``, to continue; default: a fresh name
            (the spec's name, then ``<name>-2``, ``<name>-3``… — see :mod:`neuralab.tune.naming`).
        resume: continue (or join) the study named ``study_name``, or the newest study of this
            spec; without it a named study that exists is an error, and no name means a new study.
        out_dir: parent of the output folder (default ``runs``).
        default_name: the name fresh studies are numbered from (default the spec's name).
        folder_suffix: the output folder is ``<study><folder_suffix>`` (default ``-tune``).
        overrides: dotted overrides applied to ``spec`` first, as for ``neuralab train``.
        final: train the best spec once more and score it on the test split (default True).
        heartbeat_seconds: heartbeat of running trials; a trial is failed after 2× (default 10).
        workers: worker processes to run the trials (default 1: this process); with more, the
            study is opened here, N ``neuralab tune … --worker`` processes share it
            (:mod:`neuralab.tune.workers`) and this process writes the outputs when they are done.
        worker: be one of those workers: join the existing study, run trials until it holds
            ``trials`` finished ones, write nothing and return None.
        cv: score each trial by ``cv``-fold cross-validation of the train + dev rows instead of
            the dev split (small data; trials are not pruned then). None (default): the dev split,
            with a warning in ``TuneResult.warnings`` when it is too small to choose on.
        callbacks: extra training callbacks for every trial.
        on_trial: called with a :class:`TrialReport` after each trial this worker runs (with
            ``workers`` > 1: about every second, with the study's latest trial).

    Raises:
        SpecError: a bad spec, space, sampler or pruner — before any trial runs.
        RunError: the storage cannot be opened, a named study exists without ``resume``, or no
            trial completed.
    """
    spec = load_spec(spec, overrides=overrides) if overrides or not isinstance(spec, ExperimentSpec) else spec
    space = load_space(space)
    problems = choice_problems(sampler=sampler, pruner=pruner) + dev_split_problems(spec)
    if trials is not None and trials < 1:
        problems.append(f"--trials: {trials} — must be at least 1")
    if workers < 1 or (workers > 1 and (worker or callbacks)):
        problems.append(f"--workers: {workers} — must be at least 1, and a worker (or a search with callbacks) "
                        "runs its trials itself")
    if cv is not None and cv < 2:
        problems.append(f"--cv: {cv} — k-fold cross-validation needs at least 2 folds")
    if problems:
        raise SpecError(problems)
    check_space(space, spec)
    total = trials or (grid_size(space) if sampler == "grid" else 20)
    _quiet_optuna()
    rdb = open_storage(storage, heartbeat_seconds=heartbeat_seconds) if storage else None
    where = hide_password(storage) if storage else str(Path(out_dir) / f"{study_name}{folder_suffix}")
    target = choose_study(out_dir, base=default_name or spec.name, suffix=folder_suffix,
                          existing=study_names(rdb) if rdb is not None else [], study_name=study_name,
                          resume=resume or worker, shared_storage=rdb is not None, where=where)
    folder, url = target.folder, storage or default_storage_url(target.folder)
    rdb = rdb or open_storage(url, heartbeat_seconds=heartbeat_seconds)
    study = _open_study(rdb, target.name, spec=spec, space=space, sampler=sampler, pruner=pruner,
                        resume=resume or worker, shared=storage is not None or worker)
    if workers > 1:
        from neuralab.tune.workers import run_workers

        run_workers(study, count=workers, folder=folder, spec=spec, space=space, url=url, sampler=sampler,
                    pruner=pruner, total=total, heartbeat_seconds=heartbeat_seconds, cv=cv,
                    watch=(lambda watched: on_trial(_latest(watched, total))) if on_trial else None)
        return _finish(study, spec, folder=folder, url=url, final=final)
    objective = Objective(spec, space, uniform_width=sampler == "grid", callbacks=callbacks, cv=cv)
    if batchable(sampler=sampler, shared_storage=storage is not None) and not objective.callbacks and cv is None \
            and not worker:
        if on_trial:  # the display starts before the points trained up front, not after
            on_trial(_started(study, total))
        objective.ready = _points_up_front(study, spec, space, sampler=sampler, total=total)
    _optimize(study, objective, total=total, on_trial=on_trial,
              grace_seconds=rdb.grace_period if rdb.heartbeat_interval else None)
    if worker:
        return None
    result = _finish(study, spec, folder=folder, url=url, final=final)
    result.warnings = small_dev_warnings(cached_data(spec, objective.cache), trials=len(study.trials), cv=cv)
    for line in result.warnings:
        log.warning("%s", line)
    return result


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
    if exists and not resume:  # another process took the name since it was chosen
        raise RunError(f"study {name!r} already exists in {hide_password(storage.url)}: to continue it pass "
                       "resume=True (--resume), or give a new study_name (--study NEW_NAME)")
    settings = {"spec": spec.model_dump(mode="json"), "space": space_to_dict(space)}
    if exists:
        _check_same_study(optuna.load_study(study_name=name, storage=storage), settings)
    n_before = len(storage.get_all_trials(storage.get_study_id_from_name(name))) if exists else 0
    study = optuna.create_study(
        storage=storage, study_name=name, direction="minimize", load_if_exists=True,
        sampler=make_sampler(sampler, space, seed=_sampler_seed(spec.seed, n_before, shared=shared)),
        pruner=make_pruner(pruner, epochs=periods(spec.train)))
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
        raise SpecError([f"resume: study {study.study_name!r} was started with another {key}; the {key} must "
                         f"stay the same to continue it (leave resume / --resume off for a new study)"
                         for key in differs])


def _optimize(study: Any, objective: "Objective", *, total: int, on_trial: Callable | None,
              grace_seconds: float | None) -> None:
    from optuna.trial import TrialState

    finished = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
    if finished >= total:
        return
    if on_trial:  # the study is open and valid: a display may start
        on_trial(_started(study, total))
    run_trials(study, objective, total=total, grace_seconds=grace_seconds,
               callbacks=[_reporter(on_trial, total)] if on_trial else [])


def _started(study: Any, total: int) -> TrialReport:
    """The report a display gets before this worker's first trial."""
    from optuna.trial import TrialState

    finished = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
    return TrialReport(number=-1, state="STARTED", value=None, best_value=_best_value(study),
                       finished=min(finished, total), total=total, study=study.study_name)


def _latest(study: Any, total: int) -> TrialReport:
    """A report of the study's latest finished trial, whichever worker ran it."""
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL))
    last = max(done, key=lambda trial: trial.datetime_complete) if done else None
    finished = sum(trial.state != TrialState.FAIL for trial in done)
    return TrialReport(number=last.number if last else -1, state=last.state.name if last else "STARTED",
                       value=last.value if last else None, best_value=_best_value(study),
                       finished=min(finished, total), total=total)


def _reporter(on_trial: Callable[[TrialReport], None], total: int) -> Callable:
    from optuna.trial import TrialState

    def report(study: Any, trial: Any) -> None:
        finished = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
        on_trial(TrialReport(number=trial.number, state=trial.state.name, value=trial.value,
                             best_value=_best_value(study), finished=finished, total=total, study=study.study_name))

    return report


def _best_value(study: Any) -> float | None:
    try:
        return study.best_value
    except ValueError:  # no complete trial yet
        return None


class Objective:
    """The function Optuna minimises: dev error of the base spec with one trial's overrides."""

    def __init__(self, spec: ExperimentSpec, space: SearchSpace, *, uniform_width: bool = False,
                 callbacks: Iterable[Callback] = (), cv: int | None = None):
        self.spec, self.space, self.uniform_width, self.cv = spec, space, uniform_width, cv
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
            elif self.cv:
                scores = cross_validate(spec, folds=self.cv, callbacks=[*([board] if board else []), *self.callbacks],
                                        cache=self.cache)
                trial.set_user_attr("fold_dev_errors", scores["fold_dev_errors"])
            else:
                scores = train_on_dev(spec, callbacks=[*([board] if board else []), PruningReporter(trial),
                                                       *self.callbacks], cache=self.cache)
            for key in ("train_error", "dev_error", "diverged", "epochs_run", "stop_reason"):
                trial.set_user_attr(key, scores[key])
            for key in ("train_loss", "dev_loss", "n_parameters"):  # the scaling experiment's axes
                trial.set_user_attr(key, scores.get(key))
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
