"""Each schedule's learning rate at given epochs matches its formula."""
from __future__ import annotations

import math

import pytest
import torch

from neuralab.spec.catalog import names
from neuralab.spec import TrainSpec
from neuralab.training.schedules import build_schedule

LR0 = 0.1


def rates(schedule: dict, *, epochs: int = 30, losses=None) -> list[float]:
    """Learning rate used in each of ``epochs`` epochs (metrics from ``losses`` if given)."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR0)
    plan = build_schedule(optimizer, TrainSpec(learning_rate=LR0, epochs=epochs, schedule=schedule))
    used = []
    for epoch in range(epochs):
        used.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        loss = losses[epoch] if losses else 1.0
        plan.step({"train_loss": loss, "dev_loss": loss})
    return used


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_constant():
    assert all(close(r, LR0) for r in rates({"name": "constant"}))


def test_linear_decays_then_stays_constant():
    used = rates({"name": "linear", "steps": 10, "end_factor": 0.1})
    for t in (0, 3, 7, 10, 20):
        assert close(used[t], LR0 * (1 + (0.1 - 1) * min(t, 10) / 10))


def test_step():
    used = rates({"name": "step", "step_size": 4, "gamma": 0.5})
    for t in (0, 3, 4, 9, 17):
        assert close(used[t], LR0 * 0.5 ** (t // 4))


def test_exponential_default_gamma():
    used = rates({"name": "exponential"})
    for t in (0, 1, 12):
        assert close(used[t], LR0 * 0.95 ** t)


def test_time_based():
    used = rates({"name": "time_based", "decay": 0.5})
    for t in (0, 1, 5, 29):
        assert close(used[t], LR0 / (1 + 0.5 * t))


def test_cosine_over_all_epochs_by_default():
    used = rates({"name": "cosine", "min_lr": 0.001}, epochs=20)
    for t in (0, 5, 10, 19):
        assert close(used[t], 0.001 + (LR0 - 0.001) * (1 + math.cos(math.pi * t / 20)) / 2)


def test_cosine_with_fewer_steps_than_epochs_stays_at_min_lr():
    used = rates({"name": "cosine", "steps": 10, "min_lr": 0.001}, epochs=30)
    assert close(used[5], 0.001 + (LR0 - 0.001) * (1 + math.cos(math.pi * 5 / 10)) / 2)
    assert all(close(rate, 0.001) for rate in used[10:])  # torch's periodic cosine would climb back


def test_warmup_rises_then_stays():
    used = rates({"name": "warmup", "steps": 5, "start_factor": 0.2})
    for t in (0, 2, 5, 12):
        assert close(used[t], LR0 * (0.2 + 0.8 * min(t, 5) / 5))


def test_plateau_cuts_after_patience_epochs_without_dev_improvement():
    # One meaning of patience, as early stopping's: best at epoch 3, epochs 4 and 5 flat → cut.
    losses = [1.0, 0.9, 0.8] + [0.8] * 10
    used = rates({"name": "plateau", "patience": 2, "factor": 0.5}, epochs=len(losses), losses=losses)
    assert used[:5] == [LR0] * 5
    assert close(used[5], LR0 * 0.5)
    assert close(used[7], LR0 * 0.25)  # and again after two more flat epochs


def test_plateau_and_early_stopping_count_patience_alike():
    from neuralab.spec import EarlyStoppingSpec
    from neuralab.training.callbacks.early_stopping import EarlyStopping

    losses = [1.0, 0.9, 0.9, 0.9, 0.9]
    stopper = EarlyStopping(EarlyStoppingSpec(patience=3))
    verdicts = [stopper.judge({"dev_loss": loss}, epoch) for epoch, loss in enumerate(losses, start=1)]
    used = rates({"name": "plateau", "patience": 3}, epochs=len(losses), losses=losses)
    assert verdicts.index("stop") == 4  # the 3rd epoch without improvement, 1-based epoch 5
    assert used[4] == LR0 and losses[4:] and close(rates({"name": "plateau", "patience": 3}, epochs=6,
                                                         losses=losses + [0.9])[5], LR0 * 0.5)


def test_bold_driver_grows_while_loss_falls_and_cuts_when_it_rises():
    losses = [1.0, 0.9, 0.8, 1.2, 1.1]
    used = rates({"name": "bold_driver", "increase": 1.1, "decrease": 0.5}, epochs=5, losses=losses)
    assert close(used[0], LR0) and close(used[1], LR0)  # nothing to compare with after epoch 1
    assert close(used[2], LR0 * 1.1) and close(used[3], LR0 * 1.1 ** 2)
    assert close(used[4], LR0 * 1.1 ** 2 * 0.5)


@pytest.mark.parametrize("name", ["plateau", "bold_driver", "cosine"])
def test_state_round_trips_for_resume(name):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR0)
    plan = build_schedule(optimizer, TrainSpec(learning_rate=LR0, schedule={"name": name}))
    for loss in (1.0, 0.5, 0.7):
        optimizer.step()
        plan.step({"train_loss": loss, "dev_loss": loss})
    fresh_optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR0)
    fresh = build_schedule(fresh_optimizer, TrainSpec(learning_rate=LR0, schedule={"name": name}))
    fresh.load_state_dict(plan.state_dict())
    fresh_optimizer.param_groups[0]["lr"] = optimizer.param_groups[0]["lr"]
    for loss in (0.6, 0.9):
        for opt, sched in ((optimizer, plan), (fresh_optimizer, fresh)):
            opt.step()
            sched.step({"train_loss": loss, "dev_loss": loss})
    assert close(optimizer.param_groups[0]["lr"], fresh_optimizer.param_groups[0]["lr"])
