"""The per-step rules of training, written once for every engine.

The single-model loop (:mod:`neuralab.training.loop`) and the population engine
(:mod:`neuralab.training.population`) both call these functions, so a rule cannot drift
between them: how batches are cut and ordered, which random stream draws what, how
augmentation noise, L1, L2 (or decoupled weight decay) and clipping enter a step, when the
dev split is scored, what an epoch's metrics row holds, and what counts as divergence.

Step-based training (``train.max_steps``, as language models train) runs through the same
engine: its *periods* of ``train.eval_every`` optimiser steps take the place of epochs (one
metrics row, one dev scoring, one chance to checkpoint each), each period's batches are
rows drawn at random from the batches stream, and ``train.accumulate`` micro-batches make
one optimiser step.

Example:
    >>> from neuralab.spec import TrainSpec
    >>> batch_bounds(10, 4, batch_norm=False), batch_bounds(9, 4, batch_norm=True)
    ([(0, 4), (4, 8), (8, 10)], [(0, 4), (4, 9)])
    >>> weight_decay(TrainSpec(optimizer="adamw", l2=0.01)), weight_decay(TrainSpec(optimizer="sgd", l2=0.01))
    (WeightDecay(rate=0.01, decoupled=True), WeightDecay(rate=0.02, decoupled=False))
    >>> order = torch.arange(10)
    >>> ONE_PROCESS.rows(order, 0, 5).tolist(), Shard(rank=1, size=2).rows(order, 0, 5).tolist()
    ([0, 1, 2, 3, 4], [1, 3])
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch.nn.utils import parameters_to_vector
from torch import Tensor

from neuralab.spec.catalog import MODEL_KINDS, OPTIMIZERS

# Named random streams of an experiment, each seeded from the spec's seed (seed + offset):
# initial weights come from torch's global RNG seeded with the seed itself; the batch order
# and the augmentation noise from the "batches" stream; dropout masks from torch's global
# RNG after the weights are drawn.
# The "evaluation" stream picks, once, the dev (and train) rows a step-based run scores; the
# "process" stream seeds the dropout masks of data-parallel processes other than the first;
# "held_out" draws the doctor's fresh points.
STREAM_OFFSETS = {"weights": 0, "batches": 1, "evaluation": 2, "process": 3, "held_out": 4}


def stream_seed(seed: int, stream: str) -> int:
    """The seed of one named random stream of an experiment with seed ``seed``."""
    return seed + STREAM_OFFSETS[stream]


def process_dropout_seed(seed: int, *, rank: int, step: int) -> int:
    """The dropout stream of data-parallel process ``rank`` > 0 from optimiser step ``step`` on.

    Process 0 draws its dropout masks as training alone does; the others draw theirs from
    streams of their own (the same masks on every process would be the same noise
    ``size`` times), seeded again where a resumed run starts.
    """
    return (stream_seed(seed, "process") * 1_000_003 + rank * 7_919 + step) % 2**63


def batches_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """The generator that orders batches and draws augmentation noise."""
    return torch.Generator(device=device).manual_seed(stream_seed(seed, "batches"))


# --------------------------------------------------------------------------- batches


def batch_size_of(train, n_rows: int) -> int:
    """Rows per batch: all of them for ``batch_size: full``, else at most ``n_rows``."""
    return n_rows if train.batch_size == "full" else min(train.batch_size, n_rows)


def step_based(train) -> bool:
    """True when training counts optimiser steps (``train.max_steps``) rather than epochs."""
    return train.max_steps is not None


def periods(train) -> int:
    """How many periods (metrics rows) a run has: ``train.epochs``, or evaluations of a step-based run.

    Example:
        >>> from neuralab.spec import TrainSpec
        >>> periods(TrainSpec(epochs=7)), periods(TrainSpec(max_steps=2000, eval_every=250)), periods(TrainSpec(max_steps=10, eval_every=4))
        (7, 8, 3)
    """
    return -(-train.max_steps // train.eval_every) if step_based(train) else train.epochs


def finished(train, *, periods_done: int, steps_done: int) -> bool:
    """True when the run has done all its epochs (or, step-based, all its optimiser steps)."""
    return steps_done >= train.max_steps if step_based(train) else periods_done >= train.epochs


def period_rows(train, *, n_rows: int, steps_done: int) -> int:
    """Rows a step-based period trains on: its steps × ``accumulate`` micro-batches × the batch size."""
    steps = min(train.eval_every, train.max_steps - steps_done)
    return steps * train.accumulate * batch_size_of(train, n_rows)


def period_order(n_rows: int, rows: int, generator: torch.Generator) -> Tensor:
    """The rows (rows,) of one step-based period: drawn at random, with replacement, from the batches stream."""
    return torch.randint(n_rows, (rows,), generator=generator, device=generator.device)


def step_ends(index: int, n_batches: int, accumulate: int) -> bool:
    """True when micro-batch ``index`` (0-based, of ``n_batches``) is the last of an optimiser step."""
    return (index + 1) % accumulate == 0 or index + 1 == n_batches


def step_share(bounds: list[tuple[int, int]], index: int, accumulate: int) -> float:
    """The weight of micro-batch ``index``'s mean loss in its step: its rows over the step's rows.

    So a step's gradient is the mean over all its rows, however they were cut into micro-batches.

    Example:
        >>> step_share([(0, 4), (4, 8), (8, 10)], 2, 2), step_share([(0, 4), (4, 8), (8, 10)], 1, 2)
        (1.0, 0.5)
    """
    first = index - index % accumulate
    group = bounds[first:first + accumulate]
    return (bounds[index][1] - bounds[index][0]) / (group[-1][1] - group[0][0])


def evaluation_rows(n_rows: int, train, seed: int, *, device: torch.device | str = "cpu") -> Tensor | None:
    """The fixed rows a step-based run scores at each evaluation (``train.eval_batches`` batches); None: all.

    Drawn once from the "evaluation" stream, so every evaluation scores the same rows.
    """
    if not step_based(train) or train.eval_batches is None:
        return None
    wanted = train.eval_batches * batch_size_of(train, n_rows)
    if wanted >= n_rows:
        return None
    generator = torch.Generator().manual_seed(stream_seed(seed, "evaluation"))
    return torch.randperm(n_rows, generator=generator)[:wanted].sort().values.to(device)


def autocast(train, device: torch.device):
    """The context a forward pass runs in: bfloat16 autocast for ``train.autocast: bf16``, else nothing."""
    if train.autocast == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


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
THROUGH_TIME_PROBES = 6  # a recurrent run's gradient-through-time probes: about this many, at least


def planned_steps(spec, n_rows: int) -> int:
    """Optimiser steps the spec plans: ``train.max_steps``, or its epochs' steps over ``n_rows`` rows."""
    return spec.train.max_steps or spec.train.epochs * len(batch_bounds(
        n_rows, batch_size_of(spec.train, n_rows), batch_norm=spec.model.batch_norm)) // spec.train.accumulate


def health_interval(spec, n_rows: int) -> int:
    """Optimiser steps between health samples: ``diagnose.health_every`` (100 when 0), or fewer on a
    short run, so that its record holds about :data:`MIN_HEALTH_SAMPLES` samples to judge on.

    Example:
        >>> from neuralab.spec import load_spec
        >>> health_interval(load_spec(None, overrides={"train.epochs": 50}), 60)  # 50 steps in all
        2
    """
    return max(1, min(spec.diagnose.health_every or 100, planned_steps(spec, n_rows) // MIN_HEALTH_SAMPLES))


def probe_interval(spec, n_rows: int) -> int:
    """Optimiser steps between a recurrent network's gradient-through-time probes: every k-th health
    sample, so that a run has about :data:`THROUGH_TIME_PROBES` of them (at least that many).

    A probe unrolls the network step by step (an LSTM over 100 steps: 1–2 training steps' time, and
    4–5 before the unroll used torch's cell operation), so probing at every health sample cost more
    than the training itself on a one-epoch run; the doctor reads the first probe and the median of
    the later half, which a handful of probes gives.

    Example:
        >>> from neuralab.spec import load_spec
        >>> spec = load_spec(None, overrides={"train.epochs": 50})  # 50 steps: a sample every 2, a probe every 8
        >>> health_interval(spec, 60), probe_interval(spec, 60)
        (2, 8)
    """
    every = health_interval(spec, n_rows)
    return every * max(1, planned_steps(spec, n_rows) // every // THROUGH_TIME_PROBES)


def epoch_order(n_rows: int, generator: torch.Generator, *, shuffle: str = "every_epoch") -> Tensor:
    """The row order of one epoch, (n_rows,): shuffled from the batches stream, or (``train.shuffle:
    once``) the rows' own order every epoch — the split shuffled them once, as TF Playground's data."""
    if shuffle == "once":
        return torch.arange(n_rows, device=generator.device)
    return torch.randperm(n_rows, generator=generator, device=generator.device)


@dataclass(frozen=True)
class Shard:
    """The part of every batch one of ``size`` data-parallel processes computes (``rank`` 0 … size−1).

    Every process draws the same epoch order and cuts the same batches (``train.batch_size``
    is the global batch); process ``rank`` takes the batch's rows ``rank, rank + size, …`` —
    what torch's ``DistributedSampler`` does to a data set, here inside each batch of the
    in-memory tensors, so that the processes' rows together are exactly the batch one
    process would train on. One process (``ONE_PROCESS``) takes every row: the single loop
    is the ``size == 1`` case of this rule.
    """

    rank: int = 0
    size: int = 1

    def rows(self, values: Tensor, start: int, stop: int) -> Tensor:
        """This process's rows of the batch ``values[start:stop]`` (an epoch's order, or its rows gathered in
        that order), (≈ (stop − start) / size, …)."""
        return values[start + self.rank:stop:self.size]

    def part(self, values: Tensor) -> Tensor:
        """This process's share of something drawn for the whole batch (first dimension = the batch's rows)."""
        return values if self.size == 1 else values[self.rank::self.size]

    def weight(self, rows: int, batch_rows: int) -> float:
        """Scale of this process's mean loss so that the processes' averaged gradients are the whole
        batch's mean gradient (DistributedDataParallel averages over processes): rows · size / batch_rows."""
        return rows * self.size / batch_rows


ONE_PROCESS = Shard()


def augment(inputs: Tensor, noise: float, generator: torch.Generator, *, shard: Shard = ONE_PROCESS,
            batch_rows: int | None = None) -> Tensor:
    """Inputs plus Gaussian noise of std ``noise`` (data.augment_noise), drawn from the batches stream.

    On several processes every process draws the noise of the whole batch (``batch_rows``
    rows) and adds its own rows' share, so the noise is the one training alone would draw.
    """
    if noise <= 0:
        return inputs
    shape = inputs.shape if shard.size == 1 else (batch_rows, *inputs.shape[1:])
    return inputs + noise * shard.part(torch.randn(shape, device=inputs.device, generator=generator))


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


def clip_norm(spec) -> float | None:
    """The global gradient norm a step is clipped to: ``train.grad_clip``, or for ``auto`` the model
    kind's usual value (the catalog's ``grad clip``: off for mlp, 1.0 for the recurrent kinds); None: off.

    Example:
        >>> from neuralab.spec import load_spec
        >>> clip_norm(load_spec(None)), clip_norm(load_spec(None, overrides={"model.kind": "lstm"}))
        (None, 1.0)
    """
    value = spec.train.grad_clip
    if value != "auto":
        return value
    usual = MODEL_KINDS[spec.model.kind].properties["grad clip"]
    return None if usual == "off" else float(usual)


def clip_gradients(parameters: Sequence[Tensor], max_norm: float | None) -> Tensor | None:
    """Scale the gradients so their global norm is at most ``max_norm`` (see :func:`clip_norm`); None: off.

    Returns:
        A 0-d bool tensor, True when this step was clipped (its norm was above ``max_norm``), or None when off.
    """
    if max_norm is None:
        return None
    return torch.nn.utils.clip_grad_norm_(parameters, max_norm) > max_norm


def clip_member_gradients(parameters: Sequence[Tensor], max_norm: float | None, *, size: int) -> Tensor | None:
    """:func:`clip_gradients` for K stacked networks (leaves (K, …)): each network's own global norm.

    The same formula as ``torch.nn.utils.clip_grad_norm_``: scale by min(1, max_norm / (norm + 1e-6)).

    Returns:
        (K,) bool: which networks were clipped this step; None when clipping is off.
    """
    if max_norm is None:
        return None
    with torch.no_grad():
        norms = torch.sqrt(sum((p.grad.reshape(size, -1) ** 2).sum(dim=1) for p in parameters))  # (K,)
        scale = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
        for p in parameters:
            p.grad.mul_(scale.view(-1, *([1] * (p.dim() - 1))))
    return norms > max_norm


# --------------------------------------------------------------------------- epochs


def dev_scored_in(epoch: int, train) -> bool:
    """True when epoch ``epoch`` (0-based) scores the dev split: every ``train.eval_every``
    epochs and the last one (callers also score it when no dev scores exist yet, and never
    when there is no dev split: its rows then have no ``dev_*`` scores); every period of a
    step-based run."""
    if step_based(train):
        return True
    number = epoch + 1
    return number % train.eval_every == 0 or number == train.epochs


def epoch_row(epoch: int, *, train: dict[str, float], dev: dict[str, float], learning_rate: float,
              seconds: float, clip_rate: float | None = None, step: int | None = None) -> dict[str, float]:
    """One epoch's metrics row: epoch (1-based), [step], train_*, dev_*, [clip_rate], learning_rate, seconds.

    ``step`` — optimiser steps so far — is a column of step-based runs (``train.max_steps``);
    ``clip_rate`` — the fraction of the epoch's steps whose gradient norm was clipped — is
    a column whenever clipping is on (:func:`clip_norm`).
    """
    steps = {} if step is None else {"step": step}
    clipping = {} if clip_rate is None else {"clip_rate": clip_rate}
    return {"epoch": epoch + 1, **steps, **{f"train_{key}": value for key, value in train.items()},
            **{f"dev_{key}": value for key, value in dev.items()}, **clipping,
            "learning_rate": learning_rate, "seconds": seconds}


def running_scores(loss_sum: float, wrong: float, n_rows: int, *, classifier: bool,
                   n_predictions: int | None = None) -> dict[str, float]:
    """Train loss and error from an epoch's running totals (Keras-style averages over batches).

    Args:
        loss_sum: Σ batch mean loss × batch rows; wrong: misclassified predictions.
        n_rows: rows (sequences) of the split; n_predictions: predictions in it (rows × steps
            for a prediction at every step; default ``n_rows``).
    """
    loss = loss_sum / n_rows
    return {"loss": loss, "error": wrong / (n_predictions or n_rows) if classifier else loss}


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
    """True when every parameter is finite: one reduction over them all (a few operations, not
    two per tensor — on a small network each costs what a layer does)."""
    parameters = [parameter.detach() for parameter in parameters]
    return not parameters or bool(torch.isfinite(parameters_to_vector(parameters)).all())


def divergence_reason(value: float, *, epoch: int, step: int, learning_rate: float, what: str = "training loss") -> str:
    """The ``stop_reason`` of a diverged run: what became NaN/inf, where, at which rate."""
    kind = "NaN" if math.isnan(value) else "inf"
    return (f"diverged: the {what} became {kind} in epoch {epoch + 1} "
            f"(step {step}, learning rate {learning_rate:g})")
