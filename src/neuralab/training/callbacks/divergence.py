"""Keep the last finite weights, and put them back when the loss becomes NaN or inf.

Example:
    >>> from neuralab.training.callbacks import DivergenceGuard
    >>> guard = DivergenceGuard()  # added to every run by default_callbacks
"""
from __future__ import annotations

import torch

from neuralab.training.events import Callback, TrainingState


def snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of the model's state (weights, biases, batch-norm statistics)."""
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


class DivergenceGuard(Callback):
    """Snapshots the weights after each finite epoch; on divergence restores them."""

    def __init__(self) -> None:
        self.last_finite: dict[str, torch.Tensor] | None = None
        self.last_finite_epoch = 0

    def on_fit_start(self, state: TrainingState) -> None:
        self.last_finite = snapshot(state.model)
        self.last_finite_epoch = len(state.history)

    def on_epoch_end(self, state: TrainingState) -> None:
        self.last_finite = snapshot(state.model)
        self.last_finite_epoch = len(state.history)

    def on_diverged(self, state: TrainingState) -> None:
        if self.last_finite is not None:
            state.model.load_state_dict(self.last_finite)
        state.best_epoch = self.last_finite_epoch or None
