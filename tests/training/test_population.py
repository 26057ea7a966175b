"""The engine contract: a population member gives the numbers training it alone gives.

Each setting a population admits is covered here — every catalog optimiser, each varied
field, schedules, batch norm, early stopping, clipping, L1, noise, scoring settings,
divergence and the health record — and what is not covered is refused with a reason.
"""
from __future__ import annotations

import pytest
import torch

import neuralab
from neuralab.spec.catalog import names
from neuralab.training.population import (population_problems, population_threads, train_population,
                                          worker_count)

BASE = {"data": {"dataset": "circle", "n_samples": 160, "noise": 0.1}, "model": {"hidden": [8, 6]},
        "train": {"epochs": 6, "batch_size": 16}, "diagnose": {"health_every": 0}}
# Rounding: stacked products and a rate-1 step rescaled per member differ from one model's
# step in the last bits; over a few epochs that stays far below these tolerances.
CLOSE = {"rel": 1e-4, "abs": 1e-6}


def specs_varying(field: str, values: list, **overrides) -> list:
    return [neuralab.load_spec(BASE, overrides={**overrides, field: value}) for value in values]


def assert_same_as_alone(specs, *, weights_atol: float = 1e-5, **tolerance):
    tolerance = tolerance or CLOSE
    together = train_population(specs)
    for spec, member in zip(specs, together):
        alone = neuralab.train(spec, out_dir=None)
        state = member.state
        assert len(state.history) == len(alone.history)
        for mine, theirs in zip(state.history, alone.history):
            assert mine.keys() == theirs.keys()
            for key in mine:
                if key != "seconds":
                    assert mine[key] == pytest.approx(theirs[key], **tolerance), key
        mine, theirs = member.model.state_dict(), alone.model.state_dict()  # batch-norm statistics included
        assert mine.keys() == theirs.keys()
        for name in mine:
            assert torch.allclose(mine[name].double(), theirs[name].double(), rtol=1e-4, atol=weights_atol), name
        summary = alone.summary
        assert (state.stop_reason or "completed all epochs") == summary["stop_reason"]
        assert (state.best_epoch or state.kept_epoch or 0) == summary["best_epoch"]  # 0: the initial weights
        assert (state.kept_epoch or 0) == summary["kept_epoch"] and state.diverged == summary["diverged"]
    return together


@pytest.mark.parametrize("optimizer", names("optimizers"))
@pytest.mark.parametrize("field, values", [
    ("train.learning_rate", [0.003, 0.03]),
    ("train.l2", [0.0, 0.05]),
    ("train.momentum", [0.5, 0.8]),
    ("seed", [0, 1]),
])
def test_every_optimiser_and_varied_field_matches_training_alone(optimizer, field, values):
    rate = {"adadelta": 1.0, "adagrad": 0.05}.get(optimizer, 0.03)
    specs = specs_varying(field, values, **{"train.optimizer": optimizer, "train.epochs": 4,
                                            **({} if field == "train.learning_rate" else {"train.learning_rate": rate})})
    assert not population_problems(specs)
    assert_same_as_alone(specs)


def test_adamw_takes_l2_as_decoupled_decay_in_a_population_too():
    # The drift this guards against: a population once trained AdamW + L2 as Adam + L2.
    specs = specs_varying("train.l2", [0.0, 0.05], **{"train.optimizer": "adamw", "train.learning_rate": 0.03})
    adamw = assert_same_as_alone(specs)
    adam = train_population(specs_varying("train.l2", [0.0, 0.05], **{"train.optimizer": "adam",
                                                                       "train.learning_rate": 0.03}))
    assert adamw[1].state.history[-1]["dev_loss"] != pytest.approx(adam[1].state.history[-1]["dev_loss"], rel=1e-3)


@pytest.mark.parametrize("overrides", [
    {"train.schedule": {"name": "plateau", "patience": 1, "factor": 0.5}},
    {"train.schedule": {"name": "bold_driver"}},
    {"train.schedule": {"name": "cosine", "steps": 4, "min_lr": 0.004}},  # an absolute floor, per model
    {"train.train_metrics": "full"},
    {"train.eval_every": 4},
    {"train.grad_clip": 0.05, "train.l2": 0.01, "train.optimizer": "momentum"},  # clip, then L2, as torch does
    {"train.l1": 0.01},
    {"data.augment_noise": 0.1},
    {"data.dataset": "plane"},  # regression: RMSE and R² in every row
    {"model.batch_norm": True, "train.optimizer": "momentum"},
    {"model.batch_norm": True, "train.batch_size": 19, "train.optimizer": "momentum"},  # a one-row last batch
    {"model.batch_norm": True, "train.optimizer": "momentum", "train.early_stopping.patience": 1,
     "train.epochs": 12},
    {"train.early_stopping.patience": 2, "train.early_stopping.restore_best": False, "train.epochs": 20,
     "train.learning_rate": 0.2},
    {"data.split": [0.5, 0.0, 0.5]},  # no dev split: no dev scores in any row
    {"model.init": "playground", "model.output_activation": "tanh", "data.standardize": False,  # TF Playground's
     "train.shuffle": "once", "train.train_metrics": "full", "train.l2": 0.01, "train.optimizer": "sgd"},
], ids=["plateau", "bold-driver", "cosine-floor", "full-metrics", "eval-every-4", "clip-then-l2", "l1", "noise",
        "regression", "batch-norm", "batch-norm-one-row", "batch-norm-early", "early-no-restore", "no-dev",
        "playground-classic"])
def test_schedules_regularisers_and_scoring_settings_match_training_alone(overrides):
    # Batch norm with momentum SGD: under Adam the bias before a norm layer gets a gradient of
    # pure rounding noise, which Adam scales up to full steps — alone or batched alike, so the
    # two would agree only as far as their rounding does.
    specs = [neuralab.load_spec(BASE, overrides={"train.epochs": 8, **overrides, "train.learning_rate": lr})
             for lr in (0.01, 0.05)]
    assert not population_problems(specs)
    assert_same_as_alone(specs)


def test_each_model_stops_early_on_its_own():
    specs = specs_varying("train.learning_rate", [0.001, 0.3], **{"train.epochs": 30,
                                                                   "train.early_stopping.patience": 2})
    together = assert_same_as_alone(specs)
    assert len(together[0].state.history) != len(together[1].state.history)


def test_a_population_records_health_as_a_run_alone_does():
    specs = specs_varying("train.learning_rate", [0.01, 0.05], **{"diagnose.health_every": 3})
    together = train_population(specs)
    for spec, member in zip(specs, together):
        alone = neuralab.train(spec, out_dir=None).health
        mine = member.health_record
        assert mine is not None and mine["layers"] == alone["layers"] and mine["every"] == alone["every"]
        assert [s["step"] for s in mine["samples"]] == [s["step"] for s in alone["samples"]]
        for sample, theirs in zip(mine["samples"], alone["samples"]):
            for key in ("loss", "grad_norm", "weight_norm", "update_ratio", "dead_fraction", "activation_mean",
                        "activation_std", "symmetric_fraction"):
                values = sample[key] if isinstance(sample[key], list) else [sample[key]]
                expected = theirs[key] if isinstance(theirs[key], list) else [theirs[key]]
                assert [v is None for v in values] == [e is None for e in expected], key
                assert [v for v in values if v is not None] == pytest.approx(
                    [e for e in expected if e is not None], rel=1e-3, abs=1e-5), key
        assert mine["final"]["symmetric_fraction"] == alone["final"]["symmetric_fraction"]


def test_a_population_run_diagnoses_like_a_run_alone(tmp_path):
    specs = specs_varying("train.learning_rate", [0.01, 0.05], **{"diagnose.health_every": 5})
    runs = neuralab.train_many(specs, out_dir=tmp_path)
    assert runs[0].summary["trained_in_population"]
    diagnosis = neuralab.diagnose(runs[0].dir)
    alone = neuralab.diagnose(neuralab.train(specs[0], out_dir=tmp_path / "alone"))
    assert [layer.verdicts for layer in diagnosis.layers] == [layer.verdicts for layer in alone.layers]
    assert diagnosis.layers  # a health record was written and read


def calm_and_wild(optimizer: str) -> list:
    """Two specs on wide initial weights: learning rate 0.01 trains, 9.0 diverges in epoch 1."""
    return [neuralab.load_spec(BASE, overrides={"train.optimizer": optimizer, "train.learning_rate": lr,
                                                "data.dataset": "plane", "model.init": "normal",
                                                "model.init_std": 3.0})
            for lr in (0.01, 9.0)]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov"])
def test_a_diverging_model_stops_as_alone_and_does_not_disturb_the_others(optimizer):
    # Momentum buffers turn NaN with the model: the later steps of the others must not move it.
    calm, wild = assert_same_as_alone(calm_and_wild(optimizer), weights_atol=1e-6)
    assert wild.state.diverged and "diverged" in wild.state.stop_reason and not calm.state.diverged
    assert all(torch.isfinite(p).all() for p in wild.model.parameters())


def test_what_no_parity_test_covers_is_refused_with_a_reason():
    mixed = [neuralab.load_spec(BASE), neuralab.load_spec(BASE, overrides={"model.hidden": [4]})]
    assert any("differ" in p for p in population_problems(mixed))
    rolling = [neuralab.load_spec(BASE, overrides={"train.on_divergence": "rollback"})] * 2
    assert any("on_divergence" in p for p in population_problems(rolling))
    dropping = specs_varying("train.learning_rate", [0.01, 0.02], **{"model.dropout": 0.2})
    assert any("dropout" in p for p in population_problems(dropping))
    with pytest.raises(ValueError, match="dropout"):
        train_population(dropping)
    dead_weights = specs_varying("train.learning_rate", [0.01, 0.02], **{"train.l1": 0.01, "train.l1_style": "playground"})
    assert any("l1_style" in p for p in population_problems(dead_weights))


def test_train_many_trains_refused_specs_alone_with_the_same_numbers(caplog):
    specs = specs_varying("train.learning_rate", [0.01, 0.02], **{"model.dropout": 0.2})
    with caplog.at_level("INFO"):
        runs = neuralab.train_many(specs, out_dir=None)
    assert "train one at a time" in caplog.text and "dropout" in caplog.text
    alone = neuralab.train(specs[1], out_dir=None)
    assert runs[1].history[-1]["dev_loss"] == alone.history[-1]["dev_loss"]
    assert "trained_in_population" not in runs[1].summary


def test_split_across_workers_gives_each_model_the_same_numbers():
    specs = specs_varying("train.learning_rate", [0.003, 0.01, 0.03, 0.05])
    one = train_population(specs, workers=1)
    two = train_population(specs, workers=2)
    for mine, theirs in zip(one, two):
        assert [row["dev_loss"] for row in mine.state.history] == pytest.approx(
            [row["dev_loss"] for row in theirs.state.history], rel=1e-5)
        for p, q in zip(mine.model.parameters(), theirs.model.parameters()):
            assert torch.allclose(p, q, atol=1e-6)


def test_worker_count_follows_the_work():
    small = train_population(specs_varying("train.learning_rate", [0.01, 0.02]), workers=1)
    cpu = torch.device("cpu")
    assert worker_count(small, device=cpu) == 1  # a few MFLOPs: forking would cost more than it saves
    assert worker_count(small, device=cpu, requested=3) == 3
    from neuralab.training.experiment import Experiment

    big = [Experiment.from_spec(neuralab.load_spec({"data": {"dataset": "digits"}, "model": {"hidden": [128, 128]},
                                                    "train": {"epochs": 20, "threads": 2, "learning_rate": lr}}))
           for lr in (0.01, 0.02)]
    assert worker_count(big, device=cpu) == 2
    assert worker_count(big, device=torch.device("meta")) == 1


def test_thread_count_follows_the_stacked_network_size():
    from neuralab.training.experiment import Experiment

    small = [Experiment.from_spec(spec) for spec in specs_varying("train.learning_rate", [0.01, 0.02])]
    assert population_threads(small) == 1  # a few hundred parameters: a second thread only synchronises
    wide = [Experiment.from_spec(spec) for spec in specs_varying("train.learning_rate", [0.01, 0.02],
                                                                 **{"model.hidden": [256, 64]})]
    assert population_threads(wide) == torch.get_num_threads()
    pinned = [Experiment.from_spec(spec) for spec in specs_varying("train.learning_rate", [0.01, 0.02],
                                                                   **{"model.hidden": [256, 64], "train.threads": 1})]
    assert population_threads(pinned) == 1
