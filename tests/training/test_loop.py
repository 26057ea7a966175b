"""The training loop: batches, events, divergence, clipping, L1, augmentation."""
from __future__ import annotations

import math

import torch

from neuralab.spec import load_spec
from neuralab.training import Callback, fit, make_head


def problem(n: int = 64, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=generator)
    y = (x[:, 0] * x[:, 1] > 0).long()  # xor of signs
    return x, y


def net(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))


def run_fit(overrides: dict, *, callbacks=(), model=None):
    spec = load_spec({"train": {"epochs": 5, "batch_size": 8, "learning_rate": 0.05}}, overrides=overrides)
    x, y = problem()
    return fit(model or net(), make_head(task="binary", n_classes=2), spec, train=(x, y), dev=(x, y),
               callbacks=callbacks)


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
    assert run_fit({"train.batch_size": 1, "train.epochs": 1}).step == 64  # stochastic gradient descent
    assert run_fit({"train.batch_size": 10, "train.epochs": 1}).step == 7  # mini-batches, last one short


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


def test_divergence_stops_at_once_and_restores_the_last_finite_weights():
    spec = load_spec({"train": {"optimizer": "sgd", "learning_rate": 5.0, "epochs": 30, "batch_size": 8}})
    x, _ = problem()
    y = 100 * (x[:, 0] + x[:, 1])  # a regression target far from the start: huge gradients
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    state = fit(model, make_head(task="regression", n_classes=2), spec, train=(x, y), dev=(x, y))
    assert state.diverged and "diverged" in state.stop_reason
    assert len(state.history) < 30
    assert all(math.isfinite(row["train_loss"]) for row in state.history)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_gradient_clipping_bounds_the_update():
    clipped = net()
    before = [p.detach().clone() for p in clipped.parameters()]
    run_fit({"train.optimizer": "sgd", "train.learning_rate": 1.0, "train.grad_clip": 0.01,
             "train.epochs": 1, "train.batch_size": "full"}, model=clipped)
    step = torch.sqrt(sum(((p - b) ** 2).sum() for p, b in zip(clipped.parameters(), before)))
    assert float(step.detach()) <= 0.01 + 1e-6


def test_l1_drives_weights_towards_zero():
    plain, sparse = net(), net()
    run_fit({"train.epochs": 20}, model=plain)
    run_fit({"train.epochs": 20, "train.l1": 0.05}, model=sparse)
    assert float(sparse[0].weight.detach().abs().sum()) < 0.7 * float(plain[0].weight.detach().abs().sum())


def test_augmentation_noise_changes_training_but_stays_reproducible():
    a = run_fit({"data.augment_noise": 0.5}).history
    b = run_fit({"data.augment_noise": 0.5}).history
    c = run_fit({}).history
    assert [r["train_loss"] for r in a] == [r["train_loss"] for r in b]
    assert [r["train_loss"] for r in a] != [r["train_loss"] for r in c]


def test_running_train_metrics_average_the_epoch_batches_and_full_rescores():
    running = run_fit({"train.batch_size": "full", "train.epochs": 1}).history[0]
    full = run_fit({"train.batch_size": "full", "train.epochs": 1, "train.train_metrics": "full"}).history[0]
    x, y = problem()
    head = make_head(task="binary", n_classes=2)
    initial = float(head.compute_loss(net()(x), y).detach())  # one full batch: the running loss is the loss before the step
    assert abs(running["train_loss"] - initial) < 1e-6
    assert full["train_loss"] < running["train_loss"]  # re-scored after the step
    assert running["dev_loss"] == full["dev_loss"]


def test_dev_is_scored_every_n_epochs_and_carried_forward_between():
    history = run_fit({"train.epochs": 7, "train.eval_every": 3}).history
    dev = [row["dev_loss"] for row in history]
    assert dev[0] == dev[1] and dev[2] != dev[1]  # scored at epochs 1, 3, 6 and the last (7)
    assert dev[3] == dev[4] == dev[2] and dev[5] != dev[4] and dev[6] != dev[5]
    assert len({row["train_loss"] for row in history}) == 7  # train metrics every epoch
