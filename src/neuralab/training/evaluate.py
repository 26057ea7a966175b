"""Scoring a model on a split: loss and error (plus RMSE and R² for regression).

"error" is the misclassification rate for classification and the loss for regression.

Example:
    >>> import torch
    >>> from neuralab.training.losses import Head
    >>> from neuralab.training.evaluate import evaluate_split
    >>> head = Head(task="binary", output_activation="sigmoid", loss="bce", n_outputs=1)
    >>> model = torch.nn.Linear(1, 1)
    >>> sorted(evaluate_split(model, head, torch.ones(4, 1), torch.tensor([0, 1, 1, 0])))
    ['error', 'loss']
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from neuralab.models.eval_mode import evaluation_mode
from neuralab.training.losses import Head


@torch.no_grad()
def scores_of(model: nn.Module, inputs: Tensor, *, chunk: int = 65536) -> Tensor:
    """Raw output scores (n, n_outputs) — (n, T, n_outputs) at every step — in eval mode, in chunks of
    about ``chunk`` rows (sequences: ``chunk`` time steps) to bound memory."""
    rows = chunk if inputs.dim() == 2 and inputs.is_floating_point() else max(1, chunk // max(1, inputs.shape[1]))
    with evaluation_mode(model):
        parts = [model(inputs[i:i + rows]) for i in range(0, len(inputs), rows)]
    return torch.cat(parts) if parts else inputs.new_zeros((0, 1))


def evaluate_split(model: nn.Module, head: Head, inputs: Tensor, targets: Tensor, *,
                   target_scale: float = 1.0) -> dict[str, float]:
    """Loss and error of ``model`` on one split.

    Args:
        model: the network (put in eval mode for the pass, then restored).
        head: task, output activation and loss.
        inputs: (n, n_inputs) float tensor; targets: (n,) class indices or values.
        target_scale: std of the regression target, to report RMSE in original units (default 1).

    Returns:
        ``{"loss", "error"}``, plus ``{"rmse", "r2"}`` for regression.
    """
    if len(inputs) == 0:
        return {"loss": float("nan"), "error": float("nan")}
    return score_metrics(head, scores_of(model, inputs), targets, target_scale=target_scale)


@torch.no_grad()
def score_metrics(head: Head, scores: Tensor, targets: Tensor, *, target_scale: float = 1.0) -> dict[str, float]:
    """Loss and error (+ RMSE and R² for regression) of raw scores (n, …, n_outputs) against targets (n, …)."""
    loss = float(head.compute_loss(scores, targets))
    if head.is_classifier:
        return {"loss": loss, "error": float((head.predict(scores) != targets).double().mean())}
    prediction = head.predict(scores).double()
    residual = ((prediction - targets.double()) ** 2).mean()
    variance = targets.double().var(unbiased=False)
    r2 = float(1 - residual / variance) if float(variance) > 0 else float("nan")
    return {"loss": loss, "error": loss, "rmse": float(residual.sqrt()) * target_scale, "r2": r2}
