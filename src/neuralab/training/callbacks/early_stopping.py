"""Stop when the dev metric has not improved for ``patience`` epochs; restore the best weights.

Example:
    >>> from neuralab.spec import EarlyStoppingSpec
    >>> from neuralab.training.callbacks import EarlyStopping
    >>> EarlyStopping(EarlyStoppingSpec(patience=3)).patience
    3
"""
from __future__ import annotations

from typing import Any

import torch

from neuralab.spec import EarlyStoppingSpec
from neuralab.training.callbacks.divergence import snapshot
from neuralab.training.events import Callback, TrainingState


class EarlyStopping(Callback):
    """Watches ``monitor`` (dev_loss or dev_error); a drop of more than ``min_delta`` is progress.

    Args:
        settings: patience (epochs), min_delta, restore_best, monitor.
    """

    def __init__(self, settings: EarlyStoppingSpec):
        self.patience = settings.patience
        self.min_delta = settings.min_delta
        self.restore_best = settings.restore_best
        self.monitor = settings.monitor
        self.best_value = float("inf")
        self.best_epoch = 0
        self.best_weights: dict[str, torch.Tensor] | None = None

    def judge(self, metrics: dict[str, float], epoch: int) -> str:
        """Record epoch ``epoch``'s (1-based) metrics: ``"improved"``, ``"stop"`` or ``"wait"``.

        The population trainer calls this for each of its models, so both paths share one rule.
        """
        value = metrics[self.monitor]
        if value < self.best_value - self.min_delta:
            self.best_value, self.best_epoch = value, epoch
            return "improved"
        return "stop" if epoch - self.best_epoch >= self.patience else "wait"

    def reason(self) -> str:
        """Why training stopped, for ``stop_reason``."""
        return (f"early stopping: {self.monitor} has not improved for {self.patience} epochs "
                f"(best {self.best_value:.4g} at epoch {self.best_epoch})")

    def on_epoch_end(self, state: TrainingState) -> None:
        verdict = self.judge(state.metrics, len(state.history))
        if verdict == "improved" and self.restore_best:
            self.best_weights = snapshot(state.model)
        elif verdict == "stop":
            state.stop(self.reason())

    def on_fit_end(self, state: TrainingState) -> None:
        if state.interrupted or not self.best_epoch:
            return  # interrupted: the run is not over, a resume continues from the current weights
        state.best_epoch = self.best_epoch
        if state.diverged:
            return  # the divergence guard has put back the last finite weights
        if self.restore_best and self.best_weights is not None:
            state.model.load_state_dict(self.best_weights)
            state.kept_epoch = self.best_epoch

    def checkpoint_state(self) -> dict[str, Any]:
        """What a checkpoint keeps: the best value and epoch so far, and that epoch's weights."""
        return {"best_value": self.best_value, "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def load_checkpoint_state(self, saved: dict[str, Any]) -> None:
        self.best_value, self.best_epoch = saved["best_value"], saved["best_epoch"]
        self.best_weights = saved["best_weights"]
