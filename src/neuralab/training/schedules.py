"""Learning-rate schedules by name; time ``t`` counts finished epochs.

Every schedule but one comes from ``torch.optim.lr_scheduler``; the bold driver (grow the
rate while the loss falls, cut it when the loss rises) is neuralab's own, since torch's
schedulers refuse a factor above 1. A schedule only *computes* the rate: it drives a
parameter-less optimiser of its own, and :class:`neuralab.training.rate.LearningRate` —
the one owner of a run's rate — reads it from there, bounds it and writes it into the
real optimiser. All are stepped once per epoch with that epoch's metrics.

Two choices make the schedules mean what the field reference says:

* ``cosine`` falls from the initial rate to ``min_lr`` over ``steps`` epochs and then stays
  at ``min_lr`` (torch's ``CosineAnnealingLR`` alone would climb back up after ``steps``);
* ``plateau`` cuts after ``patience`` epochs without improvement, as early stopping stops
  after ``patience`` such epochs (torch counts ``patience`` + 1; an improvement is any drop).

Example:
    >>> import torch
    >>> from neuralab.spec import TrainSpec
    >>> shadow = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    >>> schedule = build_schedule(shadow, TrainSpec(learning_rate=1.0, schedule={"name": "time_based", "decay": 1.0}))
    >>> shadow.step(); schedule.step({"train_loss": 1.0, "dev_loss": 1.0}); shadow.param_groups[0]["lr"]
    0.5
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch.optim import lr_scheduler

from neuralab.spec import ScheduleSpec, TrainSpec, catalog
from neuralab.spec.fields import MAX_LEARNING_RATE


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


class BoldDriver:
    """Multiply the rate by ``increase`` after an epoch whose loss fell, by ``decrease`` after one whose loss rose.

    The rate stays within [``min_lr``, ``max_lr``]. Unlike Battiti's original, the step of an
    epoch whose loss rose is kept (only the rate changes): the next epoch starts from it.

    Args:
        optimizer: the optimiser whose learning rate is adapted.
        increase: factor ≥ 1 applied while the loss falls (default 1.05).
        decrease: factor ≤ 1 applied when the loss rises (default 0.5).
        min_lr, max_lr: bounds of the rate (default 0 and neuralab's largest rate, 10).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, *, increase: float = 1.05, decrease: float = 0.5,
                 min_lr: float = 0.0, max_lr: float = MAX_LEARNING_RATE):
        self.optimizer = optimizer
        self.increase, self.decrease, self.min_lr, self.max_lr = increase, decrease, min_lr, max_lr
        self.previous_loss: float | None = None

    def step(self, loss: float) -> None:
        if self.previous_loss is not None:
            factor = self.increase if loss < self.previous_loss else self.decrease
            for group in self.optimizer.param_groups:
                group["lr"] = min(max(group["lr"] * factor, self.min_lr), self.max_lr)
        self.previous_loss = loss

    def state_dict(self) -> dict[str, Any]:
        return {"previous_loss": self.previous_loss}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.previous_loss = state["previous_loss"]


def _cosine(lr0: float, s: ScheduleSpec, epochs: int) -> Callable[[int], float]:
    span = s.steps or epochs

    def factor(t: int) -> float:  # min_lr + (lr0 − min_lr)(1 + cos(π·min(t, span)/span))/2, over lr0
        return (s.min_lr + (lr0 - s.min_lr) * (1 + math.cos(math.pi * min(t, span) / span)) / 2) / lr0
    return factor


def _lambda(factor: Callable[[int], float]) -> Callable[[torch.optim.Optimizer, ScheduleSpec, int, float], Schedule]:
    return lambda o, s, epochs, lr0: Schedule(lr_scheduler.LambdaLR(o, factor))


def _watched(name: str) -> str:
    """The metric an adaptive schedule watches (the catalog's ``watches`` property)."""
    return catalog.SCHEDULES[name].properties["watches"]


SCHEDULES: dict[str, Callable[[torch.optim.Optimizer, ScheduleSpec, int, float], Schedule]] = {
    "constant": _lambda(lambda t: 1.0),
    "linear": lambda o, s, epochs, lr0: Schedule(lr_scheduler.LinearLR(
        o, start_factor=1.0, end_factor=s.end_factor, total_iters=s.steps or epochs)),
    "step": lambda o, s, epochs, lr0: Schedule(lr_scheduler.StepLR(o, step_size=s.step_size, gamma=s.gamma or 0.5)),
    "exponential": lambda o, s, epochs, lr0: Schedule(lr_scheduler.ExponentialLR(o, gamma=s.gamma or 0.95)),
    "time_based": lambda o, s, epochs, lr0: Schedule(lr_scheduler.LambdaLR(o, lambda t, k=s.decay: 1.0 / (1.0 + k * t))),
    "cosine": lambda o, s, epochs, lr0: Schedule(lr_scheduler.LambdaLR(o, _cosine(lr0, s, epochs))),
    "warmup": lambda o, s, epochs, lr0: Schedule(lr_scheduler.LinearLR(
        o, start_factor=s.start_factor, end_factor=1.0, total_iters=s.steps or 5)),
    "plateau": lambda o, s, epochs, lr0: Schedule(lr_scheduler.ReduceLROnPlateau(
        o, mode="min", factor=s.factor, patience=s.patience - 1, threshold=0.0, threshold_mode="abs",
        min_lr=s.min_lr), metric=_watched("plateau")),
    "bold_driver": lambda o, s, epochs, lr0: Schedule(BoldDriver(
        o, increase=s.increase, decrease=s.decrease, min_lr=s.min_lr), metric=_watched("bold_driver")),
}


def build_schedule(optimizer: torch.optim.Optimizer, train: TrainSpec) -> Schedule:
    """Create the schedule named by ``train.schedule.name`` over ``train.epochs`` epochs, driving ``optimizer``."""
    return SCHEDULES[train.schedule.name](optimizer, train.schedule, train.epochs, train.learning_rate)
