"""A trial trains like `neuralab.train` but scores train and dev only: the test split is never read."""
from __future__ import annotations

import pytest

import neuralab
from neuralab.training.experiment import cached_data
from neuralab.tune.trial import train_on_dev


def test_a_trial_matches_train_on_dev_and_never_reads_the_test_split(tiny_spec):
    expected = neuralab.train(tiny_spec, out_dir=None).summary
    cache: dict = {}
    bundle = cached_data(tiny_spec, cache)
    bundle.x_test = bundle.y_test = None  # any use of the test split would fail
    scores = train_on_dev(tiny_spec, cache=cache)
    assert scores["dev_error"] == pytest.approx(expected["dev_error"])
    assert scores["train_error"] == pytest.approx(expected["train_error"])
    assert scores["epochs_run"] == expected["epochs_run"] and not scores["diverged"]


def test_the_cache_reloads_only_when_the_data_change(tiny_spec):
    cache: dict = {}
    first = cached_data(tiny_spec, cache)
    assert cached_data(neuralab.load_spec(tiny_spec, overrides={"train.epochs": 9}), cache) is first
    assert cached_data(neuralab.load_spec(tiny_spec, overrides={"data.n_samples": 100}), cache) is not first


@pytest.mark.parametrize("sampler", ["random", "tpe"])  # trained in populations up front / one trial at a time
def test_each_trial_is_a_tensorboard_run_with_its_values_as_hyperparameters(sampler, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    spec = neuralab.load_spec({"name": "tb", "data": {"dataset": "xor", "n_samples": 100}, "model": {"hidden": [4]},
                               "train": {"epochs": 3, "tensorboard": str(tmp_path / "tb")}})
    space = {"params": {"train.learning_rate": {"low": 1e-3, "high": 1e-1, "log": True}}}
    result = neuralab.tune_study(spec, space, sampler=sampler, trials=3, out_dir=tmp_path, final=False)
    for trial in result.study.trials:
        board = EventAccumulator(str(tmp_path / "tb" / f"tb-trial-{trial.number:04d}"))
        board.Reload()
        content = board.PluginTagToContent("hparams")["_hparams_/session_start_info"]
        values = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info.hparams
        assert values["train.learning_rate"].number_value == pytest.approx(trial.params["train.learning_rate"])
        epochs = trial.user_attrs["epochs_run"]
        assert [event.step for event in board.Scalars("error/dev")] == list(range(1, epochs + 1))
        assert board.Scalars("error/dev")[-1].value == pytest.approx(trial.user_attrs["dev_error"])
        assert board.Scalars("final/epochs_run")[0].value == epochs


def test_without_a_dev_split_a_study_is_refused_before_any_trial(tiny_spec, tmp_path):
    from neuralab.errors import SpecError
    from neuralab.tune.search import tune_study

    no_dev = neuralab.load_spec(tiny_spec, overrides={"data.split": [0.5, 0.0, 0.5]})
    with pytest.raises(SpecError, match="no dev"):
        tune_study(no_dev, {"params": {"train.learning_rate": {"choices": [0.01, 0.1]}}}, sampler="grid",
                   out_dir=tmp_path)
    with pytest.raises(SpecError, match="no dev"):
        train_on_dev(no_dev)
    assert not list(tmp_path.iterdir())
