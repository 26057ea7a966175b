"""Advance the learning rate once per epoch and write it into the optimiser.

The run's :class:`~neuralab.training.rate.LearningRate` computes the next rate from the
finished epoch's metrics; :func:`~neuralab.training.rate.write_rate` puts it in place.

Example:
    >>> from neuralab.training.callbacks import LearningRateSchedule
    >>> LearningRateSchedule()  # added to every run by default_callbacks
    LearningRateSchedule()
"""
from __future__ import annotations

from neuralab.training.events import Callback, TrainingState
from neuralab.training.rate import write_rate


class LearningRateSchedule(Callback):
    """Writes the rate at the start of training, then steps it at the end of every epoch."""

    def on_fit_start(self, state: TrainingState) -> None:
        write_rate(state.optimizer, state.rate.value)

    def on_epoch_end(self, state: TrainingState) -> None:
        state.rate.end_epoch(state.metrics)
        write_rate(state.optimizer, state.rate.value)

    def __repr__(self) -> str:
        return "LearningRateSchedule()"
