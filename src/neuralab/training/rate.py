"""The one owner of a run's learning rate: the schedule computes it, :func:`write_rate` puts it in place.

A :class:`LearningRate` holds the schedule (:mod:`neuralab.training.schedules`), which
drives a parameter-less optimiser of its own, and a factor that rollbacks (and the
playground's live changes) multiply. Its :attr:`~LearningRate.value` is the schedule's
rate times the factor, bounded to [0, 10]; :func:`write_rate` is the only code that writes a
rate into an optimiser. The single-model loop, each member of a population, the
learning-rate finder and the playground all go through it.

Example:
    >>> import torch
    >>> from neuralab.spec import TrainSpec
    >>> rate = LearningRate(TrainSpec(learning_rate=0.1, schedule="step", epochs=30))
    >>> rate.value
    0.1
    >>> for epoch in range(10):
    ...     rate.end_epoch({"train_loss": 1.0, "dev_loss": 1.0})
    >>> rate.value, rate.scale(0.5), rate.value
    (0.05, None, 0.025)
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from neuralab.spec import TrainSpec
from neuralab.spec.catalog import family
from neuralab.spec.fields import MAX_LEARNING_RATE
from neuralab.training.schedules import build_schedule

ADAPTIVE = family("schedules", "adaptive", "yes")  # driven by each evaluation's metrics, never by the clock


class LearningRate:
    """A run's learning rate: its schedule, stepped once per epoch (or per step), times a factor, bounded.

    A step-based run (``train.max_steps``) steps a clock-driven schedule after every
    optimiser step (:meth:`end_step`: time counts steps, as in nanoGPT's warm-up and cosine);
    a metric-driven one (plateau, bold driver) still moves once per evaluation.

    Args:
        train: the training spec (learning_rate, schedule, epochs or max_steps).
    """

    def __init__(self, train: TrainSpec):
        # torch's schedulers act on an optimiser; this one has a single unused parameter.
        self._shadow = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=train.learning_rate)
        self.schedule = build_schedule(self._shadow, train)
        self.factor = 1.0
        self.initial = train.learning_rate
        self.per_step = train.max_steps is not None and train.schedule.name not in ADAPTIVE

    @property
    def value(self) -> float:
        """The rate of the current epoch: schedule × factor, within [0, 10]."""
        return min(max(self._shadow.param_groups[0]["lr"] * self.factor, 0.0), MAX_LEARNING_RATE)

    def end_epoch(self, metrics: Mapping[str, float]) -> None:
        """Advance the schedule with the finished epoch's metrics (a per-step schedule moves in :meth:`end_step`)."""
        if not self.per_step:
            self._advance(metrics)

    def end_step(self) -> None:
        """Advance a per-step schedule by one optimiser step (see :attr:`per_step`)."""
        if self.per_step:
            self._advance({})

    def _advance(self, metrics: Mapping[str, float]) -> None:
        self._shadow.step()  # no gradients: a no-op that torch's schedulers expect before their step
        self.schedule.step(metrics)

    def scale(self, factor: float) -> None:
        """Multiply the rate from now on by ``factor`` (a rollback halves it)."""
        self.factor *= factor

    def restart_from(self, rate: float) -> None:
        """Make ``rate`` the new initial rate, keeping the schedule's shape (a live change)."""
        self.factor *= rate / self.initial
        self.initial = rate

    def state_dict(self) -> dict[str, Any]:
        return {"shadow_rate": self._shadow.param_groups[0]["lr"], "schedule": self.schedule.state_dict(),
                "factor": self.factor, "initial": self.initial}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._shadow.param_groups[0]["lr"] = float(state["shadow_rate"])
        self.schedule.load_state_dict(state["schedule"])
        self.factor, self.initial = float(state["factor"]), float(state["initial"])


def write_rate(optimizer: torch.optim.Optimizer, rate: float) -> None:
    """Set every parameter group of ``optimizer`` to ``rate``: the one writer of a learning rate."""
    for group in optimizer.param_groups:
        group["lr"] = rate
