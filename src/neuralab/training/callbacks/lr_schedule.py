"""Step the learning-rate schedule once per epoch, with that epoch's metrics.

Example:
    >>> from neuralab.training.callbacks import LearningRateSchedule
    >>> LearningRateSchedule()  # added to every run by default_callbacks
    LearningRateSchedule()
"""
from __future__ import annotations

from neuralab.training.events import Callback, TrainingState


class LearningRateSchedule(Callback):
    """Calls ``state.schedule.step(metrics)`` at the end of every epoch."""

    def on_epoch_end(self, state: TrainingState) -> None:
        state.schedule.step(state.metrics)

    def __repr__(self) -> str:
        return "LearningRateSchedule()"
