"""The journal storage's heartbeats: a silent running trial is failed and its parameters queued again."""
from __future__ import annotations

import time

import optuna
import pytest
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from neuralab.tune.journal import HEARTBEAT_KEY
from neuralab.tune.storage import open_storage


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_a_silent_trial_is_failed_and_retried_a_beating_one_is_left_alone(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(f"journal://{tmp_path}/study.journal", heartbeat_seconds=1)
    study = optuna.create_study(storage=storage, study_name="beats")
    silent, beating = study.ask(), study.ask()
    silent.suggest_float("x", 0, 1)
    storage.record_heartbeat(silent._trial_id)
    storage.set_trial_system_attr(silent._trial_id, HEARTBEAT_KEY, time.time() - 10)  # its worker died 10 s ago
    storage.record_heartbeat(beating._trial_id)
    optuna.storages.fail_stale_trials(study)

    trials = study.get_trials()
    assert [trial.state for trial in trials[:2]] == [TrialState.FAIL, TrialState.RUNNING]
    [retry] = [trial for trial in trials if trial.state == TrialState.WAITING]
    assert RetryHeartbeatStaleTrialCallback.retried_trial_number(retry) == silent.number
    assert retry.params == {"x": trials[0].params["x"]}
    storage.record_heartbeat(silent._trial_id)  # the dead worker's beat thread, late: ignored, no error


def test_every_worker_reads_the_same_file(tmp_path):
    url = f"journal://{tmp_path}/study.journal"
    first = optuna.create_study(storage=open_storage(url, heartbeat_seconds=None), study_name="shared")
    first.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    second = optuna.load_study(study_name="shared", storage=open_storage(url, heartbeat_seconds=None))
    assert [trial.params for trial in second.trials] == [trial.params for trial in first.trials]
