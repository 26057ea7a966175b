"""Workers run a study's trials until it holds ``--trials`` finished ones — never more.

Optuna stops a worker after the trial that reached the total, so N workers starting their
last trials together end N − 1 trials over it. Here a worker starts a trial only while the
study's finished and running trials are fewer than the total; when the others are running
the last ones it waits, failing any whose worker died (its heartbeat went silent) so that
the retry Optuna queues runs here. Two workers asking at the same instant can still both
pass that check: the trial whose number comes after the budget's last place is then not
run — it ends FAIL with the reason in its ``error`` attribute, so every trial is accounted for.

Example:
    >>> import optuna
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study()
    >>> run_trials(study, lambda trial: trial.suggest_float("x", 0, 1), total=3, grace_seconds=None)
    >>> len(study.trials)
    3
"""
from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from typing import Any

from neuralab.errors import NeuralabError

log = logging.getLogger(__name__)


class NotRun(NeuralabError):
    """A trial that started after the study's budget was taken by other workers' trials."""


def run_trials(study: Any, objective: Callable[[Any], float], *, total: int, grace_seconds: float | None,
               callbacks: list[Callable] = ()) -> None:
    """Run trials of ``objective`` until ``study`` holds ``total`` finished (complete or pruned) trials.

    Args:
        study: the Optuna study (its storage may be shared with other workers).
        objective: what a trial computes.
        total: finished trials the study should hold.
        grace_seconds: heartbeat grace period of the storage; None (no heartbeats): a worker
            does not wait for the others' last trials, since a dead one's would never end.
        callbacks: Optuna callbacks called after each trial of this worker.
    """
    import optuna

    poll = max(0.2, min(2.0, (grace_seconds or 1) / 8))
    while True:
        with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna; neuralab relies on them knowingly
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)  # a dead worker's trial: FAIL, and its retry is queued
        finished, running = _counts(study)
        if finished >= total or _grid_exhausted(study):
            return
        if finished + running >= total:  # the others are running the last trials
            if grace_seconds is None:
                return
            time.sleep(poll)
            continue
        study.optimize(_Admitted(objective, total), n_trials=1, callbacks=list(callbacks), catch=(NeuralabError,))


def _counts(study: Any) -> tuple[int, int]:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING))
    running = sum(trial.state == TrialState.RUNNING for trial in trials)
    return len(trials) - running, running


def _grid_exhausted(study: Any) -> bool:
    from optuna.samplers import GridSampler

    return isinstance(study.sampler, GridSampler) and study.sampler.is_exhausted(study)


class _Admitted:
    """The objective, run only when the trial holds one of the study's first ``total`` places."""

    def __init__(self, objective: Callable[[Any], float], total: int):
        self.objective, self.total = objective, total

    def __call__(self, trial: Any) -> float:
        from optuna.trial import TrialState

        taken = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
        ahead = sum(other.number < trial.number for other in trial.study.get_trials(deepcopy=False, states=taken))
        if ahead >= self.total:
            message = (f"not run: the study's {self.total} trials were taken by other workers when this one started")
            trial.set_user_attr("error", message)
            raise NotRun(message)
        return self.objective(trial)
