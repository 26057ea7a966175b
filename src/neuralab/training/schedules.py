"""Learning-rate schedules by name; time ``t`` counts finished epochs.

Every schedule but one comes from ``torch.optim.lr_scheduler``. The bold driver (grow the
rate while the loss falls, cut it when the loss rises) is neuralab's own: torch's
schedulers refuse a factor above 1. All are stepped once per epoch with that epoch's
metrics, through one small interface (:class:`Schedule`).

Example:
    >>> import torch
    >>> from neuralab.spec import TrainSpec
    >>> from neuralab.training.schedules import build_schedule
    >>> optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    >>> schedule = build_schedule(optimizer, TrainSpec(learning_rate=1.0, schedule={"name": "time_based", "decay": 1.0}))
    >>> optimizer.step(); schedule.step({"train_loss": 1.0, "dev_loss": 1.0}); optimizer.param_groups[0]["lr"]
    0.5
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch.optim import lr_scheduler

from neuralab.spec import ScheduleSpec, TrainSpec


class Schedule:
    """One interface over torch's schedulers: ``step(metrics)`` once per epoch."""

    def __init__(self, scheduler: Any, *, metric: str | None = None):
        self.scheduler = scheduler
        self.metric = metric  # metric-driven schedulers read this entry of the epoch's metrics

    def step(self, metrics: Mapping[str, float]) -> None:
        """Advance by one epoch, given the finished epoch's metrics."""
        if self.metric is None:
            self.scheduler.step()
        else:
            self.scheduler.step(metrics[self.metric])

    def state_dict(self) -> dict[str, Any]:
        return self.scheduler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict(state)

    def scale_learning_rate(self, factor: float) -> None:
        """Multiply the current rate and the schedule's base rate by ``factor`` (a divergence rollback).

        Schedules that compute the rate from a base (constant, time-based, cosine) keep the
        cut, as do those that multiply the current rate (step, exponential, plateau, bold driver).
        """
        optimizer = self.scheduler.optimizer
        for group in optimizer.param_groups:
            group["lr"] *= factor
            if "initial_lr" in group:
                group["initial_lr"] *= factor
        if hasattr(self.scheduler, "base_lrs"):
            self.scheduler.base_lrs = [rate * factor for rate in self.scheduler.base_lrs]
        if hasattr(self.scheduler, "_last_lr"):
            self.scheduler._last_lr = [group["lr"] for group in optimizer.param_groups]


class BoldDriver:
    """Multiply the rate by ``increase`` after an epoch whose loss fell, by ``decrease`` after one whose loss rose.

    Args:
        optimizer: the optimiser whose learning rate is adapted.
        increase: factor ≥ 1 applied while the loss falls (default 1.05).
        decrease: factor ≤ 1 applied when the loss rises (default 0.5).
        min_lr: lower bound of the rate (default 0).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, *, increase: float = 1.05,
                 decrease: float = 0.5, min_lr: float = 0.0):
        self.optimizer = optimizer
        self.increase, self.decrease, self.min_lr = increase, decrease, min_lr
        self.previous_loss: float | None = None

    def step(self, loss: float) -> None:
        if self.previous_loss is not None:
            factor = self.increase if loss < self.previous_loss else self.decrease
            for group in self.optimizer.param_groups:
                group["lr"] = max(group["lr"] * factor, self.min_lr)
        self.previous_loss = loss

    def state_dict(self) -> dict[str, Any]:
        return {"previous_loss": self.previous_loss,
                "learning_rates": [group["lr"] for group in self.optimizer.param_groups]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.previous_loss = state["previous_loss"]
        for group, rate in zip(self.optimizer.param_groups, state["learning_rates"]):
            group["lr"] = rate



SCHEDULES: dict[str, Callable[[torch.optim.Optimizer, ScheduleSpec, int], Schedule]] = {
    "constant": lambda o, s, epochs: Schedule(lr_scheduler.LambdaLR(o, lambda t: 1.0)),
    "linear": lambda o, s, epochs: Schedule(lr_scheduler.LinearLR(
        o, start_factor=1.0, end_factor=s.end_factor, total_iters=s.steps or epochs)),
    "step": lambda o, s, epochs: Schedule(lr_scheduler.StepLR(o, step_size=s.step_size, gamma=s.gamma or 0.5)),
    "exponential": lambda o, s, epochs: Schedule(lr_scheduler.ExponentialLR(o, gamma=s.gamma or 0.95)),
    "time_based": lambda o, s, epochs: Schedule(lr_scheduler.LambdaLR(o, lambda t, k=s.decay: 1.0 / (1.0 + k * t))),
    "cosine": lambda o, s, epochs: Schedule(lr_scheduler.CosineAnnealingLR(o, T_max=s.steps or epochs, eta_min=s.min_lr)),
    "warmup": lambda o, s, epochs: Schedule(lr_scheduler.LinearLR(
        o, start_factor=s.start_factor, end_factor=1.0, total_iters=s.steps or 5)),
    "plateau": lambda o, s, epochs: Schedule(lr_scheduler.ReduceLROnPlateau(
        o, mode="min", factor=s.factor, patience=s.patience, min_lr=s.min_lr), metric="dev_loss"),
    "bold_driver": lambda o, s, epochs: Schedule(BoldDriver(
        o, increase=s.increase, decrease=s.decrease, min_lr=s.min_lr), metric="train_loss"),
}


def build_schedule(optimizer: torch.optim.Optimizer, train: TrainSpec) -> Schedule:
    """Create the schedule named by ``train.schedule.name`` over ``train.epochs`` epochs."""
    return SCHEDULES[train.schedule.name](optimizer, train.schedule, train.epochs)
