"""Many models at once give the same results as training each alone, per hyperparameter kind."""
from __future__ import annotations

import pytest
import torch

import neuralab
from neuralab.data import load_data
from neuralab.models import build_model
from neuralab.training.population import MemberResult
from neuralab.training.population import population_problems, population_threads, train_population, worker_count

BASE = {"data": {"dataset": "circle", "n_samples": 160, "noise": 0.1}, "model": {"hidden": [8, 6]},
        "train": {"epochs": 6, "batch_size": 16}, "diagnose": {"health_every": 0}}


def specs_varying(field: str, values: list) -> list:
    return [neuralab.load_spec(BASE, overrides={field: value}) for value in values]


def assert_same_as_alone(specs, **tolerance):
    together = train_population(specs)
    for spec, member in zip(specs, together):
        alone = neuralab.train(spec, out_dir=None)
        assert len(member.history) == len(alone.history)
        for mine, theirs in zip(member.history, alone.history):
            for key in ("train_loss", "train_error", "dev_loss", "dev_error", "learning_rate"):
                assert mine[key] == pytest.approx(theirs[key], **tolerance), key
        mine, theirs = member.model.state_dict(), alone.model.state_dict()  # batch-norm statistics included
        assert mine.keys() == theirs.keys()
        for name in mine:
            assert torch.allclose(mine[name].double(), theirs[name].double(), atol=1e-5), name
        assert member.stop_reason == alone.summary["stop_reason"] or not member.stop_reason
        assert member.best_epoch == alone.summary["best_epoch"] or member.best_epoch is None


@pytest.mark.parametrize("field, values", [
    ("train.learning_rate", [0.003, 0.01, 0.05]),
    ("train.l2", [0.0, 0.001, 0.01]),
    ("seed", [0, 1, 2]),
])
def test_population_matches_training_alone(field, values):
    assert_same_as_alone(specs_varying(field, values), rel=1e-4, abs=1e-6)


def test_momentum_groups_with_sgd_and_schedules():
    specs = [neuralab.load_spec(BASE, overrides={"train.optimizer": "momentum", "train.learning_rate": 0.05,
                                                 "train.momentum": m, "train.schedule": "cosine"})
             for m in (0.5, 0.9)]
    assert_same_as_alone(specs, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("overrides", [
    {"train.schedule": {"name": "plateau", "patience": 1, "factor": 0.5}},
    {"train.schedule": {"name": "bold_driver"}},
    {"train.schedule": {"name": "cosine", "min_lr": 0.004}},  # an absolute floor, per model
    {"train.train_metrics": "full"},
    {"train.eval_every": 4},
    # Batch norm with momentum SGD: under Adam the bias before a norm layer gets a gradient of
    # pure rounding noise, which Adam scales up to full steps — alone or batched alike, so the
    # two would agree only as far as their rounding does.
    {"model.batch_norm": True, "train.optimizer": "momentum"},
    {"model.batch_norm": True, "train.optimizer": "momentum", "train.early_stopping.patience": 1,
     "train.epochs": 12},
], ids=["plateau", "bold-driver", "cosine-floor", "full-metrics", "eval-every-4", "batch-norm", "batch-norm-early"])
def test_schedules_and_scoring_settings_match_training_alone(overrides):
    specs = [neuralab.load_spec(BASE, overrides={"train.epochs": 8, **overrides, "train.learning_rate": lr})
             for lr in (0.01, 0.05)]
    assert not population_problems(specs)
    assert_same_as_alone(specs, rel=1e-4, abs=1e-6)


def test_each_model_stops_early_on_its_own():
    specs = [neuralab.load_spec(BASE, overrides={"train.learning_rate": lr, "train.epochs": 30,
                                                 "train.early_stopping.patience": 2})
             for lr in (0.001, 0.3)]
    together = train_population(specs)
    for spec, member in zip(specs, together):
        alone = neuralab.train(spec, out_dir=None)
        assert len(member.history) == len(alone.history)
        assert member.best_epoch == alone.summary["best_epoch"]


def calm_and_wild(optimizer: str) -> list:
    """Two specs on wide initial weights: learning rate 0.01 trains, 9.0 diverges in epoch 1."""
    return [neuralab.load_spec(BASE, overrides={"train.optimizer": optimizer, "train.learning_rate": lr,
                                                "data.dataset": "plane", "model.init": "normal",
                                                "model.init_std": 3.0})
            for lr in (0.01, 9.0)]


def test_a_diverging_model_does_not_disturb_the_others():
    specs = calm_and_wild("sgd")
    calm, wild = train_population(specs)
    assert wild.diverged and "diverged" in wild.stop_reason and not calm.diverged
    assert all(torch.isfinite(p).all() for p in wild.model.parameters())
    alone = neuralab.train(specs[0], out_dir=None)
    assert calm.history[-1]["dev_loss"] == pytest.approx(alone.history[-1]["dev_loss"], rel=1e-4)


def test_a_diverged_model_keeps_its_last_finite_weights_under_a_stateful_optimiser():
    # Momentum buffers turn NaN with the model: the later steps of the others must not move it.
    specs = calm_and_wild("momentum")
    _, wild = train_population(specs)
    alone = neuralab.train(specs[1], out_dir=None)
    assert wild.diverged and alone.summary["diverged"]
    for mine, theirs in zip(wild.model.parameters(), alone.model.parameters()):
        assert torch.isfinite(mine).all() and torch.allclose(mine, theirs, atol=1e-6)


def test_dropout_rates_act_per_model():
    specs = specs_varying("model.dropout", [0.0, 0.5])
    plain, dropped = train_population(specs)
    alone = neuralab.train(specs[0], out_dir=None)
    assert plain.history[-1]["dev_loss"] == pytest.approx(alone.history[-1]["dev_loss"], rel=1e-4)
    assert dropped.history[-1]["train_loss"] != pytest.approx(plain.history[-1]["train_loss"], rel=1e-3)


def test_incompatible_specs_are_named():
    mixed = [neuralab.load_spec(BASE), neuralab.load_spec(BASE, overrides={"model.hidden": [4]})]
    assert any("differ" in p for p in population_problems(mixed))
    rolling = [neuralab.load_spec(BASE, overrides={"train.on_divergence": "rollback"})] * 2
    assert any("on_divergence" in p for p in population_problems(rolling))


def test_split_across_workers_gives_each_model_the_same_numbers():
    specs = [neuralab.load_spec(BASE, overrides={"train.learning_rate": lr, "model.dropout": dropout})
             for lr, dropout in ((0.003, 0.0), (0.01, 0.2), (0.03, 0.0), (0.05, 0.3))]
    one = train_population(specs, workers=1)
    two = train_population(specs, workers=2)
    for mine, theirs in zip(one, two):
        assert [row["dev_loss"] for row in mine.history] == pytest.approx([row["dev_loss"] for row in theirs.history],
                                                                          rel=1e-5)
        for p, q in zip(mine.model.parameters(), theirs.model.parameters()):
            assert torch.allclose(p, q, atol=1e-6)


def test_dropout_masks_do_not_depend_on_the_other_members():
    specs = [neuralab.load_spec(BASE, overrides={"model.dropout": 0.3, "train.learning_rate": lr})
             for lr in (0.01, 0.02, 0.04)]
    alone = train_population(specs[:1])[0]
    together = train_population(specs)[0]
    assert [r["train_loss"] for r in alone.history] == pytest.approx([r["train_loss"] for r in together.history],
                                                                      rel=1e-5)


def test_worker_count_follows_the_work():
    small = train_population(specs_varying("train.learning_rate", [0.01, 0.02]), workers=1)
    cpu = torch.device("cpu")
    assert worker_count(small, device=cpu) == 1  # a few MFLOPs: forking would cost more than it saves
    assert worker_count(small, device=cpu, requested=3) == 3
    big = [neuralab.load_spec({"data": {"dataset": "digits"}, "model": {"hidden": [128, 128]},
                               "train": {"epochs": 20, "threads": 2, "learning_rate": lr}}) for lr in (0.01, 0.02)]
    members = [MemberResult(spec=spec, model=build_model(spec.model, n_inputs=64, n_outputs=10),
                            head=small[0].head, bundle=load_data(spec.data, seed=0)) for spec in big]
    assert worker_count(members, device=cpu) == 2
    assert worker_count(members, device=torch.device("meta")) == 1


def test_thread_count_follows_the_stacked_network_size():
    small = train_population(specs_varying("train.learning_rate", [0.01, 0.02]), workers=1)
    assert population_threads(small) == 1  # a few hundred parameters: a second thread only synchronises
    wide = [MemberResult(spec=member.spec, model=build_model(member.spec.model.model_copy(update={"hidden": [256, 64]}),
                                                             n_inputs=2, n_outputs=1),
                         head=member.head, bundle=member.bundle) for member in small]
    assert population_threads(wide) == torch.get_num_threads()
    pinned = [MemberResult(spec=neuralab.load_spec(BASE, overrides={"train.threads": 1}), model=m.model, head=m.head,
                           bundle=m.bundle) for m in wide]
    assert population_threads(pinned) == 1
