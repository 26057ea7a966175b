"""The optimal error the bias/variance verdict weighs against, and where it came from.

In order: the value given (``--optimal-error``), the spec's ``diagnose.optimal_error``, and
otherwise a default by task. Classification assumes 0 (a person reads digits and sorts
wines almost perfectly; give the human-level error when it is not). Regression has no
human-level error, and 0 on a standardised MSE calls every noisy target "high bias": the
estimate there is the lowest dev error of the classical baselines (ridge and gradient
boosting) on the same split — what a well-understood model already reaches, an upper
bound of the Bayes error that the network should at least match.

Example:
    >>> from neuralab.doctor.classical import BaselineResult
    >>> ridge = BaselineResult("ridge", train_error=0.45, dev_error=0.48, test_error=0.5, seconds=0.0)
    >>> choice = choose_optimal_error(task="regression", given=None, from_spec=None, baselines=[ridge])
    >>> choice.value, choice.source.split(":")[0]
    (0.48, 'estimated')
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from neuralab.doctor.classical import BaselineResult


@dataclass(frozen=True)
class OptimalError:
    """The optimal error used and a sentence saying where it came from."""

    value: float
    source: str


def choose_optimal_error(*, task: str, given: float | None, from_spec: float | None,
                         baselines: Sequence[BaselineResult] = ()) -> OptimalError:
    """The optimal error for a run: given, from the spec, assumed 0 (classes) or estimated (regression).

    Args:
        task: ``regression``, ``binary`` or ``multiclass``.
        given: the caller's value (``--optimal-error``), or None.
        from_spec: ``diagnose.optimal_error``, or None.
        baselines: the classical baselines on the run's split (regression's estimate).
    """
    if given is not None:
        return OptimalError(given, "given (--optimal-error)")
    if from_spec is not None:
        return OptimalError(from_spec, "the spec's diagnose.optimal_error")
    if task != "regression" or not baselines:
        return OptimalError(0.0, "assumed 0 for classification (set --optimal-error to the human-level error)"
                            if task != "regression" else "assumed 0 (no baseline to estimate it from)")
    best = min(baselines, key=lambda result: result.dev_error)
    return OptimalError(best.dev_error, f"estimated: the dev error (standardised MSE) of {best.name}, the best "
                                        "classical baseline on the same split — regression has no human-level "
                                        "error; --optimal-error or diagnose.optimal_error overrides it")


def baselines_ahead(baselines: Sequence[BaselineResult], *, dev_error: float,
                    dev_rows: int | None = None) -> list[BaselineResult]:
    """The baselines whose dev error is below the network's on the same split, best first.

    For a classifier (``dev_rows`` given: error rates over that many points) a baseline is ahead
    only by more than chance allows: twice the standard error of the difference of two error
    rates over ``dev_rows`` points, and at least one point. One point of 114 is 0.9 %, and saying
    "classical ML does better" on that would be noise. Regression errors (MSE) are compared as they are.

    Example:
        >>> logistic = BaselineResult("logistic_regression", train_error=0.0, dev_error=0.009, test_error=0.03,
        ...                           seconds=0.0)
        >>> [b.name for b in baselines_ahead([logistic], dev_error=0.018, dev_rows=114)]  # one point of 114: chance
        []
        >>> [b.name for b in baselines_ahead([logistic], dev_error=0.10, dev_rows=114)]
        ['logistic_regression']
    """
    def ahead(result: BaselineResult) -> bool:
        if dev_rows is None or dev_rows <= 0:
            return result.dev_error < dev_error
        mean = (result.dev_error + dev_error) / 2
        margin = max(1.0 / dev_rows, 2.0 * math.sqrt(2.0 * mean * (1.0 - mean) / dev_rows))
        return dev_error - result.dev_error > margin

    return sorted((result for result in baselines if ahead(result)), key=lambda r: r.dev_error)
