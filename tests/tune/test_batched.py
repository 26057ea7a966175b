"""Grid and random searches train same-shape points as populations, with the results of training alone."""
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


def test_a_pruned_random_search_trains_in_populations_with_the_results_of_training_alone(tmp_path):
    space = {"params": {"train.learning_rate": {"low": 1e-3, "high": 1.0, "log": True},
                        "train.l2": {"low": 1e-5, "high": 1e-2, "log": True}}}
    settings = {"sampler": "random", "pruner": "median", "trials": 8, "final": False}
    together = neuralab.tune_study(SPEC, space, out_dir=tmp_path / "a", **settings)
    alone = neuralab.tune_study(SPEC, space, out_dir=tmp_path / "b", callbacks=[Nothing()], **settings)
    mine, theirs = together.study.trials, alone.study.trials
    assert len(mine) == len(theirs) == 8
    assert all(t.user_attrs.get("trained_in_population") for t in mine)
    assert not any("trained_in_population" in t.user_attrs for t in theirs)
    for a, b in zip(mine, theirs):  # the same points (one seeded random sampler), pruned alike
        assert a.params == pytest.approx(b.params, rel=1e-12)
        assert a.state == b.state
        assert a.intermediate_values == pytest.approx(b.intermediate_values, abs=1e-9)
        assert a.user_attrs["dev_error"] == pytest.approx(b.user_attrs["dev_error"], abs=1e-9)
    assert any(t.state.name == "PRUNED" for t in mine)  # the median pruner did stop some trials


def test_a_resumed_random_search_draws_only_the_missing_points(tmp_path):
    space = {"params": {"train.learning_rate": {"low": 1e-3, "high": 0.3, "log": True}}}
    first = neuralab.tune_study(SPEC, space, sampler="random", pruner="none", trials=3, out_dir=tmp_path, final=False)
    first_rates = [t.params["train.learning_rate"] for t in first.study.trials]
    again = neuralab.tune_study(SPEC, space, sampler="random", pruner="none", trials=5, out_dir=tmp_path, final=False,
                          resume=True)
    rates = [t.params["train.learning_rate"] for t in again.study.trials]
    assert len(rates) == 5 and len(set(rates)) == 5  # two new points, not the first three again
    assert rates[:3] == first_rates


@pytest.mark.parametrize("sampler, shared, expected", [
    ("grid", False, True), ("random", False, True), ("tpe", False, False), ("cmaes", False, False),
    ("grid", True, False), ("random", True, False),
])
def test_only_local_grid_and_random_searches_batch(sampler, shared, expected):
    assert batchable(sampler=sampler, shared_storage=shared) is expected
