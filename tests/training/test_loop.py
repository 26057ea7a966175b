"""The training loop: batches, events, divergence, clipping, L1, augmentation."""
from __future__ import annotations

import math

import numpy as np
import torch

from neuralab.data import bundle_from_arrays
from neuralab.spec import load_spec
from neuralab.training import Callback
from neuralab.training.experiment import Experiment


def problem(n: int = 64, seed: int = 0, *, regression: bool = False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = 100 * (x[:, 0] + x[:, 1]) if regression else (x[:, 0] * x[:, 1] > 0).astype(np.int64)  # xor of signs
    return x, y


def experiment(overrides: dict, *, regression: bool = False) -> Experiment:
    spec = load_spec({"model": {"hidden": [16], "activation": "tanh", "init": "xavier_uniform"},
                      "train": {"epochs": 5, "batch_size": 8, "learning_rate": 0.05},
                      "data": {"split": [0.5, 0.25, 0.25]}}, overrides=overrides)
    x, y = problem(regression=regression)
    return Experiment.from_spec(spec, bundle=bundle_from_arrays(x, y, data=spec.data, seed=spec.seed))


def run_fit(overrides: dict, *, callbacks=()):
    return experiment(overrides).fit(callbacks, record_health=False)


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def __getattr__(self, name):
        if name.startswith("on_"):
            return lambda state: self.events.append(name[3:])
        raise AttributeError(name)


def test_loss_falls_and_metrics_are_recorded_per_epoch():
    state = run_fit({"train.epochs": 30})
    assert len(state.history) == 30
    assert state.history[-1]["train_loss"] < 0.6 * state.history[0]["train_loss"]
    assert set(state.history[0]) >= {"epoch", "train_loss", "dev_loss", "train_error", "dev_error",
                                     "learning_rate", "seconds"}


def test_batch_size_sets_steps_per_epoch():
    assert run_fit({"train.batch_size": "full", "train.epochs": 3}).step == 3  # batch gradient descent
    assert run_fit({"train.batch_size": 1, "train.epochs": 1}).step == 32  # stochastic gradient descent
    assert run_fit({"train.batch_size": 10, "train.epochs": 1}).step == 4  # mini-batches, last one short


def test_a_last_batch_of_one_row_joins_the_batch_before_it_under_batch_norm():
    plain = run_fit({"train.batch_size": 31, "train.epochs": 1})  # 32 rows: 31 + 1
    normed = run_fit({"train.batch_size": 31, "train.epochs": 1, "model.batch_norm": True})
    assert plain.step == 2 and normed.step == 1 and math.isfinite(normed.history[0]["train_loss"])


def test_the_issues_one_row_last_batch_on_digits_trains():
    """Issue 18: batch_size 1078 on digits' 1,079 training rows crashed under batch norm."""
    spec = load_spec({"data": {"dataset": "digits"}, "model": {"hidden": [16], "batch_norm": True},
                      "train": {"batch_size": 1078, "epochs": 2}})
    trial = Experiment.from_spec(spec)
    assert trial.bundle.n_train == 1079
    state = trial.fit(record_health=False)
    assert state.step == 2 and all(math.isfinite(row["train_loss"]) for row in state.history)


def test_events_fire_in_the_declared_order():
    recorder = Recorder()
    run_fit({"train.epochs": 1, "train.batch_size": "full"}, callbacks=[recorder])
    assert recorder.events == ["fit_start", "epoch_start", "batch_start", "after_forward", "after_backward",
                               "after_step", "batch_end", "epoch_end", "fit_end"]


def test_a_callback_can_stop_training():
    class StopAfterTwo(Callback):
        def on_epoch_end(self, state):
            if len(state.history) == 2:
                state.stop("enough")
    state = run_fit({"train.epochs": 10}, callbacks=[StopAfterTwo()])
    assert len(state.history) == 2 and state.stop_reason == "enough"


def test_a_callback_can_stop_training_after_the_current_batch():
    class StopAtStepThree(Callback):
        def on_batch_end(self, state):
            if state.step == 3:
                state.stop("now", at_once=True)
    state = run_fit({"train.epochs": 10}, callbacks=[StopAtStepThree()])
    assert state.step == 3 and state.history == [] and state.stop_reason == "now"


def test_divergence_stops_at_once_and_restores_the_last_finite_weights():
    trial = experiment({"train.optimizer": "sgd", "train.learning_rate": 5.0, "train.epochs": 30,
                        "model.activation": "relu", "data.standardize": False}, regression=True)
    state = trial.fit(record_health=False)
    assert state.diverged and "diverged" in state.stop_reason
    assert len(state.history) < 30
    assert all(math.isfinite(row["train_loss"]) for row in state.history)
    assert all(torch.isfinite(p).all() for p in trial.model.parameters())


def test_gradient_clipping_bounds_the_update():
    clipped = experiment({"train.optimizer": "sgd", "train.learning_rate": 1.0, "train.grad_clip": 0.01,
                          "train.epochs": 1, "train.batch_size": "full"})
    before = [p.detach().clone() for p in clipped.model.parameters()]
    clipped.fit(record_health=False)
    step = torch.sqrt(sum(((p - b) ** 2).sum() for p, b in zip(clipped.model.parameters(), before)))
    assert float(step.detach()) <= 0.01 + 1e-6


def test_l1_drives_weights_towards_zero():
    plain, sparse = experiment({"train.epochs": 20}), experiment({"train.epochs": 20, "train.l1": 0.05})
    plain.fit(record_health=False)
    sparse.fit(record_health=False)
    size = lambda e: float(e.model.linear_layers()[0].weight.detach().abs().sum())  # noqa: E731
    assert size(sparse) < 0.7 * size(plain)


def test_augmentation_noise_changes_training_but_stays_reproducible():
    a = run_fit({"data.augment_noise": 0.5}).history
    b = run_fit({"data.augment_noise": 0.5}).history
    c = run_fit({}).history
    assert [r["train_loss"] for r in a] == [r["train_loss"] for r in b]
    assert [r["train_loss"] for r in a] != [r["train_loss"] for r in c]


def test_running_train_metrics_average_the_epoch_batches_and_full_rescores():
    running = run_fit({"train.batch_size": "full", "train.epochs": 1}).history[0]
    full = run_fit({"train.batch_size": "full", "train.epochs": 1, "train.train_metrics": "full"}).history[0]
    fresh = experiment({})
    initial = fresh.score(["train"])["train"]["loss"]  # one full batch: the running loss is the loss before the step
    assert abs(running["train_loss"] - initial) < 1e-6
    assert full["train_loss"] < running["train_loss"]  # re-scored after the step
    assert running["dev_loss"] == full["dev_loss"]


def test_dev_is_scored_every_n_epochs_and_carried_forward_between():
    history = run_fit({"train.epochs": 7, "train.eval_every": 3}).history
    dev = [row["dev_loss"] for row in history]
    assert dev[0] == dev[1] and dev[2] != dev[1]  # scored at epochs 1, 3, 6 and the last (7)
    assert dev[3] == dev[4] == dev[2] and dev[5] != dev[4] and dev[6] != dev[5]
    assert len({row["train_loss"] for row in history}) == 7  # train metrics every epoch


def test_a_non_finite_dev_loss_or_weights_count_as_divergence():
    class PoisonAfterEpochTwo(Callback):
        def on_epoch_start(self, state):
            if state.epoch == 3:  # epochs count from 1, as metrics["epoch"]
                with torch.no_grad():
                    state.model.output.bias.fill_(float("inf"))
    trial = experiment({"train.epochs": 6})
    state = trial.fit([PoisonAfterEpochTwo()], record_health=False)
    assert state.diverged and len(state.history) == 2 and state.kept_epoch == 2
    assert all(torch.isfinite(p).all() for p in trial.model.parameters())


class PauseEvery(Callback):
    """Pauses the epoch after every ``every``-th step (as the playground pauses for a frame)."""

    def __init__(self, every: int):
        self.every = every

    def on_batch_end(self, state):
        if state.step % self.every == 0:
            state.pause_epoch()


def test_paused_epochs_are_bit_identical_to_whole_ones():
    overrides = {"train.epochs": 3, "data.augment_noise": 0.1, "model.dropout": 0.2, "train.l1": 0.01}
    whole = experiment(overrides)
    whole.fit(record_health=False)
    paused = experiment(overrides)
    calls, unfinished = 0, 0
    with paused.training():
        paused.begin([PauseEvery(3)], record_health=False)
        while len(paused.state.history) < 3:
            assert paused.run_epoch()  # a pause is not a stop
            calls += 1
            unfinished += paused.state.mid_epoch
        paused.end()
    assert unfinished > 0 and calls == 3 + unfinished and not paused.state.pause
    assert paused.state.step == whole.state.step
    for a, b in zip(paused.state.history, whole.state.history):
        assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}
    for a, b in zip(paused.model.parameters(), whole.model.parameters()):
        assert torch.equal(a, b)
