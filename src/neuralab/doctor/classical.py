"""Classical baselines from scikit-learn on exactly the network's split and preprocessing.

Logistic regression (classification) or ridge regression (regression), and histogram
gradient boosting (both), fitted on the same standardised training rows the network sees
and scored on the same dev and test rows, with their fitting time — the lecture's "death
of classical ML?" answered with numbers. Errors mean what they mean for the network:
misclassification rate, or mean squared error of the (standardised) regression target;
regression also gets RMSE (in the target's units) and R² per split. scikit-learn's thread
pools are bounded (``train.threads``, else one thread): on small data one thread is the
fastest, and a busy machine is not flooded.

Example:
    >>> from neuralab.spec import load_spec
    >>> from neuralab.doctor.classical import baselines
    >>> spec = load_spec({"data": {"dataset": "iris"}})
    >>> [row.name for row in baselines(spec, names=["logistic_regression"])]
    ['logistic_regression']
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge

from neuralab.data import DataBundle, load_data
from neuralab.errors import SpecError, not_one_of
from neuralab.spec import ExperimentSpec


@dataclass(frozen=True)
class Baseline:
    """A scikit-learn model factory per task; ``make(seed)`` returns an unfitted estimator."""

    summary: str
    classifier: Callable[[int], Any] | None
    regressor: Callable[[int], Any] | None


BASELINES: dict[str, Baseline] = {
    "logistic_regression": Baseline("linear model with a logistic (softmax) output",
                                    lambda seed: LogisticRegression(max_iter=2000, random_state=seed), None),
    "ridge": Baseline("linear least squares with an L2 penalty", None, lambda seed: Ridge(alpha=1.0)),
    "hist_gradient_boosting": Baseline(
        "boosted decision trees on binned features (scikit-learn's LightGBM-like model)",
        lambda seed: HistGradientBoostingClassifier(random_state=seed),
        lambda seed: HistGradientBoostingRegressor(random_state=seed)),
}


LINEAR = ("logistic_regression", "ridge")  # the fast baselines (a fraction of a second on any lab data set)


@dataclass
class BaselineResult:
    """Errors of one model on the three splits, and seconds spent fitting it (regression: RMSE and R² too)."""

    name: str
    train_error: float
    dev_error: float
    test_error: float
    seconds: float
    scores: dict[str, float] = field(default_factory=dict)  # regression: {split}_rmse (target units), {split}_r2

    def to_dict(self) -> dict[str, Any]:
        return {**{key: value for key, value in vars(self).items() if key != "scores"}, **self.scores}


def baselines(spec: ExperimentSpec, *, names: Sequence[str] | None = None, bundle: DataBundle | None = None,
              linear_only: bool = False,
              on_fit: Callable[[str], None] | None = None) -> list[BaselineResult]:
    """Fit the classical baselines that suit the task on the spec's split; one result per model.

    Args:
        spec: the experiment whose data, split and preprocessing are used.
        names: baselines to fit (default: every one that suits the task, see :data:`BASELINES`).
        bundle: the loaded data, to skip loading them again.
        linear_only: fit only the linear model (logistic or ridge regression): fast on any data.
        on_fit: called with each baseline's name before it is fitted (progress).

    Raises:
        SpecError: an unknown baseline name, or one that does not suit the task.
    """
    bundle = bundle or load_data(spec.data, seed=spec.seed)
    classify = bundle.task != "regression"
    suitable = [name for name, b in BASELINES.items() if (b.classifier if classify else b.regressor)]
    chosen = list(names) if names is not None else [n for n in suitable if n in LINEAR or not linear_only]
    problems = [not_one_of("baseline", name, suitable) for name in chosen if name not in suitable]
    if problems:
        raise SpecError(problems)
    from threadpoolctl import threadpool_limits

    results = []
    with threadpool_limits(limits=spec.train.threads or 1):
        for name in chosen:
            if on_fit is not None:
                on_fit(name)
            results.append(_fit_one(name, bundle, seed=spec.seed, classify=classify))
    return results


def _fit_one(name: str, bundle: DataBundle, *, seed: int, classify: bool) -> BaselineResult:
    factory = BASELINES[name].classifier if classify else BASELINES[name].regressor
    estimator = factory(seed)
    started = time.perf_counter()
    estimator.fit(bundle.x_train, bundle.y_train)
    seconds = time.perf_counter() - started
    errors = {split: _error(estimator, getattr(bundle, f"x_{split}"), getattr(bundle, f"y_{split}"), classify)
              for split in ("train", "dev", "test")}
    scores = {} if classify else {
        key: value for split in ("train", "dev", "test")
        for key, value in _regression_scores(estimator, bundle, split).items()}
    return BaselineResult(name=name, train_error=errors["train"], dev_error=errors["dev"],
                          test_error=errors["test"], seconds=seconds, scores=scores)


def _regression_scores(estimator: Any, bundle: DataBundle, split: str) -> dict[str, float]:
    """RMSE in the target's units and R² of one split (NaN for an empty split)."""
    inputs, targets = getattr(bundle, f"x_{split}"), getattr(bundle, f"y_{split}")
    if len(inputs) == 0:
        return {f"{split}_rmse": float("nan"), f"{split}_r2": float("nan")}
    residual = float(np.mean((estimator.predict(inputs) - targets) ** 2))
    variance = float(np.var(targets))
    return {f"{split}_rmse": float(np.sqrt(residual)) * bundle.target_scale,
            f"{split}_r2": 1 - residual / variance if variance > 0 else float("nan")}


def _error(estimator: Any, inputs: np.ndarray, targets: np.ndarray, classify: bool) -> float:
    if len(inputs) == 0:
        return float("nan")
    predicted = estimator.predict(inputs)
    if classify:
        return float(np.mean(predicted != targets))
    return float(np.mean((predicted - targets) ** 2))
