"""Grid searches train same-shape points as populations, with the results of training alone."""
from __future__ import annotations

import pytest

import neuralab
from neuralab.training import Callback
from neuralab.tune.batched import batchable

SPEC = {"name": "pop", "data": {"dataset": "circle", "n_samples": 120}, "model": {"hidden": [6]},
        "train": {"epochs": 4, "batch_size": 16}, "diagnose": {"health_every": 0}}


class Nothing(Callback):
    """Any extra callback must see each trial's own loop, so it keeps the one-at-a-time path."""


def by_value(result, param: str) -> dict:
    return {trial.params[param]: trial for trial in result.study.trials}


def test_a_learning_rate_sweep_trains_in_populations_with_the_same_results(tmp_path):
    values = "0.003,0.03,0.3"
    together = neuralab.sweep(SPEC, "train.learning_rate", values, out_dir=tmp_path / "a")
    alone = neuralab.sweep(SPEC, "train.learning_rate", values, out_dir=tmp_path / "b", callbacks=[Nothing()])
    batched, single = by_value(together, "train.learning_rate"), by_value(alone, "train.learning_rate")
    assert len(batched) == 3
    for value, trial in batched.items():
        assert trial.user_attrs.get("trained_in_population") is True
        assert "trained_in_population" not in single[value].user_attrs
        assert trial.value == pytest.approx(single[value].value, abs=1e-9)
        assert trial.intermediate_values == pytest.approx(single[value].intermediate_values, abs=1e-9)


def test_points_of_other_shapes_train_alone(tmp_path):
    result = neuralab.sweep(SPEC, "model.hidden", "[4],[8]", out_dir=tmp_path)
    assert all("trained_in_population" not in t.user_attrs for t in result.study.trials)
    assert result.counts["COMPLETE"] == 2


@pytest.mark.parametrize("sampler, pruner, shared, expected", [
    ("grid", "none", False, True), ("grid", "hyperband", False, False),
    ("tpe", "none", False, False), ("grid", "none", True, False),
])
def test_only_unpruned_local_grid_searches_batch(sampler, pruner, shared, expected):
    assert batchable(sampler=sampler, pruner=pruner, shared_storage=shared) is expected
