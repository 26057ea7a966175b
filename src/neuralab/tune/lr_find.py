"""The learning-rate range test: raise the learning rate exponentially, one mini-batch at a time.

On a fresh copy of the spec's network (the spec's optimiser, batches and seed), the
learning rate grows from ``start`` to ``end`` over ``steps`` mini-batches while the
training loss is recorded and smoothed (an exponential moving average with bias
correction). The test stops once the smoothed loss exceeds 4× its best or is NaN/inf.
Too low a rate barely moves the loss; too high a rate blows it up; the suggestion sits
where the loss falls fastest (``steepest``) or at a tenth of the rate of the lowest loss
(``minimum``).

Example:
    >>> from neuralab.spec import load_spec
    >>> spec = load_spec({"data": {"dataset": "circle", "n_samples": 200}, "model": {"hidden": [8]},
    ...                   "train": {"batch_size": 16}})
    >>> finding = find_learning_rate(spec, steps=60)
    >>> 1e-7 <= finding.suggestion <= 10
    True
"""
from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neuralab.training.setup import prepare
from neuralab.data import load_data
from neuralab.errors import SpecError, not_one_of
from neuralab.spec import ExperimentSpec, load_spec
from neuralab.training.optim import build_optimizer

RULES = ("steepest", "minimum")
DIVERGENCE_FACTOR = 4.0
SKIP_START = 0.1  # the first tenth of the curve is noise of the moving average's warm-up


@dataclass
class LearningRateFinding:
    """The range test's curve and the suggested learning rate."""

    rates: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float
    rule: str
    stopped_early: bool


def find_learning_rate(spec: ExperimentSpec | str | Path | Mapping[str, Any], *,
                       overrides: Mapping[str, Any] | Sequence[str] | None = None, start: float = 1e-7,
                       end: float = 10.0, steps: int = 100, smoothing: float = 0.95,
                       rule: str = "steepest") -> LearningRateFinding:
    """Run the range test for ``spec`` and suggest a learning rate.

    Args:
        spec: the spec (its optimiser, batch size, network and seed are used).
        overrides: dotted overrides, as for ``neuralab train``.
        start, end: first and last learning rate (default 1e-7 and 10).
        steps: mini-batches in the test (default 100).
        smoothing: weight of the moving average (default 0.95: about 20 mini-batches).
        rule: ``steepest`` (default) or ``minimum`` (lowest loss ÷ 10).

    Raises:
        SpecError: bad bounds, steps or rule.
    """
    spec = load_spec(spec, overrides=overrides)
    _check(start=start, end=end, steps=steps, smoothing=smoothing, rule=rule)
    rates, losses = _run_test(spec, np.geomspace(start, end, steps).tolist(), smoothing=smoothing)
    smoothed = _smooth(losses, smoothing)
    return LearningRateFinding(rates=rates, losses=losses, smoothed=smoothed,
                               suggestion=suggest_rate(rates, smoothed, rule=rule), rule=rule,
                               stopped_early=len(rates) < steps)


def _check(*, start: float, end: float, steps: int, smoothing: float, rule: str) -> None:
    problems = []
    if not 0 < start < end:
        problems.append(f"--start/--end: {start:g}..{end:g} — need 0 < start < end")
    if steps < 10:
        problems.append(f"--steps: {steps} — need at least 10 mini-batches")
    if not 0 <= smoothing < 1:
        problems.append(f"--smoothing: {smoothing:g} — need 0 ≤ smoothing < 1")
    if rule not in RULES:
        problems.append(not_one_of("--rule", rule, list(RULES)))
    if problems:
        raise SpecError(problems)


def _run_test(spec: ExperimentSpec, schedule: list[float], *, smoothing: float) -> tuple[list[float], list[float]]:
    bundle = load_data(spec.data, seed=spec.seed)
    setup = prepare(spec, bundle)
    head, model, device = setup.head, setup.model, setup.device
    optimizer = build_optimizer(model, spec.train, device=device.type)
    inputs, targets = setup.tensors(bundle.x_train, bundle.y_train)
    size = len(inputs) if spec.train.batch_size == "full" else min(spec.train.batch_size, len(inputs))
    batches = _batches(len(inputs), size, torch.Generator(device=device).manual_seed(spec.seed + 1), device)
    rates, losses, best, average = [], [], math.inf, 0.0
    model.train()
    for step, rate in enumerate(schedule):
        for group in optimizer.param_groups:
            group["lr"] = rate
        rows = next(batches)
        loss = head.compute_loss(model(inputs[rows]), targets[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if spec.train.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), spec.train.grad_clip)
        optimizer.step()
        value = float(loss.detach())
        rates.append(rate)
        losses.append(value)
        average = smoothing * average + (1 - smoothing) * value
        debiased = average / (1 - smoothing ** (step + 1))
        best = min(best, debiased)
        if not math.isfinite(value) or debiased > DIVERGENCE_FACTOR * best:
            break  # beyond here the loss only explodes: the curve's right end is known
    return rates, losses


def _batches(n_rows: int, size: int, generator: torch.Generator, device: torch.device):
    while True:  # epoch after epoch of shuffled mini-batches
        order = torch.randperm(n_rows, generator=generator, device=device)
        for start in range(0, n_rows - size + 1, size):
            yield order[start:start + size]


def _smooth(losses: list[float], smoothing: float) -> list[float]:
    smoothed, average = [], 0.0
    for step, value in enumerate(losses):
        average = smoothing * average + (1 - smoothing) * value
        smoothed.append(average / (1 - smoothing ** (step + 1)))
    return smoothed


def suggest_rate(rates: Sequence[float], smoothed: Sequence[float], *, rule: str = "steepest") -> float:
    """The suggested learning rate of a range-test curve.

    ``steepest``: where the smoothed loss falls fastest against log(lr), left of its minimum.
    ``minimum``: a tenth of the rate at the lowest smoothed loss.

    Example:
        >>> rates = [10 ** (k / 4) for k in range(-28, 1)]
        >>> loss = [1 / (1 + math.exp(4 * (math.log10(r) + 3))) + (r > 0.1) * 5 * r for r in rates]
        >>> 1e-4 < suggest_rate(rates, loss) < 1e-2
        True
    """
    finite = [i for i, v in enumerate(smoothed) if math.isfinite(v)]
    if len(finite) < 3:
        return rates[0]
    lowest = min(finite, key=lambda i: smoothed[i])
    if rule == "minimum":
        return rates[lowest] / 10
    first = min(int(len(finite) * SKIP_START), max(lowest - 2, 0))
    window = [i for i in finite if first <= i <= lowest]
    if len(window) < 2:
        return rates[lowest] / 10
    logs = np.log10([rates[i] for i in window])
    slope = np.gradient(np.array([smoothed[i] for i in window]), logs)
    return float(rates[window[int(np.argmin(slope))]])


def write_finding(finding: LearningRateFinding, folder: str | Path) -> dict[str, Path]:
    """Write ``lr_find.csv`` (rate, loss, smoothed) and ``lr_find.png`` into ``folder``."""
    from neuralab.viz.tuning import plot_lr_find

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {"table": folder / "lr_find.csv", "plot": folder / "lr_find.png"}
    with open(files["table"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["learning_rate", "loss", "smoothed_loss"])
        writer.writerows(zip(finding.rates, finding.losses, finding.smoothed))
    plot_lr_find(finding.rates, finding.losses, finding.smoothed, suggestion=finding.suggestion,
                 rule=finding.rule).savefig(files["plot"], dpi=100)
    return files
