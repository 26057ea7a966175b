"""Keep the last finite state; on a NaN/inf loss stop with it, or roll back and halve the learning rate.

``train.on_divergence: stop`` (default) puts back the last finite weights and ends the
run. ``rollback`` puts back the last finite weights *and optimiser state* (Adam's moments
may be NaN by then), halves the learning rate and retries the epoch — at most
``train.max_rollbacks`` times, then stops as ``stop`` does.

Example:
    >>> from neuralab.training.callbacks import DivergenceGuard
    >>> DivergenceGuard(on_divergence="rollback", max_rollbacks=2).max_rollbacks
    2
"""
from __future__ import annotations

import copy
import logging
from typing import Any

import torch

from neuralab.training.events import Callback, TrainingState
from neuralab.training.rate import write_rate

log = logging.getLogger(__name__)


def snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of the model's state (weights, biases, batch-norm statistics)."""
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


class DivergenceGuard(Callback):
    """Snapshots the state after each finite epoch; on divergence restores it (and may retry).

    Args:
        on_divergence: ``stop`` or ``rollback`` (default ``stop``).
        max_rollbacks: retries allowed in one run with ``rollback`` (default 3).
    """

    def __init__(self, *, on_divergence: str = "stop", max_rollbacks: int = 3) -> None:
        self.on_divergence = on_divergence
        self.max_rollbacks = max_rollbacks
        self.last_finite: dict[str, torch.Tensor] | None = None
        self.last_optimizer: dict[str, Any] | None = None
        self.last_finite_epoch = 0

    def on_fit_start(self, state: TrainingState) -> None:
        self._snapshot(state)

    def on_epoch_end(self, state: TrainingState) -> None:
        self._snapshot(state)

    def _snapshot(self, state: TrainingState) -> None:
        self.last_finite = snapshot(state.model)
        self.last_finite_epoch = len(state.history)
        if self.on_divergence == "rollback":  # deep copy: the optimiser updates its tensors in place
            self.last_optimizer = copy.deepcopy(state.optimizer.state_dict())

    def on_diverged(self, state: TrainingState) -> None:
        rollbacks = state.rollbacks
        if self.on_divergence == "rollback" and rollbacks < self.max_rollbacks and self.last_optimizer is not None:
            self._roll_back(state, rollbacks + 1)
            return
        if self.last_finite is not None:
            state.model.load_state_dict(self.last_finite)
        state.kept_epoch = self.last_finite_epoch or None
        kept = f"kept the weights of epoch {self.last_finite_epoch}" if self.last_finite_epoch else "kept the initial weights"
        after = f" after {rollbacks} rollback(s)" if rollbacks else ""
        state.stop_reason = f"{state.stop_reason}{after}; {kept}"

    def _roll_back(self, state: TrainingState, count: int) -> None:
        state.model.load_state_dict(self.last_finite)
        state.optimizer.load_state_dict(copy.deepcopy(self.last_optimizer))  # a copy: keep the snapshot intact
        state.rate.scale(0.5)  # this epoch's rate and every later one, halved
        write_rate(state.optimizer, state.rate.value)
        log.warning("%s — rollback %d of %d: back to epoch %d, learning rate halved to %g", state.stop_reason,
                    count, self.max_rollbacks, self.last_finite_epoch, state.learning_rate)
        state.rollbacks = count
        state.diverged, state.stop_training, state.stop_reason = False, False, ""
        state.batch_index, state.epoch_order, state.epoch_totals = 0, None, None

    def checkpoint_state(self) -> dict[str, Any]:
        """What a checkpoint keeps: the last finite snapshot (and optimiser state for rollback)."""
        return {"last_finite": self.last_finite, "last_optimizer": self.last_optimizer,
                "last_finite_epoch": self.last_finite_epoch}

    def load_checkpoint_state(self, saved: dict[str, Any]) -> None:
        self.last_finite = saved["last_finite"]
        self.last_optimizer = saved["last_optimizer"]
        self.last_finite_epoch = saved["last_finite_epoch"]
