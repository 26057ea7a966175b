"""Every sampler and every pruner runs a tiny study; pruners really prune."""
from __future__ import annotations

import json

import pytest

from neuralab.errors import SpecError
from neuralab.tune.samplers import PRUNERS, SAMPLERS, choice_problems, make_pruner, make_sampler
from neuralab.tune.search import tune_study

SPACE = {"params": {"train.learning_rate": {"low": 1e-3, "high": 0.3, "log": True, "points": 3},
                    "train.optimizer": ["sgd", "adam"]}}


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_every_sampler_finishes_a_tiny_study(sampler, tiny_spec, tmp_path):
    trials = None if sampler == "grid" else 4
    result = tune_study(tiny_spec, SPACE, sampler=sampler, trials=trials, pruner="none", out_dir=tmp_path,
                        final=False)
    assert result.counts["COMPLETE"] == (6 if sampler == "grid" else 4)  # the grid: 3 rates × 2 optimisers
    assert result.best_spec.train.optimizer in ("sgd", "adam")
    if sampler == "grid":
        visited = {(t.params["train.learning_rate"], t.params["train.optimizer"]) for t in result.study.trials}
        assert len(visited) == 6


@pytest.mark.parametrize("pruner", sorted(PRUNERS))
def test_every_pruner_runs(pruner, tiny_spec, tmp_path):
    result = tune_study(tiny_spec, SPACE, sampler="random", trials=3, pruner=pruner, out_dir=tmp_path, final=False)
    assert result.counts["COMPLETE"] + result.counts["PRUNED"] == 3


@pytest.mark.parametrize("pruner", ["hyperband", "median"])
def test_pruners_stop_bad_trials_early(pruner, tiny_spec, tmp_path):
    spec = tiny_spec.model_copy(update={"train": tiny_spec.train.model_copy(update={"epochs": 5})})
    space = {"params": {"train.learning_rate": {"low": 1e-5, "high": 1.0, "log": True}}}
    result = tune_study(spec, space, sampler="random", trials=12, pruner=pruner, out_dir=tmp_path, final=False)
    pruned = [t for t in result.study.trials if t.state.name == "PRUNED"]
    assert pruned, result.counts
    assert all(len(t.intermediate_values) < 5 for t in pruned)  # stopped before the last epoch


def test_unknown_names_are_reported_together():
    problems = choice_problems(sampler="tpee", pruner="hyperbnd")
    assert problems == ["--sampler: 'tpee' is not one of grid, random, tpe, cmaes — did you mean 'tpe'?",
                        "--pruner: 'hyperbnd' is not one of hyperband, median, none — did you mean 'hyperband'?"]
    with pytest.raises(SpecError):
        tune_study({}, SPACE, sampler="bayes", final=False)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_every_sampler_searches_the_architecture(sampler, tiny_spec, tmp_path):
    nas = {"architecture": {"layers": {"low": 1, "high": 2}, "width": {"low": 4, "high": 8, "points": 2}}}
    result = tune_study(tiny_spec, nas, sampler=sampler, trials=4, pruner="none", out_dir=tmp_path, final=False)
    assert result.counts["COMPLETE"] == 4
    for trial in result.study.trials:
        hidden = json.loads(trial.user_attrs["overrides"])["model.hidden"]
        assert len(hidden) == trial.params["architecture.layers"] and all(4 <= w <= 8 for w in hidden)
    assert result.best_spec.model.hidden == json.loads(
        result.study.best_trial.user_attrs["overrides"])["model.hidden"]


@pytest.fixture
def no_unpickling(monkeypatch):
    """Any pickle.load/loads while the fixture is active fails the test."""
    import pickle

    def refuse(*arguments, **settings):
        raise AssertionError("a pickle was loaded")

    for name in ("load", "loads"):
        monkeypatch.setattr(pickle, name, refuse)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_no_sampler_or_pruner_loads_a_pickle_from_the_storage_even_resumed(sampler, tmp_path, no_unpickling):
    import optuna

    from neuralab.tune.space import load_space, suggest
    from neuralab.tune.storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = load_space(SPACE)

    def objective(trial):  # what a trial reports: a dev error per epoch, then the last one
        overrides = suggest(space, trial, uniform_width=sampler == "grid")
        error = overrides["train.learning_rate"] + (overrides["train.optimizer"] == "sgd")
        for epoch in range(1, 4):
            trial.report(error / epoch, step=epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return error / 3

    for pruner in sorted(PRUNERS):
        url = f"journal://{tmp_path}/{pruner}.journal"
        for worker in range(2):  # a second worker (or a resumed study) opens the same storage afresh
            study = optuna.create_study(storage=open_storage(url, heartbeat_seconds=None), study_name="s",
                                        load_if_exists=True, sampler=make_sampler(sampler, space, seed=worker),
                                        pruner=make_pruner(pruner, epochs=3))
            study.optimize(objective, n_trials=3 if sampler == "grid" else 8)
        assert len(study.trials) == (6 if sampler == "grid" else 16)
