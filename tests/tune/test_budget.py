"""A worker never runs a trial past the study's budget; it waits for the others' last trials."""
from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from neuralab.tune import budget
from neuralab.tune.budget import run_trials

real_counts = budget._counts


@pytest.fixture
def study():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study()


def test_a_study_with_its_last_trials_running_elsewhere_gets_no_more(study):
    for _ in range(3):
        study.ask()  # other workers' running trials take the three places
    ran = []
    run_trials(study, lambda trial: ran.append(trial.number) or 0.0, total=3, grace_seconds=None)
    assert ran == [] and len(study.trials) == 3


def test_a_trial_asked_in_the_same_instant_as_the_last_one_is_not_run(study, monkeypatch):
    for _ in range(3):
        study.ask()  # taken by others between this worker's look at the study and its own ask
    looks = iter([(0, 0)])  # the look that missed them; afterwards the real counts
    monkeypatch.setattr(budget, "_counts", lambda s: next(looks, None) or real_counts(s))
    ran = []
    run_trials(study, lambda trial: ran.append(trial.number) or 0.0, total=3, grace_seconds=None)
    assert ran == []
    surplus = study.trials[3]
    assert surplus.state == TrialState.FAIL and surplus.user_attrs["error"].startswith("not run")


def test_a_worker_finishes_the_rest_then_stops(study):
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    run_trials(study, lambda trial: trial.suggest_float("x", 0, 1), total=5, grace_seconds=None)
    assert [trial.state for trial in study.trials] == [TrialState.COMPLETE] * 5

