"""Learning curves: train and dev error against the training-set size, and what they say.

The network is retrained from the same seed on growing fractions of the training split
(the first rows of one seeded permutation, so each subset contains the smaller ones),
always scored on the same dev split. With ``train_dev_fraction`` a train-dev set — rows
of the training distribution the network never trains on — is held out too, which
separates variance (train-dev − train) from data mismatch (dev − train-dev).

Example:
    >>> from neuralab.spec import load_spec
    >>> from neuralab.doctor.curves import learning_curve
    >>> spec = load_spec({"data": {"dataset": "circle", "n_samples": 100}},
    ...                  overrides={"train.epochs": 2, "model.hidden": [4]})
    >>> curve = learning_curve(spec, fractions=[0.5, 1.0])
    >>> curve.n_train
    [30, 60]
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from neuralab.data import DataBundle, load_data
from neuralab.doctor.bias_and_variance import exceeds
from neuralab.errors import SpecError
from neuralab.spec import ExperimentSpec
from neuralab.training.experiment import Experiment

MIN_ROWS = 4  # fewer training rows than this cannot make a point of the curve


@dataclass
class LearningCurve:
    """Errors per training-set size and the judgement drawn from them.

    Attributes:
        fractions, n_train, train_error, dev_error: one entry per point of the curve.
        more_data_helps: True when the dev error still falls with more data and a gap remains.
        judgement: the reading in one or two sentences.
        train_dev_error, data_mismatch: with a train-dev set: its error and dev − train-dev.
    """

    fractions: list[float]
    n_train: list[int]
    train_error: list[float]
    dev_error: list[float]
    more_data_helps: bool
    judgement: str
    train_dev_error: float | None = None
    data_mismatch: float | None = None
    mismatch_found: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def learning_curve(spec: ExperimentSpec, *, fractions: list[float] | None = None, train_dev_fraction: float = 0.0,
                   bundle: DataBundle | None = None, optimal_error: float | None = None) -> LearningCurve:
    """Train on growing fractions of the training split and judge whether more data would help.

    Args:
        spec: the experiment (its data, model, training settings and seed).
        fractions: increasing fractions of the training rows (default ``spec.diagnose.learning_curve_fractions``).
        train_dev_fraction: share of the training split held out as a train-dev set
            (0, the default, turns the data-mismatch check off; at most 0.5).
        bundle: the loaded data, to skip loading them again.
        optimal_error: the optimal error the judgement weighs the bias against (default the
            spec's ``diagnose.optimal_error``, or 0 when that is null).

    Raises:
        SpecError: a fraction outside (0, 1], or too few rows for the smallest fraction.
    """
    fractions = list(fractions or spec.diagnose.learning_curve_fractions)
    if not 0 <= train_dev_fraction <= 0.5:
        raise SpecError(f"train_dev_fraction: {train_dev_fraction!r} — must be between 0 and 0.5")
    if any(not 0 < f <= 1 for f in fractions) or sorted(set(fractions)) != fractions:
        raise SpecError(f"fractions: {fractions!r} — must be increasing, each above 0 and at most 1")
    bundle = bundle or load_data(spec.data, seed=spec.seed)
    order = np.random.default_rng(spec.seed).permutation(bundle.n_train)
    n_held = int(round(train_dev_fraction * bundle.n_train))
    held, pool = order[:n_held], order[n_held:]
    sizes = [max(int(round(f * len(pool))), 1) for f in fractions]
    if sizes[0] < MIN_ROWS:
        raise SpecError(f"fractions: {fractions[0]:g} of {len(pool)} training rows is {sizes[0]} rows; "
                        f"use a larger first fraction (at least {MIN_ROWS} rows)")
    points = [_train_and_score(spec, bundle, pool[:size], held) for size in sizes]
    curve = LearningCurve(fractions=fractions, n_train=sizes, train_error=[p["train"] for p in points],
                          dev_error=[p["dev"] for p in points], more_data_helps=False, judgement="")
    fmt = error_format(bundle.task)
    optimal = optimal_error if optimal_error is not None else (spec.diagnose.optimal_error or 0.0)
    _judge(curve, spec.diagnose.variance_tolerance, fmt, optimal_error=optimal)
    if n_held:
        _judge_mismatch(curve, points[-1]["train_dev"], spec.diagnose.variance_tolerance,
                        n_train_dev=n_held, n_dev=bundle.n_dev, fmt=fmt)
    return curve


def _train_and_score(spec: ExperimentSpec, bundle: DataBundle, rows: np.ndarray, held: np.ndarray) -> dict[str, float]:
    """Train a fresh network (same seed) on ``rows`` of the training split; score train, dev, train-dev.

    The train-dev rows stand in the test split's place, which the curve never reads.
    """
    subset = replace(bundle, x_train=bundle.x_train[rows], y_train=bundle.y_train[rows],
                     x_test=bundle.x_train[held], y_test=bundle.y_train[held])
    experiment = Experiment.from_spec(spec, bundle=subset)
    experiment.fit(record_health=False)
    splits = ["train", "dev", "test"] if len(held) else ["train", "dev"]
    scores = {name: values["error"] for name, values in experiment.score(splits).items()}
    if "test" in scores:
        scores["train_dev"] = scores.pop("test")
    return scores


def error_format(task: str):
    """Error rates as percentages; regression errors (losses) as plain numbers."""
    return (lambda value: f"{value:.3g}") if task == "regression" else (lambda value: f"{value:.1%}")


def _judge(curve: LearningCurve, tolerance: float, fmt=error_format("binary"), *, optimal_error: float = 0.0) -> None:
    """Read the curve: does the dev error still fall with more data, and is the rest bias or variance?

    What remains of the dev error is the larger of the avoidable bias (train − optimal) and
    the variance (dev − train); the sentence names that one, as the verdict does.
    """
    train, dev, sizes = curve.train_error[-1], curve.dev_error[-1], curve.n_train
    gap = dev - train
    if not (math.isfinite(train) and math.isfinite(dev)):
        curve.judgement = "the errors are not finite (the network diverged): fix training before reading the curve"
        return
    previous_dev = curve.dev_error[-2]
    falling = previous_dev - dev  # improvement over the last step of data
    margin = max(0.005, 0.25 * abs(gap))
    still_falling = falling > margin
    # a dev error that went up with more data (a small dev split's noise, mostly) has not "flattened"
    stalled = "has flattened" if falling >= -margin else "did not fall as the data grew"
    trend = f"{fmt(previous_dev)} at {sizes[-2]} rows → {fmt(dev)} at {sizes[-1]}"
    curve.more_data_helps = still_falling
    large_gap = exceeds(gap, tolerance)
    remains = _what_remains(train - optimal_error, gap, fmt)
    if still_falling and large_gap:
        curve.judgement = (f"the dev error still falls as the data grow ({trend}) and a gap of {fmt(gap)} remains: "
                           "more data would likely help")
    elif still_falling:
        curve.judgement = (f"the dev error still falls as the data grow ({trend}) and the gap is within the tolerance "
                           f"({fmt(gap)} ≤ {fmt(tolerance)}): more data would help a little; {remains}")
    elif not large_gap:
        curve.judgement = (f"the dev error {stalled} ({trend}) and the gap is within the tolerance "
                           f"({fmt(gap)} ≤ {fmt(tolerance)}): more data will not help much; {remains}")
    else:
        curve.judgement = (f"the dev error {stalled} ({trend}) with a gap of {fmt(gap)}: "
                           "more data may help little; regularise (L2, dropout, early stopping) instead")


def _what_remains(avoidable_bias: float, gap: float, fmt) -> str:
    """Name the larger part of the remaining dev error, with its cure."""
    if gap > avoidable_bias:
        return (f"what remains is mostly variance (dev − train {fmt(gap)} > avoidable bias {fmt(avoidable_bias)}): "
                "regularise (L2, dropout, early stopping) if the dev error is too high")
    return (f"what remains is mostly bias (avoidable bias {fmt(avoidable_bias)} ≥ dev − train {fmt(gap)}): "
            "if the errors are too high, reduce the bias (bigger model, train longer)")


def _binomial_variance(error: float, rows: int) -> float:
    return min(max(error, 0.0), 1.0) * (1 - min(max(error, 0.0), 1.0)) / max(rows, 1)


def _judge_mismatch(curve: LearningCurve, train_dev: float, tolerance: float, *, n_train_dev: int,
                    n_dev: int, fmt=error_format("binary")) -> None:
    curve.train_dev_error = train_dev
    curve.data_mismatch = curve.dev_error[-1] - train_dev
    # Small splits make noisy error rates: a mismatch counts only above ~2 standard errors too.
    noise = 2 * math.sqrt(_binomial_variance(train_dev, n_train_dev) + _binomial_variance(curve.dev_error[-1], n_dev))
    curve.mismatch_found = exceeds(curve.data_mismatch, max(tolerance, noise))
    variance = train_dev - curve.train_error[-1]
    if curve.mismatch_found:
        curve.judgement += (f". Data mismatch: dev error {fmt(curve.dev_error[-1])} is "
                            f"{fmt(curve.data_mismatch)} above "
                            f"the train-dev error {fmt(train_dev)}: the dev data differ from the training data; "
                            "make the training data more like the dev data")
    else:
        within = "within the tolerance" if not exceeds(curve.data_mismatch, tolerance) else \
            f"within the noise of {n_train_dev} train-dev and {n_dev} dev rows"
        curve.judgement += (f". No data mismatch: dev error {fmt(curve.dev_error[-1])} vs train-dev error "
                            f"{fmt(train_dev)} is {within}; variance (train-dev − train) is {fmt(variance)}")
