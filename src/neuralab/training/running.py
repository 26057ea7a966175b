"""An epoch's running train metrics (loss sum, misclassified rows) at almost no cost per step.

On small networks every tensor operation of a step costs as much as a layer's matrix
product (a few microseconds of dispatch), so the training loop must not spend four
operations per step on bookkeeping. On the CPU the loss is read as a number and summed
in Python (a read costs nothing there); each step's detached scores and targets are kept
by reference, and every ``FOLD_EVERY`` steps they are folded into the error count with a
handful of operations for the whole group.

Divergence is checked on the loss itself: on the CPU reading a scalar is free, so every
step's loss is checked and a NaN/inf stops the run at that step; on a GPU a read is a
device synchronisation, so the folded sum is checked every ``CUDA_CHECK_EVERY`` steps
(a NaN/inf in any batch makes the sum NaN/inf).

Example:
    >>> import torch
    >>> totals = RunningTotals(device=torch.device("cpu"), predict=lambda s: s.argmax(dim=1))
    >>> scores, targets = torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0])
    >>> totals.add(torch.tensor(0.5), scores, targets)
    True
    >>> [float(t) for t in totals.fold()]
    [1.0, 1.0, 0.0]
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

FOLD_EVERY = 64  # steps between folds of the error count: bounds the scores kept alive to 64 batches
CUDA_CHECK_EVERY = 50  # steps between divergence checks on a GPU (each is a device sync)


class RunningTotals:
    """Sum of batch losses (weighted by rows), misclassified predictions and clipped steps over an epoch.

    Args:
        device: where the totals live (the training tensors' device).
        predict: scores (batch, n_outputs) → predicted classes (batch,); None for regression
            (no error count).
        totals: (loss sum, errors, clipped steps) to continue from (a resumed epoch); zeros when None.
    """

    def __init__(self, *, device: torch.device, predict: Callable[[Tensor], Tensor] | None,
                 totals: tuple[Tensor, ...] | None = None):
        # float64: the sum must not depend on when it was folded, or a resumed epoch would differ
        zeros = (torch.zeros((), dtype=torch.float64, device=device), torch.zeros((), dtype=torch.long, device=device),
                 torch.zeros((), dtype=torch.long, device=device))
        self.loss_sum, self.wrong, self.clipped = (*totals, *zeros[len(totals):]) if totals is not None else zeros
        self.predict = predict
        self.on_cpu = device.type == "cpu"
        self._loss_total = self.loss_sum.item() if self.on_cpu else 0.0  # CPU: summed in Python, step by step
        self._scores: list[Tensor] = []  # (batch, n_outputs) per step since the last fold
        self._targets: list[Tensor] = []  # (batch,) per step since the last fold
        self._steps = 0

    def add(self, loss: Tensor, scores: Tensor, targets: Tensor, *, rows: int | None = None) -> bool:
        """Record one batch (``rows`` rows, default ``len(targets)``: on several processes the loss is
        the whole batch's, the scores this process's); returns False when the run has diverged."""
        rows = len(targets) if rows is None else rows
        self._steps += 1
        finite = True
        if self.on_cpu:
            value = loss.item()  # free on the CPU, and lets every step be checked
            self._loss_total += value * rows
            finite = math.isfinite(value)
        else:  # stays on the device: no sync
            self.loss_sum.add_(loss.detach(), alpha=rows)
        if self.predict is not None:
            self._scores.append(scores.detach())
            self._targets.append(targets)
            if len(self._scores) >= FOLD_EVERY:
                self.fold()
        if not self.on_cpu and self._steps % CUDA_CHECK_EVERY == 0:
            finite = bool(torch.isfinite(self.loss_sum))
        return finite

    def add_clipped(self, clipped: Tensor | None) -> None:
        """Count a step whose gradient was clipped (``clipped``: 0-d bool from the clipping rule; None: off)."""
        if clipped is not None:
            self.clipped.add_(clipped)

    def fold(self) -> tuple[Tensor, Tensor, Tensor]:
        """Fold the pending steps into the totals and return (loss sum, errors, clipped steps) tensors."""
        if self.on_cpu:
            self.loss_sum.fill_(self._loss_total)
        if self._scores:
            predicted = self.predict(torch.cat(self._scores))  # (rows since the last fold,)
            self.wrong.add_((predicted != torch.cat(self._targets)).sum())
            self._scores.clear()
            self._targets.clear()
        return self.loss_sum, self.wrong, self.clipped
