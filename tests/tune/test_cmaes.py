"""CMA-ES never loads a pickle from the study's storage, and still learns across generations.

Optuna's own CmaEsSampler unpickles the optimiser it finds in a trial's system attributes;
a pickle planted there (anyone who can write to a shared study database can) runs code
when a CMA-ES worker resumes or joins the study. neuralab's sampler keeps its optimiser in
the process: the planted pickle is never read, and none is written.
"""
from __future__ import annotations

import json
import pickle
import sqlite3
from pathlib import Path

import optuna
import pytest

from neuralab.cli import main
from neuralab.tune.cmaes import InProcessCmaEsSampler

SPEC = """name: cma
seed: 0
data: {dataset: circle, n_samples: 120}
model: {hidden: [8]}
train: {epochs: 2, batch_size: 16, learning_rate: 0.01}
"""
SPACE = """params:
  train.learning_rate: {low: 1.0e-3, high: 1.0e-1, log: true}
  train.l2: {low: 0.0, high: 1.0e-3}
"""


class Payload:
    """Unpickling this creates ``path``: proof that something ran."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def plant(database: Path, payload: Payload) -> None:
    """Write a pickle where Optuna's CmaEsSampler looks for its optimiser: the last complete trial's attributes."""
    with sqlite3.connect(database) as connection:
        [(trial_id,)] = connection.execute("SELECT max(trial_id) FROM trials WHERE state = 'COMPLETE'").fetchall()
        connection.execute("DELETE FROM trial_system_attributes WHERE trial_id = ? AND key LIKE 'cma:optimizer:%'",
                           (trial_id,))
        connection.execute("INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES (?, ?, ?)",
                           (trial_id, "cma:optimizer:0", json.dumps(pickle.dumps(payload).hex())))


def tune(folder: Path, *more: str) -> int:
    return main(["tune", str(folder / "spec.yaml"), "--space", str(folder / "space.yaml"), "--sampler", "cmaes",
                 "--pruner", "none", "--no-final", "--quiet", "--out", str(folder / "runs"), *more])


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "space.yaml").write_text(SPACE)
    return tmp_path


def test_a_pickle_planted_in_the_study_is_never_loaded(folder, capsys):
    assert tune(folder, "--trials", "4") == 0
    database = folder / "runs" / "cma-tune" / "study.db"
    marker = folder / "PWNED"
    plant(database, Payload(marker))

    assert tune(folder, "--trials", "8", "--resume") == 0, capsys.readouterr()
    assert not marker.exists()
    study = optuna.load_study(study_name="cma", storage=f"sqlite:///{database}")
    assert len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))) == 8
    written = [key for trial in study.trials for key in trial.system_attrs if key.startswith("cma:optimizer")]
    assert written == ["cma:optimizer:0"]  # the planted one only: neuralab writes no optimiser pickle

    # the control: Optuna's own sampler does load it, so the plant was where it looks
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    stock = optuna.load_study(study_name="cma", storage=f"sqlite:///{database}",
                              sampler=optuna.samplers.CmaEsSampler(seed=0, warn_independent_sampling=False))
    with pytest.raises(Exception):  # the payload returns a file object, not an optimiser
        stock.optimize(lambda trial: trial.suggest_float("train.learning_rate", 1e-3, 1e-1, log=True)
                       + trial.suggest_float("train.l2", 0.0, 1e-3), n_trials=1)
    assert marker.exists()


def test_a_resumed_study_carries_on_from_its_generations():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.InMemoryStorage()

    def objective(trial):
        return (trial.suggest_float("x", -3, 3) - 1) ** 2 + (trial.suggest_float("y", -3, 3) + 1) ** 2

    first = optuna.create_study(storage=storage, study_name="s", sampler=InProcessCmaEsSampler(seed=0))
    first.optimize(objective, n_trials=30)
    reached = max(trial.system_attrs["cma:generation"] for trial in first.trials[1:])
    # a new worker (a new sampler, nothing in memory) catches up from the stored generations and goes on
    again = optuna.load_study(storage=storage, study_name="s", sampler=InProcessCmaEsSampler(seed=1))
    again.optimize(objective, n_trials=20)
    later = [trial.system_attrs["cma:generation"] for trial in again.trials[30:]]
    assert later == sorted(later) and later[-1] > reached
    assert min(trial.value for trial in again.trials[30:]) < 0.5  # near the minimum (1, −1), not started over
