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
STREAM_OFFSETS = {"weights": 0, "batches": 1, "held_out": 2}  # held_out: the doctor's fresh points


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


MIN_HEALTH_SAMPLES = 20  # a short run is sampled more often than diagnose.health_every, to give this many


def health_interval(spec, n_rows: int) -> int:
    """Optimiser steps between health samples: ``diagnose.health_every`` (100 when 0), or fewer on a
    short run, so that its record holds about :data:`MIN_HEALTH_SAMPLES` samples to judge on.

    Example:
        >>> from neuralab.spec import load_spec
        >>> health_interval(load_spec(None, overrides={"train.epochs": 50}), 60)  # 50 steps in all
        2
    """
    steps = spec.train.epochs * len(batch_bounds(n_rows, batch_size_of(spec.train, n_rows),
                                                 batch_norm=spec.model.batch_norm))
    return max(1, min(spec.diagnose.health_every or 100, steps // MIN_HEALTH_SAMPLES))


def epoch_order(n_rows: int, generator: torch.Generator) -> Tensor:
    """The shuffled row order of one epoch, (n_rows,), drawn from the batches stream."""
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
    epochs and the last one (callers also score it when no dev scores exist yet)."""
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


def weights_finite(parameters: Iterable[Tensor]) -> bool:
    """True when every parameter is finite (one reduction per tensor)."""
    return all(bool(torch.isfinite(parameter).all()) for parameter in parameters)


def divergence_reason(value: float, *, epoch: int, step: int, learning_rate: float, what: str = "training loss") -> str:
    """The ``stop_reason`` of a diverged run: what became NaN/inf, where, at which rate."""
    kind = "NaN" if math.isnan(value) else "inf"
    return (f"diverged: the {what} became {kind} in epoch {epoch + 1} "
            f"(step {step}, learning rate {learning_rate:g})")
