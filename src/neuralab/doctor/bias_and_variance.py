"""Bias vs variance against an optimal error rate, the lecture's way, with advice.

avoidable bias = train error − optimal error; variance = dev error − train error. Each is
"high" above its tolerance (``diagnose.bias_tolerance``, ``diagnose.variance_tolerance``,
default 5 points). The lecture's four cases with an optimal error ≈ 0:

=========  =======  ==========================
train      dev      verdict
=========  =======  ==========================
15 %       16 %     high_bias (underfitting)
3 %        4 %      good_fit
3 %        15 %     high_variance (overfitting)
15 %       35 %     high_bias_high_variance
=========  =======  ==========================

Example:
    >>> import neuralab
    >>> result = neuralab.bias_variance(train_error=0.15, dev_error=0.16, optimal_error=0.0)
    >>> result.verdict, round(result.avoidable_bias, 2), round(result.variance, 2)
    ('high_bias', 0.15, 0.01)
    >>> result.advice[0].field
    'model.hidden'
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from neuralab.doctor.advice import Advice, advise, renumber
from neuralab.errors import SpecError
from neuralab.spec import ExperimentSpec

VERDICTS = ("good_fit", "high_bias", "high_variance", "high_bias_high_variance")
DEFAULT_TOLERANCE = 0.05


def exceeds(value: float, tolerance: float) -> bool:
    """``value > tolerance`` in percentage points rounded to 1e-9, so float rounding never decides.

    15 % − 10 % is 0.04999999999999999 in floats and 20 % − 15 % is 0.05000000000000002:
    both are exactly 5 points, and neither exceeds a 5-point tolerance.

    Example:
        >>> exceeds(0.20 - 0.15, 0.05), exceeds(0.15 - 0.10, 0.05), exceeds(0.0501, 0.05)
        (False, False, True)
    """
    return round(value * 100, 9) > round(tolerance * 100, 9)


@dataclass
class BiasVariance:
    """The verdict and the numbers behind it.

    Attributes:
        verdict: one of :data:`VERDICTS`.
        avoidable_bias: train error − optimal error.
        variance: dev error − train error.
        advice: ordered spec changes (bias first), concrete when a spec was given.
        explanation: the verdict in one sentence.
    """

    verdict: str
    train_error: float
    dev_error: float
    optimal_error: float
    avoidable_bias: float
    variance: float
    bias_tolerance: float
    variance_tolerance: float
    explanation: str
    advice: list[Advice] = field(default_factory=list)

    @property
    def high_bias(self) -> bool:
        return exceeds(self.avoidable_bias, self.bias_tolerance)

    @property
    def high_variance(self) -> bool:
        return exceeds(self.variance, self.variance_tolerance)

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "avoidable_bias": self.avoidable_bias, "variance": self.variance,
                "optimal_error": self.optimal_error, "train_error": self.train_error, "dev_error": self.dev_error,
                "bias_tolerance": self.bias_tolerance, "variance_tolerance": self.variance_tolerance,
                "explanation": self.explanation}


def bias_variance(*, train_error: float, dev_error: float, optimal_error: float = 0.0,
                  bias_tolerance: float = DEFAULT_TOLERANCE, variance_tolerance: float = DEFAULT_TOLERANCE,
                  spec: ExperimentSpec | None = None, percent: bool = True) -> BiasVariance:
    """Judge bias and variance from train/dev error rates and the optimal (e.g. human) error.

    Args:
        train_error: error on the training split (fraction, e.g. 0.15).
        dev_error: error on the dev split.
        optimal_error: the best achievable error, e.g. human-level (default 0).
        bias_tolerance: largest avoidable bias still called low (default 0.05).
        variance_tolerance: largest variance still called low (default 0.05).
        spec: the experiment's spec, to make the advice concrete (``model.hidden [4] → [16, 16]``).
        percent: write the numbers as percentages (error rates; default) or plain (regression losses).

    Returns:
        A :class:`BiasVariance` with ``.verdict``, ``.avoidable_bias``, ``.variance`` and ``.advice``.

    Raises:
        SpecError: an argument is negative, not finite, or a tolerance is negative.

    Example:
        >>> bias_variance(train_error=0.03, dev_error=0.15).verdict
        'high_variance'
    """
    _check(train_error=train_error, dev_error=dev_error, optimal_error=optimal_error,
           bias_tolerance=bias_tolerance, variance_tolerance=variance_tolerance)
    avoidable_bias = train_error - optimal_error
    variance = dev_error - train_error
    high_bias, high_variance = exceeds(avoidable_bias, bias_tolerance), exceeds(variance, variance_tolerance)
    verdict = VERDICTS[int(high_bias) + 2 * int(high_variance)]
    problems = fix_order(high_bias=high_bias, high_variance=high_variance, avoidable_bias=avoidable_bias,
                         variance=variance)
    advice = renumber([item for problem in problems for item in advise(problem, spec)])
    explanation = _explain(verdict, avoidable_bias, variance, optimal_error, bias_tolerance, variance_tolerance,
                           percent)
    return BiasVariance(verdict=verdict, train_error=train_error, dev_error=dev_error, optimal_error=optimal_error,
                        avoidable_bias=avoidable_bias, variance=variance, bias_tolerance=bias_tolerance,
                        variance_tolerance=variance_tolerance, explanation=explanation, advice=advice)


def fix_order(*, high_bias: bool, high_variance: bool, avoidable_bias: float, variance: float) -> list[str]:
    """The problems to fix, in order: bias first (the lecture), unless the variance is the larger.

    Example:
        >>> fix_order(high_bias=True, high_variance=True, avoidable_bias=0.06, variance=0.20)
        ['high_variance', 'high_bias']
    """
    problems = (["high_bias"] if high_bias else []) + (["high_variance"] if high_variance else [])
    return problems[::-1] if len(problems) == 2 and variance > avoidable_bias else problems


def _check(**values: float) -> None:
    problems = [f"{name}: {value!r} — must be a finite number ≥ 0"
                for name, value in values.items()
                if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value)
                or value < 0]
    if problems:
        raise SpecError(problems)


def _explain(verdict: str, bias: float, variance: float, optimal: float, bias_tol: float, var_tol: float,
             percent: bool) -> str:
    fmt = (lambda value: f"{value:.1%}") if percent else (lambda value: f"{value:.3g}")
    numbers = (f"avoidable bias {fmt(bias)} (train − optimal {fmt(optimal)}), "
               f"variance {fmt(variance)} (dev − train); "
               f"tolerances {fmt(bias_tol)} / {fmt(var_tol)}")
    meaning = {
        "good_fit": "low bias and low variance: the model fits and generalises",
        "high_bias": "high bias (underfitting): the model does not fit the training data well enough",
        "high_variance": "high variance (overfitting): the model fits the training data but does not generalise",
        "high_bias_high_variance": ("high bias and high variance: the variance is the larger — regularise first, "
                                    "then reduce the bias" if variance > bias else
                                    "high bias and high variance: fix the bias first, then the variance"),
    }[verdict]
    return f"{meaning} — {numbers}"
