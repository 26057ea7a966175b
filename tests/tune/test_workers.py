"""Several `neuralab tune` workers on one study: a journal file and a real PostgreSQL server.

Two workers share a study and one is killed mid-trial: its trial is failed by heartbeat,
retried by the survivor, and the study ends with exactly its trials. Three workers started
by `--workers 3` never run more trials than the budget. (The PostgreSQL server comes from
tests/tune/conftest.py.)
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from neuralab.cli import main
from neuralab.tune.storage import open_storage

N_TRIALS = 6
SPEC = """name: shared
seed: 0
data: {dataset: circle, n_samples: 200}
model: {hidden: [8]}
train: {epochs: 20, batch_size: 4, learning_rate: 0.01}
"""
SPACE = """params:
  train.learning_rate: {low: 1.0e-3, high: 1.0e-1, log: true}
  train.optimizer: [sgd, adam]
"""
WAIT_SECONDS = 180  # a guard against a hang, not a timing assertion


@pytest.fixture
def files(tmp_path) -> Path:
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "space.yaml").write_text(SPACE)
    return tmp_path


@pytest.fixture(params=["journal", "postgresql"])
def storage_url(request, tmp_path) -> str:
    if request.param == "journal":
        return f"journal://{tmp_path}/shared/study.journal"
    return request.getfixturevalue("postgres_url")


def _worker(folder: Path, url: str, label: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "neuralab", "tune", str(folder / "spec.yaml"),
               "--space", str(folder / "space.yaml"), "--sampler", "random", "--pruner", "none",
               "--trials", str(N_TRIALS), "--storage", url, "--study", "shared", "--resume",
               "--heartbeat", "1", "--no-final", "--quiet", "--out", str(folder / label)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _trials(url: str) -> list:
    return optuna.load_study(study_name="shared", storage=open_storage(url, heartbeat_seconds=None)).get_trials()


def _wait_for_running_trial(url: str, worker: subprocess.Popen) -> int:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise AssertionError(f"worker A ended before it could be killed:\n{worker.communicate()[0]}")
        try:
            trials = _trials(url)
        except KeyError:  # the study is not created yet
            time.sleep(0.1)
            continue
        for trial in trials:
            if (trial.state == TrialState.RUNNING and trial.user_attrs.get("worker", "").endswith(f":{worker.pid}")
                    and trial.intermediate_values):
                return trial.number
        time.sleep(0.05)
    raise AssertionError("worker A never ran a trial")


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_a_killed_worker_fails_its_trial_and_the_survivor_retries_it(files, storage_url):
    victim = _worker(files, storage_url, "a")
    survivor = _worker(files, storage_url, "b")
    try:
        killed = _wait_for_running_trial(storage_url, victim)
        os.kill(victim.pid, signal.SIGKILL)  # mid-trial: no chance to mark its trial
        victim.wait(timeout=WAIT_SECONDS)
        output, _ = survivor.communicate(timeout=WAIT_SECONDS)
    finally:
        for process in (victim, survivor):
            if process.poll() is None:
                process.kill()
    assert survivor.returncode == 0, output

    trials = _trials(storage_url)
    states = {trial.number: trial.state for trial in trials}
    assert states[killed] == TrialState.FAIL
    assert sum(state == TrialState.COMPLETE for state in states.values()) == N_TRIALS  # the budget, not more
    assert set(states.values()) == {TrialState.COMPLETE, TrialState.FAIL}  # nothing left running or queued
    retries = {RetryHeartbeatStaleTrialCallback.retried_trial_number(t): t for t in trials}
    # no lost trial: the survivor waited for the dead worker's heartbeat to go stale and ran its retry
    assert retries[killed].state == TrialState.COMPLETE
    assert retries[killed].params == next(t.params for t in trials if t.number == killed)
    assert len({t.number for t in trials}) == len(trials)
    assert (files / "b" / "shared-tune" / "best.yaml").is_file()


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_three_postgresql_workers_stay_within_the_budget(files, postgres_url, capsys):
    code = main(["tune", str(files / "spec.yaml"), "--space", str(files / "space.yaml"), "--sampler", "random",
                 "--pruner", "none", "--trials", "7", "--set", "train.epochs=2", "--storage", postgres_url,
                 "--study", "budget", "--workers", "3", "--no-final", "--quiet", "--out", str(files / "runs")])
    printed = capsys.readouterr().out
    assert code == 0, printed
    study = optuna.load_study(study_name="budget", storage=open_storage(postgres_url, heartbeat_seconds=None))
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(finished) == 7  # exactly the budget (not a multiple of the workers): never a trial over it
    assert len({trial.user_attrs["worker"] for trial in finished}) > 1  # the work was shared
    others = [trial for trial in study.get_trials() if trial.state not in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert all(trial.state == TrialState.FAIL and trial.user_attrs["error"].startswith("not run") for trial in others)
    assert "study budget: 7 complete" in printed
    assert {"spec.yaml", "space.yaml", "best.yaml", "trials.csv"} <= {p.name for p in (files / "runs" / "budget-tune").iterdir()}
