"""TF Playground's L1 (``train.l1_style: playground``): a step of its own after the optimiser's,
which sets to 0, for good, every weight it carries across zero.

The other style (``penalty``, the default) adds ``l1·Σ|w|`` to the objective
(:func:`neuralab.training.rules.l1_penalty`); :func:`l1_in_objective` says which applies.
The single loop takes these steps; the population engine refuses this style (no parity
test covers dead weights in lock-step).

Example:
    >>> from neuralab.spec import load_spec
    >>> train = load_spec(None, overrides={"train.l1": 0.01, "train.l1_style": "playground"}).train
    >>> l1_in_objective(train), l1_steps_apart(train)
    (0.0, True)
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def l1_in_objective(train) -> float:
    """The L1 rate added to the training objective: ``train.l1`` in the ``penalty`` style; 0 in
    TF Playground's (``l1_style: playground``), whose L1 is a step of its own (:func:`l1_playground_step`)."""
    return train.l1 if train.l1_style == "penalty" else 0.0


def l1_steps_apart(train) -> bool:
    """True when L1 is TF Playground's step after the optimiser's (``train.l1_style: playground``, ``l1`` > 0)."""
    return train.l1 > 0 and train.l1_style == "playground"


def dead_weights(weights: Sequence[Tensor]) -> list[Tensor]:
    """No weight dead yet: one bool mask per weight matrix, for :func:`l1_playground_step`."""
    return [torch.zeros_like(weight, dtype=torch.bool) for weight in weights]


@torch.no_grad()
def hold_dead_weights(weights: Sequence[Tensor], dead: Sequence[Tensor]) -> None:
    """A dead weight takes no gradient (call after backward, before clipping and the step)."""
    for weight, mask in zip(weights, dead):
        if weight.grad is not None:
            weight.grad.masked_fill_(mask, 0.0)


@torch.no_grad()
def l1_playground_step(weights: Sequence[Tensor], before: Sequence[Tensor], dead: Sequence[Tensor], *,
                       rate: float, learning_rate: float) -> None:
    """TF Playground's L1, after the optimiser's step: ``w ← w − lr·rate·sign(w_before)``, where
    ``w_before`` is the weight before the step; a weight this step carries across zero becomes 0
    and stays 0 (dead) from then on. ``dead`` (bool masks) is updated in place.

    Example:
        >>> weights, before = [torch.tensor([0.05, -0.5, 0.2])], [torch.tensor([0.1, -0.5, 0.0])]
        >>> dead = dead_weights(weights)
        >>> l1_playground_step(weights, before, dead, rate=1.0, learning_rate=0.1)
        >>> weights[0].tolist(), dead[0].tolist()
        ([0.0, -0.4000000059604645, 0.20000000298023224], [True, False, False])
    """
    for weight, old, mask in zip(weights, before, dead):
        stepped = weight - learning_rate * rate * torch.sign(old)
        mask |= weight * stepped < 0  # crossed zero in this step
        weight.copy_(stepped.masked_fill_(mask, 0.0))
