"""One experiment, assembled in one place, the same whichever front end builds it."""
from __future__ import annotations

import pytest
import torch

import neuralab
from neuralab.data import load_data
from neuralab.errors import SpecError
from neuralab.training.experiment import Experiment, cached_data

BASE = {"data": {"dataset": "xor", "n_samples": 100}, "model": {"hidden": [6]}, "train": {"epochs": 3}}


def test_the_same_spec_builds_the_same_network_and_trains_to_the_same_numbers():
    spec = neuralab.load_spec(BASE)
    a, b = Experiment.from_spec(spec), Experiment.from_spec(spec)
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))
    without_seconds = [{k: v for k, v in row.items() if k != "seconds"} for row in a.fit().history]
    assert without_seconds == [{k: v for k, v in row.items() if k != "seconds"} for row in b.fit().history]
    assert neuralab.train(spec, out_dir=None).history[-1]["dev_loss"] == a.state.history[-1]["dev_loss"]


def test_experiments_trained_in_turns_do_not_disturb_each_other():
    spec = neuralab.load_spec(BASE, overrides={"model.dropout": 0.3})  # dropout draws from the global generator
    alone = Experiment.from_spec(spec)
    alone.fit(record_health=False)
    first, second = Experiment.from_spec(spec), Experiment.from_spec(spec)
    for _ in range(3):  # one epoch each, in turns, as playground tabs train
        for experiment in (first, second):
            with experiment.training():
                if experiment.state.history == [] and experiment._events is None:
                    experiment.begin(record_health=False)
                experiment.run_epoch()
    assert [r["train_loss"] for r in first.state.history] == [r["train_loss"] for r in alone.state.history]
    assert [r["train_loss"] for r in second.state.history] == [r["train_loss"] for r in alone.state.history]


def test_a_given_bundle_is_used_and_the_test_split_is_read_only_when_scored():
    spec = neuralab.load_spec(BASE)
    bundle = load_data(spec.data, seed=spec.seed)
    bundle.x_test = bundle.y_test = None  # a trial must never read them
    experiment = Experiment.from_spec(spec, bundle=bundle)
    experiment.fit(record_health=False)
    assert set(experiment.score(["train", "dev"])) == {"train", "dev"}


def test_a_model_kind_that_cannot_learn_the_data_is_refused_by_name(monkeypatch):
    from neuralab.models import kinds

    spec = neuralab.load_spec(BASE)
    mlp = kinds.kind_of(spec.model)
    monkeypatch.setitem(kinds.MODEL_KINDS, "mlp", mlp.__class__(**{**vars(mlp), "data_kinds": ("text",)}))
    with pytest.raises(SpecError, match="model.kind: 'mlp' learns from text data, but data.dataset 'xor' is tabular"):
        Experiment.from_spec(spec)


def test_health_is_recorded_as_the_spec_says():
    spec = neuralab.load_spec(BASE, overrides={"diagnose.health_every": 2})
    experiment = Experiment.from_spec(spec)
    experiment.fit()
    expected = min(2, max(1, spec.train.epochs * -(-experiment.bundle.n_train // spec.train.batch_size) // 20))
    assert experiment.health_record["every"] == expected and experiment.health_record["samples"]
    quiet = Experiment.from_spec(spec)
    quiet.fit(record_health=False)
    assert quiet.health_record is None


def test_the_data_cache_reuses_one_bundle_per_data_section():
    cache: dict = {}
    spec = neuralab.load_spec(BASE)
    assert cached_data(spec, cache) is cached_data(neuralab.load_spec(BASE, overrides={"train.epochs": 5}), cache)


def test_other_data_of_the_same_shape_can_replace_the_training_data():
    spec = neuralab.load_spec(BASE)
    experiment = Experiment.from_spec(spec)
    other = load_data(spec.data, seed=7)
    experiment.use_data(other)
    assert experiment.bundle is other and torch.equal(experiment.splits["train"][0], torch.from_numpy(other.x_train))
    with pytest.raises(ValueError, match="same inputs and task"):
        experiment.use_data(load_data(neuralab.load_spec({"data": {"dataset": "iris"}}).data))


def test_data_without_dev_rows_refuse_settings_that_read_the_dev_split(tmp_path):
    rows = "\n".join(f"{i % 7},{i % 5},{i % 2},{'train' if i % 3 else 'test'}" for i in range(60))
    (tmp_path / "points.csv").write_text("a,b,label,split\n" + rows + "\n")
    data = {"dataset": "csv", "path": str(tmp_path / "points.csv"), "target": "label", "split_column": "split"}
    plain = Experiment.from_spec(neuralab.load_spec({"data": data, "model": {"hidden": [3]}, "train": {"epochs": 2}}))
    plain.fit(record_health=False)
    assert plain.bundle.n_dev == 0 and sorted(plain.score()) == ["test", "train"]
    assert not any(key.startswith("dev_") for key in plain.state.history[-1])
    watching = neuralab.load_spec({"data": data, "train": {"early_stopping": {"patience": 2}}})
    with pytest.raises(SpecError, match="early_stopping.patience.*no dev rows"):
        Experiment.from_spec(watching)
