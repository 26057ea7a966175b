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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuralab.data import load_data
from neuralab.errors import SpecError, not_one_of
from neuralab.runs.files import save_figure, write_csv
from neuralab.spec import ExperimentSpec, load_spec
from neuralab.training.events import Callback, TrainingState
from neuralab.training.experiment import Experiment
from neuralab.training.rate import write_rate
from neuralab.training.rules import batch_bounds, batch_size_of

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


class RangeTest(Callback):
    """Sets each batch's rate from ``schedule`` and records its loss; stops when the loss explodes.

    It rides the training loop itself, so the test sees the run's own batches (the last,
    partial one included), augmentation noise, L1 and clipping.
    """

    def __init__(self, schedule: list[float], *, smoothing: float):
        self.schedule, self.smoothing = schedule, smoothing
        self.rates: list[float] = []
        self.losses: list[float] = []
        self._best, self._average = math.inf, 0.0

    def on_batch_start(self, state: TrainingState) -> None:
        write_rate(state.optimizer, self.schedule[len(self.rates)])

    def on_after_forward(self, state: TrainingState) -> None:
        value = float(state.loss.detach())
        self.rates.append(self.schedule[len(self.rates)])
        self.losses.append(value)
        self._average = self.smoothing * self._average + (1 - self.smoothing) * value
        debiased = self._average / (1 - self.smoothing ** len(self.losses))
        self._best = min(self._best, debiased)
        if not math.isfinite(value) or debiased > DIVERGENCE_FACTOR * self._best:
            state.stop("range test: the loss exploded", at_once=True)  # beyond here it only grows
        elif len(self.rates) == len(self.schedule):
            state.stop("range test: every rate tried", at_once=True)


def _run_test(spec: ExperimentSpec, schedule: list[float], *, smoothing: float) -> tuple[list[float], list[float]]:
    bundle = load_data(spec.data, seed=spec.seed)
    per_epoch = len(batch_bounds(bundle.n_train, batch_size_of(spec.train, bundle.n_train),
                                 batch_norm=spec.model.batch_norm))
    epochs = -(-len(schedule) // per_epoch)  # enough epochs for every step of the test
    experiment = Experiment.from_spec(load_spec(spec, overrides={
        "train.epochs": epochs, "train.schedule": "constant", "train.early_stopping.patience": None,
        "train.eval_every": epochs}), bundle=bundle)
    test = RangeTest(schedule, smoothing=smoothing)
    experiment.fit([test], record_health=False)
    return test.rates, test.losses


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
    write_csv(files["table"], [{"learning_rate": r, "loss": l, "smoothed_loss": s}
                               for r, l, s in zip(finding.rates, finding.losses, finding.smoothed)])
    save_figure(plot_lr_find(finding.rates, finding.losses, finding.smoothed, suggestion=finding.suggestion,
                             rule=finding.rule), files["plot"])
    return files
