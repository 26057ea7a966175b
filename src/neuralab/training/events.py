"""The training loop's events, the callback base class and the state callbacks see.

Events, in order: ``fit_start → epoch_start → batch_start → after_forward →
after_backward → after_step → batch_end → epoch_end (metrics ready) → fit_end``, plus
``diverged``. A callback overrides ``on_<event>(state)`` for the events it needs; the
loop fires only events some callback listens to, so unused batch events cost nothing.

Example:
    >>> from neuralab.training.events import Callback, CallbackList
    >>> class Count(Callback):
    ...     def __init__(self): self.epochs = 0
    ...     def on_epoch_end(self, state): self.epochs += 1
    >>> CallbackList([Count()]).listens("batch_end")
    False
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

EVENTS = ("fit_start", "epoch_start", "batch_start", "after_forward", "after_backward",
          "after_step", "batch_end", "epoch_end", "fit_end", "diverged")


@dataclass
class TrainingState:
    """What the loop shares with callbacks. Callbacks may set ``stop_training``.

    Its learning rate is owned by ``rate`` (:class:`~neuralab.training.rate.LearningRate`);
    ``generator`` is the batches stream (row order and augmentation noise).
    """

    model: nn.Module
    optimizer: torch.optim.Optimizer
    rate: Any  # LearningRate: the one owner of the learning rate
    spec: Any  # ExperimentSpec
    generator: torch.Generator | None = None  # the batches stream: row order and augmentation noise
    head: Any = None  # Head: task, output activation and loss (what a callback's own loss computation needs)
    health_every: int = 0  # optimiser steps between the doctor's health samples (rules.health_interval); 0: none
    epoch: int = 0  # the current epoch, counted from 1 as metrics["epoch"] and every message (0 before the first)
    step: int = 0  # optimiser steps taken so far
    inputs: Tensor | None = None  # current batch (batch, n_inputs)
    targets: Tensor | None = None  # current batch (batch,)
    loss: Tensor | None = None  # current batch loss (scalar)
    metrics: dict[str, float] = field(default_factory=dict)  # last finished epoch
    history: list[dict[str, float]] = field(default_factory=list)
    stop_training: bool = False
    stop_at_once: bool = False  # stop after the current batch, not at the end of the epoch
    stop_reason: str = ""
    diverged: bool = False
    rollbacks: int = 0  # divergence rollbacks so far (train.on_divergence: rollback)
    best_epoch: int | None = None  # 1-based epoch of the best monitored dev score (early stopping)
    kept_epoch: int | None = None  # 1-based epoch whose weights the model holds at the end
    interrupted: str = ""  # name of the signal (SIGINT, SIGTERM) that stopped training, if any
    pause: bool = False  # asked to pause between two batches (a caller's request, not a stop: see pause_epoch)
    batch_index: int = 0  # batches of the current epoch done (where a resumed epoch continues)
    epoch_order: Tensor | None = None  # the current epoch's row order (batch_index > 0 resumes it)
    epoch_totals: tuple[Tensor, ...] | None = None  # the current epoch's running (loss sum, errors, clipped steps)
    l1_dead: list[Tensor] | None = None  # TF Playground's L1: per weight matrix, the weights set to 0 for good
    callbacks: list[Any] = field(default_factory=list)  # the callbacks of this fit, in firing order
    parallel: Any = None  # DataParallel when several processes train this model together (training/distributed.py)

    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    @property
    def mid_epoch(self) -> bool:
        """True while an epoch is unfinished: paused (or interrupted) between two of its batches."""
        return self.batch_index > 0 and self.epoch_order is not None

    def pause_epoch(self) -> None:
        """Ask the loop to pause after the current batch. Unlike an interrupt this is no stop:
        ``run_epoch`` returns True with the epoch unfinished (:attr:`mid_epoch`), and the next
        ``run_epoch`` goes on from the next batch, bit for bit as if the epoch had not paused."""
        self.pause = True

    def stop(self, reason: str, *, at_once: bool = False) -> None:
        """Ask the loop to stop at the end of the epoch (or, ``at_once``, after this batch), recording why."""
        self.stop_training = True
        self.stop_at_once = self.stop_at_once or at_once
        self.stop_reason = self.stop_reason or reason


BATCH_EVENTS = ("batch_start", "after_forward", "after_backward", "after_step", "batch_end")


class Callback:
    """Base class: override ``on_<event>(state)`` for any of :data:`EVENTS`.

    A callback that only needs the batch events every N steps (a sampler) sets
    ``batch_every = N``: the loop then skips dispatching them on steps where no callback
    wants them (on a small network the dispatch alone costs a few per cent). Handlers must
    still check the step themselves when other callbacks make the loop fire every step.
    """

    batch_every: int = 1  # the batch events are due on steps (0-based) divisible by this


class CallbackList:
    """Dispatches events to the callbacks that override them, in the order given."""

    def __init__(self, callbacks: Iterable[Callback]):
        self.callbacks = list(callbacks)
        self._handlers = {
            event: [getattr(cb, f"on_{event}") for cb in self.callbacks if hasattr(cb, f"on_{event}")]
            for event in EVENTS
        }
        self._batch_callbacks = [cb for cb in self.callbacks
                                 if any(hasattr(cb, f"on_{event}") for event in BATCH_EVENTS)]

    def batch_due(self, step: int) -> bool:
        """True when some callback wants the batch events of optimiser step ``step`` (0-based)."""
        return any(step % getattr(cb, "batch_every", 1) == 0 for cb in self._batch_callbacks)

    def listens(self, event: str) -> bool:
        """True when some callback handles ``event``."""
        return bool(self._handlers[event])

    def fire(self, event: str, state: TrainingState) -> None:
        for handler in self._handlers[event]:
            handler(state)
