"""Loss functions by name, and the output head that ties task, activation and loss.

The network always returns raw scores (logits). The head decides how the output
activation and the loss read them: ``softmax`` heads compare class scores, ``sigmoid``
heads one score per sample, ``linear`` heads a regression value. Cross-entropy losses use
torch's fused log-softmax/log-sigmoid forms, which stay finite where a separate
activation followed by a log would not.

Example:
    >>> import torch
    >>> from neuralab.training.losses import Head
    >>> head = Head(task="binary", output_activation="sigmoid", loss="bce", n_outputs=1)
    >>> round(float(head.compute_loss(torch.zeros(4, 1), torch.tensor([0, 1, 0, 1]))), 4)
    0.6931
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from neuralab.errors import SpecError
from neuralab.spec.catalog import family

CROSS_ENTROPY = family("losses", "family", "cross-entropy")  # computed by torch's fused log-softmax/sigmoid forms
NEEDS_CLASSES = family("losses", "task", "binary", "classification")


def _half_squared(prediction: Tensor, target: Tensor) -> Tensor:
    """½(o − t)², summed over the outputs of a point and averaged over the points (TF Playground's)."""
    # torch's fused mean squared error: two operations a step instead of four (a small network's step
    # costs what its operations cost to launch); with K outputs the sum over them is K × their mean
    return F.mse_loss(prediction, target) * (0.5 * prediction.shape[-1])


_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "softmax": lambda scores: torch.softmax(scores, dim=-1), "sigmoid": torch.sigmoid, "tanh": torch.tanh,
    "linear": lambda scores: scores,
}


def _distance(fn: Callable[[Tensor, Tensor], Tensor]) -> Callable[[Tensor, Tensor, str], Tensor]:
    def loss(scores: Tensor, targets: Tensor, mode: str) -> Tensor:
        # scores (n, K) through the output activation, against targets of the same shape (Head.loss_targets)
        return fn(_ACTIVATIONS[mode](scores), targets)
    return loss


def _cross_entropy(scores: Tensor, targets: Tensor, mode: str) -> Tensor:
    if mode == "sigmoid":  # scores (n, 1), targets 0./1. (n, 1)
        return F.binary_cross_entropy_with_logits(scores, targets)
    return F.cross_entropy(scores, targets)  # scores (n, K), class indices (n,)


def _hinge(scores: Tensor, targets: Tensor, mode: str) -> Tensor:
    if mode == "sigmoid":  # scores (n, 1), labels −1/+1 (n, 1)
        return torch.clamp(1 - targets * scores, min=0).mean()
    return F.multi_margin_loss(scores, targets)


LOSSES: dict[str, Callable[[Tensor, Tensor, str], Tensor]] = {
    "mse": _distance(F.mse_loss),
    "half_squared": _distance(_half_squared),
    "mae": _distance(F.l1_loss),
    "huber": _distance(F.huber_loss),
    "bce": _cross_entropy,
    "cross_entropy": _cross_entropy,
    "hinge": _hinge,
}

_AUTO_OUTPUT = {"regression": "linear", "binary": "sigmoid", "multiclass": "softmax"}
_AUTO_LOSS = {"regression": "mse", "binary": "bce", "multiclass": "cross_entropy"}
_ALLOWED_OUTPUT = {"regression": ("linear",), "binary": ("sigmoid", "softmax", "tanh"), "multiclass": ("softmax", "tanh")}
DISTANCE_LOSSES = family("losses", "task", "any")  # compare the output with the targets: what a tanh output allows
TANH_LOSS = "half_squared"  # the loss TF Playground pairs with its tanh output (train.loss: auto)


@dataclass(frozen=True)
class Head:
    """What the last layer means: task, output activation, loss and number of outputs."""

    task: str
    output_activation: str
    loss: str
    n_outputs: int

    @property
    def is_classifier(self) -> bool:
        return self.task != "regression"

    def compute_loss(self, scores: Tensor, targets: Tensor) -> Tensor:
        """Mean loss of raw scores (n, n_outputs) against targets (n,).

        Sequences predicting at every step give (n, T, n_outputs) against (n, T): each step
        is one prediction, and the mean runs over all of them.
        """
        return self.loss_of(scores, self.loss_targets(targets))

    def loss_targets(self, targets: Tensor) -> Tensor:
        """The targets (n,) — or (n, T) — in the form the loss compares the scores with.

        Class indices for cross-entropy and multi-class hinge; otherwise a column per output:
        (n, 1) values or labels 0/1 (−1/+1 for a tanh output or a hinge), or (n, K) one-hot rows
        (a tanh per class: +1 for the class, −1 for the others). The training loop converts an
        epoch's targets once, not every step: on a small network each operation of a step costs
        what a layer does.
        """
        if self.loss not in DISTANCE_LOSSES and self.output_activation == "softmax":  # cross-entropy, margin
            return targets
        signed = self.output_activation == "tanh" or self.loss == "hinge"  # labels −1/+1
        if self.n_outputs > 1:  # a distance to one-hot rows (n, K)
            one_hot = F.one_hot(targets, self.n_outputs).to(torch.get_default_dtype())
            return 2 * one_hot - 1 if signed else one_hot
        column = targets.to(torch.get_default_dtype()).unsqueeze(-1)  # (n, 1)
        return 2 * column - 1 if signed and self.is_classifier else column

    def loss_of(self, scores: Tensor, loss_targets: Tensor) -> Tensor:
        """Mean loss of raw scores (n, n_outputs) — or (n, T, n_outputs) — against :meth:`loss_targets`."""
        if scores.dim() > 2:
            columns = loss_targets.dim() == scores.dim()
            scores = scores.reshape(-1, scores.shape[-1])
            loss_targets = loss_targets.reshape(-1, loss_targets.shape[-1]) if columns else loss_targets.reshape(-1)
        if loss_targets.is_floating_point() and loss_targets.dtype != scores.dtype:
            loss_targets = loss_targets.to(scores.dtype)
        return LOSSES[self.loss](scores, loss_targets, self.output_activation)

    def member_losses(self, scores: Tensor, targets: Tensor) -> Tensor:
        """Each of K networks' mean loss, (K,), from scores (K, batch, n_outputs) and targets (K, batch).

        One call for the cross-entropies; the other losses are computed network by network.
        """
        size, batch = targets.shape[:2]
        if self.loss in CROSS_ENTROPY and self.output_activation == "softmax":
            return F.cross_entropy(scores.reshape(size * batch, -1), targets.reshape(-1),
                                   reduction="none").view(size, batch).mean(dim=1)
        if self.loss in CROSS_ENTROPY:
            return F.binary_cross_entropy_with_logits(scores[..., 0], targets.to(scores.dtype),
                                                      reduction="none").mean(dim=1)
        return torch.stack([self.compute_loss(scores[k], targets[k]) for k in range(size)])

    def predict(self, scores: Tensor) -> Tensor:
        """Class indices for classifiers, values for regression: (n,), or (n, T) from (n, T, n_outputs)."""
        if self.n_outputs > 1:  # a score per class (softmax, or a tanh per class)
            return scores.argmax(dim=-1)
        if self.is_classifier:
            return (scores[..., 0] > 0).long()  # one score: sigmoid above ½, tanh above 0
        return scores[..., 0]

    def probabilities(self, scores: Tensor) -> Tensor:
        """Output activation applied: class probabilities (n, K), or values (n,) for regression.

        A tanh output o in (-1, 1) reads as the probability (o + 1)/2 of its class.
        """
        if self.output_activation == "sigmoid":
            positive = torch.sigmoid(scores[:, 0])
            return torch.stack([1 - positive, positive], dim=1)
        if self.output_activation == "tanh":
            values = (torch.tanh(scores) + 1) / 2  # (n, n_outputs)
            return torch.cat([1 - values, values], dim=1) if self.n_outputs == 1 else values
        return torch.softmax(scores, dim=1) if self.output_activation == "softmax" else scores[:, 0]


def make_head(*, task: str, n_classes: int, output_activation: str = "auto", loss: str = "auto") -> Head:
    """Resolve ``auto`` output activation and loss for ``task`` and check they fit together.

    Raises:
        SpecError: naming ``model.output_activation`` or ``train.loss`` when they do not suit the task.
    """
    output = _AUTO_OUTPUT[task] if output_activation == "auto" else output_activation
    if output not in _ALLOWED_OUTPUT[task]:
        raise SpecError(f"model.output_activation: {output!r} does not suit a {task} task; "
                        f"use auto or {' or '.join(_ALLOWED_OUTPUT[task])}")
    chosen = (TANH_LOSS if output == "tanh" else _AUTO_LOSS[task]) if loss == "auto" else loss
    if output == "tanh" and chosen not in DISTANCE_LOSSES:
        raise SpecError(f"train.loss: {chosen!r} reads probabilities or margins; a tanh output is compared with "
                        f"labels −1/+1 by a distance — use auto, {', '.join(DISTANCE_LOSSES)}")
    if chosen == "cross_entropy" and output == "sigmoid":
        chosen = "bce"  # the two-class case of cross-entropy
    if task == "regression" and chosen in NEEDS_CLASSES:
        raise SpecError(f"train.loss: {chosen!r} needs classes; this is a regression task — use mse, mae or huber")
    if chosen == "bce" and task == "multiclass":
        raise SpecError(f"train.loss: 'bce' is for two classes; this data set has {n_classes} — use cross_entropy")
    if chosen == "bce" and output == "softmax":
        chosen = "cross_entropy"  # two softmax outputs: the same loss in its categorical form
    n_outputs = n_classes if output == "softmax" or (output == "tanh" and task == "multiclass") else 1
    return Head(task=task, output_activation=output, loss=chosen, n_outputs=n_outputs)
