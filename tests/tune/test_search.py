"""tune_study: outputs, reproducibility, resume after an interruption, the best spec reproduced."""
from __future__ import annotations

import csv

import pytest

import neuralab
from neuralab.errors import RunError, SpecError
from neuralab.training import Callback
from neuralab.tune.search import tune_study

SPACE = {"params": {"train.learning_rate": {"low": 1e-3, "high": 0.3, "log": True},
                    "model.hidden": [[4], [8], [8, 8]]}}


def values(result):
    return [t.value for t in result.study.trials]


def test_outputs_and_the_best_spec_reproduce_with_train(tiny_spec, tmp_path):
    result = tune_study(tiny_spec, SPACE, sampler="tpe", trials=4, pruner="none", out_dir=tmp_path)
    folder = tmp_path / "tiny-tune"
    assert result.dir == folder
    for name in ("best.yaml", "trials.csv", "tune.json", "history.png", "sensitivity.png", "study.db"):
        assert (folder / name).is_file(), name
    rows = list(csv.DictReader(open(folder / "trials.csv")))
    assert len(rows) == 4 and {"train.learning_rate", "model.hidden", "dev_error", "train_error"} <= set(rows[0])
    again = neuralab.train(folder / "best.yaml", out_dir=None)
    assert again.summary["dev_error"] == pytest.approx(result.best_value)
    assert result.final_run.summary["test_error"] == again.summary["test_error"]  # test scored once, at the end
    assert not any(key.startswith("test") for t in result.study.trials for key in t.user_attrs)


def test_same_spec_and_seed_give_the_same_trials(tiny_spec, tmp_path):
    first = tune_study(tiny_spec, SPACE, sampler="tpe", trials=6, pruner="median", out_dir=tmp_path / "a", final=False)
    second = tune_study(tiny_spec, SPACE, sampler="tpe", trials=6, pruner="median", out_dir=tmp_path / "b", final=False)
    assert values(first) == values(second)
    assert [t.params for t in first.study.trials] == [t.params for t in second.study.trials]


class InterruptAt(Callback):
    """Raises Ctrl-C in the n-th trial, as a user would."""

    def __init__(self, trial: int):
        self.trial, self.started = trial, 0

    def on_fit_start(self, state):
        self.started += 1
        if self.started == self.trial:
            raise KeyboardInterrupt


def test_resume_after_an_interruption_completes_the_study(tiny_spec, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        tune_study(tiny_spec, SPACE, sampler="random", trials=5, pruner="none", out_dir=tmp_path,
                   callbacks=[InterruptAt(3)], final=False)
    result = tune_study(tiny_spec, SPACE, sampler="random", trials=5, pruner="none", out_dir=tmp_path, resume=True,
                        final=False)
    assert result.study.study_name == "tiny" and result.dir == tmp_path / "tiny-tune"
    assert result.counts["COMPLETE"] == 5 and result.counts["FAIL"] == 1
    params = [tuple(sorted(t.params.items())) for t in result.study.trials if t.state.name == "COMPLETE"]
    assert len(set(params)) == 5  # the resumed sampler does not re-propose the first trials


def test_resume_refuses_another_space(tiny_spec, tmp_path):
    tune_study(tiny_spec, SPACE, sampler="random", trials=2, pruner="none", out_dir=tmp_path, final=False)
    other = {"params": {"train.learning_rate": {"low": 1e-2, "high": 0.3}}}
    with pytest.raises(SpecError, match="another space"):
        tune_study(tiny_spec, other, sampler="random", trials=2, out_dir=tmp_path, resume=True, final=False)


def test_overrides_apply_before_the_search(tiny_spec, tmp_path):
    result = tune_study(tiny_spec, SPACE, sampler="random", trials=2, pruner="none", out_dir=tmp_path,
                        overrides=["train.epochs=2", "name=other"], final=False)
    assert result.best_spec.train.epochs == 2 and result.dir.name == "other-tune"
    assert all(t.user_attrs["epochs_run"] == 2 for t in result.study.trials)


def test_a_spec_refused_combination_fails_only_that_trial(tiny_spec, tmp_path):
    # each value fits the base spec (two layers), but one activation per layer does not fit one layer
    space = {"params": {"model.hidden": [[8], [8, 8]], "model.activation": ["relu", ["relu", "tanh"]]}}
    result = tune_study(tiny_spec, space, sampler="grid", pruner="none", out_dir=tmp_path, final=False,
                        overrides={"model.hidden": [8, 8]})
    assert result.counts["COMPLETE"] == 3 and result.counts["FAIL"] == 1
    failed = next(t for t in result.study.trials if t.state.name == "FAIL")
    assert "model.activation" in failed.user_attrs["error"]


def test_running_the_same_search_again_starts_a_fresh_study(tiny_spec, tmp_path):
    """Issue 17: the README's tune twice in a row; the second gets its own name and folder."""
    first = tune_study(tiny_spec, SPACE, sampler="random", trials=2, pruner="none", out_dir=tmp_path, final=False)
    second = tune_study(tiny_spec, SPACE, sampler="random", trials=2, pruner="none", out_dir=tmp_path, final=False)
    assert (first.study.study_name, second.study.study_name) == ("tiny", "tiny-2")
    assert (first.dir.name, second.dir.name) == ("tiny-tune", "tiny-2-tune")
    assert values(first) == values(second)  # the same spec and seed: the same trials
    resumed = tune_study(tiny_spec, SPACE, sampler="random", trials=3, pruner="none", out_dir=tmp_path,
                         resume=True, final=False)
    assert resumed.study.study_name == "tiny-2" and resumed.counts["COMPLETE"] == 3  # the newest one continues


def test_a_named_study_that_exists_needs_resume_in_python_words(tiny_spec, tmp_path):
    tune_study(tiny_spec, SPACE, sampler="random", trials=1, pruner="none", out_dir=tmp_path, final=False,
               study_name="mine")
    with pytest.raises(RunError, match=r"pass resume=True \(--resume\).*study_name"):
        tune_study(tiny_spec, SPACE, sampler="random", trials=1, pruner="none", out_dir=tmp_path, final=False,
                   study_name="mine")
    again = tune_study(tiny_spec, SPACE, sampler="random", trials=2, pruner="none", out_dir=tmp_path, final=False,
                       study_name="mine", resume=True)
    assert again.counts["COMPLETE"] == 2 and again.dir == tmp_path / "mine-tune"
