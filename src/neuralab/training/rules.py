"""The per-step rules of training, written once for every engine.

The single-model loop (:mod:`neuralab.training.loop`) and the population engine
(:mod:`neuralab.training.population`) both call these functions, so a rule cannot drift
between them: how batches are cut and ordered, which random stream draws what, how
augmentation noise, L1, L2 (or decoupled weight decay) and clipping enter a step, when the
dev split is scored, what an epoch's metrics row holds, and what counts as divergence.

Example:
    >>> from neuralab.spec import TrainSpec
    >>> batch_bounds(10, 4, batch_norm=False), batch_bounds(9, 4, batch_norm=True)
    ([(0, 4), (4, 8), (8, 10)], [(0, 4), (4, 9)])
    >>> weight_decay(TrainSpec(optimizer="adamw", l2=0.01)), weight_decay(TrainSpec(optimizer="sgd", l2=0.01))
    (WeightDecay(rate=0.01, decoupled=True), WeightDecay(rate=0.02, decoupled=False))
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from neuralab.spec.catalog import OPTIMIZERS

# Named random streams of an experiment, each seeded from the spec's seed (seed + offset):
# initial weights come from torch's global RNG seeded with the seed itself; the batch order
# and the augmentation noise from the "batches" stream; dropout masks from torch's global
# RNG after the weights are drawn.
STREAM_OFFSETS = {"weights": 0, "batches": 1}


def stream_seed(seed: int, stream: str) -> int:
    """The seed of one named random stream of an experiment with seed ``seed``."""
    return seed + STREAM_OFFSETS[stream]


def batches_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """The generator that orders batches and draws augmentation noise."""
    return torch.Generator(device=device).manual_seed(stream_seed(seed, "batches"))


# --------------------------------------------------------------------------- batches


def batch_size_of(train, n_rows: int) -> int:
    """Rows per batch: all of them for ``batch_size: full``, else at most ``n_rows``."""
    return n_rows if train.batch_size == "full" else min(train.batch_size, n_rows)


def batch_bounds(n_rows: int, batch_size: int, *, batch_norm: bool) -> list[tuple[int, int]]:
    """(start, stop) of each batch of an epoch.

    A last batch of one row cannot be batch-normalised (its variance is undefined), so with
    batch norm it joins the batch before it; without batch norm it is an ordinary batch.
    """
    bounds = [(start, min(start + batch_size, n_rows)) for start in range(0, n_rows, batch_size)]
    if batch_norm and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n_rows)]
    return bounds


def epoch_order(n_rows: int, generator: torch.Generator, *, shuffle: str = "every_epoch") -> Tensor:
    """The row order of one epoch, (n_rows,): shuffled from the batches stream, or (``train.shuffle:
    once``) the rows' own order every epoch — the split shuffled them once, as TF Playground's data."""
    if shuffle == "once":
        return torch.arange(n_rows, device=generator.device)
    return torch.randperm(n_rows, generator=generator, device=generator.device)


def augment(inputs: Tensor, noise: float, generator: torch.Generator) -> Tensor:
    """Inputs plus Gaussian noise of std ``noise`` (data.augment_noise), drawn from the batches stream."""
    if noise <= 0:
        return inputs
    return inputs + noise * torch.randn(inputs.shape, device=inputs.device, generator=generator)


# --------------------------------------------------------------------------- regularisation


@dataclass(frozen=True)
class WeightDecay:
    """How ``train.l2`` enters the update: coupled (a gradient term) or decoupled (AdamW)."""

    rate: float
    decoupled: bool


def weight_decay(train) -> WeightDecay:
    """The decay one optimiser applies for ``train.l2`` on weights (never biases or norms).

    L2 is the penalty ``l2 · Σw²``, whose gradient ``2·l2·w`` is torch's coupled
    ``weight_decay``; an optimiser whose catalog entry says ``decay: decoupled`` (AdamW)
    takes ``l2`` as its decoupled decay instead: ``w ← w − lr·l2·w`` beside the Adam step.
    """
    decoupled = OPTIMIZERS[train.optimizer].properties.get("decay") == "decoupled"
    return WeightDecay(rate=train.l2 if decoupled else 2.0 * train.l2, decoupled=decoupled)


def l1_penalty(weights: Iterable[Tensor], l1: float) -> Tensor | float:
    """``l1 · Σ|w|`` over the given weights (0 when ``l1`` is 0)."""
    if l1 <= 0:
        return 0.0
    return l1 * sum(weight.abs().sum() for weight in weights)


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


def clip_gradients(parameters: Sequence[Tensor], max_norm: float | None) -> None:
    """Scale the gradients so their global norm is at most ``max_norm`` (train.grad_clip); None: off."""
    if max_norm is not None:
        torch.nn.utils.clip_grad_norm_(parameters, max_norm)


def clip_member_gradients(parameters: Sequence[Tensor], max_norm: float | None, *, size: int) -> None:
    """:func:`clip_gradients` for K stacked networks (leaves (K, …)): each network's own global norm.

    The same formula as ``torch.nn.utils.clip_grad_norm_``: scale by min(1, max_norm / (norm + 1e-6)).
    """
    if max_norm is None:
        return
    with torch.no_grad():
        norms = torch.sqrt(sum((p.grad.reshape(size, -1) ** 2).sum(dim=1) for p in parameters))  # (K,)
        scale = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
        for p in parameters:
            p.grad.mul_(scale.view(-1, *([1] * (p.dim() - 1))))


# --------------------------------------------------------------------------- epochs


def dev_scored_in(epoch: int, train) -> bool:
    """True when epoch ``epoch`` (0-based) scores the dev split: every ``train.eval_every``
    epochs and the last one (callers also score it when no dev scores exist yet, and never
    when there is no dev split: its rows then have no ``dev_*`` scores)."""
    number = epoch + 1
    return number % train.eval_every == 0 or number == train.epochs


def epoch_row(epoch: int, *, train: dict[str, float], dev: dict[str, float], learning_rate: float,
              seconds: float) -> dict[str, float]:
    """One epoch's metrics row: epoch (1-based), train_*, dev_*, learning_rate, seconds."""
    return {"epoch": epoch + 1, **{f"train_{key}": value for key, value in train.items()},
            **{f"dev_{key}": value for key, value in dev.items()},
            "learning_rate": learning_rate, "seconds": seconds}


def running_scores(loss_sum: float, wrong: float, n_rows: int, *, classifier: bool) -> dict[str, float]:
    """Train loss and error from an epoch's running totals (Keras-style averages over batches)."""
    loss = loss_sum / n_rows
    return {"loss": loss, "error": wrong / n_rows if classifier else loss}


# --------------------------------------------------------------------------- divergence


def non_finite(values: Iterable[float]) -> float | None:
    """The first NaN/inf among ``values``, or None when all are finite."""
    for value in values:
        if not math.isfinite(value):
            return value
    return None


def non_finite_score(row: dict[str, float]) -> tuple[str, float] | None:
    """The first of an epoch row's scored losses (train, and dev when there is a dev split) that is
    NaN/inf, as (key, value); None when they are finite."""
    return next(((key, row[key]) for key in ("train_loss", "dev_loss")
                 if key in row and non_finite([row[key]]) is not None), None)


def weights_finite(parameters: Iterable[Tensor]) -> bool:
    """True when every parameter is finite (one reduction per tensor)."""
    return all(bool(torch.isfinite(parameter).all()) for parameter in parameters)


def divergence_reason(value: float, *, epoch: int, step: int, learning_rate: float, what: str = "training loss") -> str:
    """The ``stop_reason`` of a diverged run: what became NaN/inf, where, at which rate."""
    kind = "NaN" if math.isnan(value) else "inf"
    return (f"diverged: the {what} became {kind} in epoch {epoch + 1} "
            f"(step {step}, learning rate {learning_rate:g})")
