"""Built-in callbacks, one per module: divergence guard, learning-rate schedule, early stopping."""
from __future__ import annotations

from neuralab.training.callbacks.divergence import DivergenceGuard
from neuralab.training.callbacks.early_stopping import EarlyStopping
from neuralab.training.callbacks.lr_schedule import LearningRateSchedule
from neuralab.training.events import Callback


def default_callbacks(spec) -> list[Callback]:
    """The callbacks every run has, in firing order, as the spec configures them."""
    callbacks: list[Callback] = [
        DivergenceGuard(on_divergence=spec.train.on_divergence, max_rollbacks=spec.train.max_rollbacks),
        LearningRateSchedule(),
    ]
    if spec.train.early_stopping.patience is not None:
        callbacks.append(EarlyStopping(spec.train.early_stopping))
    return callbacks


__all__ = ["DivergenceGuard", "EarlyStopping", "LearningRateSchedule", "default_callbacks"]
