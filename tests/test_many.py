"""train_many: populations where they apply, one at a time elsewhere, run directories on request."""
from __future__ import annotations

import pytest

import neuralab

BASE = {"data": {"dataset": "circle", "n_samples": 160, "noise": 0.1}, "model": {"hidden": [8, 6]},
        "train": {"epochs": 6, "batch_size": 16}, "diagnose": {"health_every": 0}}


def test_train_many_falls_back_one_at_a_time_and_keeps_order():
    specs = [neuralab.load_spec(BASE, overrides={"train.learning_rate": 0.01}),
             neuralab.load_spec(BASE, overrides={"model.hidden": [4]}),
             neuralab.load_spec(BASE, overrides={"train.learning_rate": 0.05})]
    runs = neuralab.train_many(specs)
    assert [run.spec for run in runs] == specs
    assert runs[0].summary.get("trained_in_population") and "trained_in_population" not in runs[1].summary
    alone = neuralab.train(specs[2], out_dir=None)
    assert runs[2].summary["test_error"] == pytest.approx(alone.summary["test_error"], abs=1e-9)


def test_runs_written_by_train_many_load_like_any_run(tmp_path):
    specs = [neuralab.load_spec(BASE, overrides={"name": f"lr{i}", "train.learning_rate": lr})
             for i, lr in enumerate((0.01, 0.03))]
    runs = neuralab.train_many(specs, out_dir=tmp_path, workers=2)
    for run in runs:
        again = neuralab.load_run(run.dir)
        assert again.summary["test_error"] == run.summary["test_error"]
        assert again.summary["trained_in_population"] is True


def test_train_many_writes_runs_by_default_as_train_does():
    """Issue 17: one default for where runs go."""
    import inspect

    assert inspect.signature(neuralab.train_many).parameters["out_dir"].default == \
        inspect.signature(neuralab.train).parameters["out_dir"].default == "runs"
