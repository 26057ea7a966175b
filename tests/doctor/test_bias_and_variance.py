"""Bias vs variance: the lecture's four cases, non-zero optimal errors, tolerances and advice."""
from __future__ import annotations

import pytest

import neuralab
from neuralab.doctor.bias_and_variance import bias_variance
from neuralab.errors import SpecError
from neuralab.spec import load_spec


@pytest.mark.parametrize(("train", "dev", "verdict"), [
    (0.15, 0.16, "high_bias"),                 # underfitting
    (0.03, 0.04, "good_fit"),                  # low bias, low variance
    (0.03, 0.15, "high_variance"),             # overfitting
    (0.15, 0.35, "high_bias_high_variance"),
])
def test_the_lectures_four_cases(train, dev, verdict):
    result = neuralab.bias_variance(train_error=train, dev_error=dev, optimal_error=0.0)
    assert result.verdict == verdict
    assert result.avoidable_bias == pytest.approx(train)
    assert result.variance == pytest.approx(dev - train)


@pytest.mark.parametrize(("train", "dev", "optimal", "verdict", "bias"), [
    (0.15, 0.16, 0.14, "good_fit", 0.01),          # the same 15/16 % is fine when humans make 14 %
    (0.15, 0.30, 0.14, "high_variance", 0.01),
    (0.25, 0.27, 0.10, "high_bias", 0.15),
    (0.08, 0.09, 0.10, "good_fit", -0.02),         # better than the optimal estimate: no avoidable bias
    (0.40, 0.60, 0.20, "high_bias_high_variance", 0.20),
])
def test_non_zero_optimal_error(train, dev, optimal, verdict, bias):
    result = bias_variance(train_error=train, dev_error=dev, optimal_error=optimal)
    assert (result.verdict, round(result.avoidable_bias, 6)) == (verdict, bias)
    assert result.to_dict()["optimal_error"] == optimal


def test_tolerances_decide_what_is_high():
    assert bias_variance(train_error=0.04, dev_error=0.05).verdict == "good_fit"
    strict = bias_variance(train_error=0.04, dev_error=0.05, bias_tolerance=0.01, variance_tolerance=0.005)
    assert strict.verdict == "high_bias_high_variance"


def test_advice_is_concrete_for_the_spec():
    spec = load_spec(None, overrides={"model.hidden": [4], "data.dataset": "spiral"})
    result = bias_variance(train_error=0.15, dev_error=0.16, spec=spec)
    first = result.advice[0].to_dict()
    assert (first["field"], first["from"], first["to"]) == ("model.hidden", [4], [16, 16])
    assert first["why"] and first["step"] == 1
    assert {"train.epochs"} <= {a.field for a in result.advice}


def test_both_fixes_bias_first_then_variance():
    spec = load_spec(None, overrides={"data.dataset": "spiral"})
    bias_first = bias_variance(train_error=0.30, dev_error=0.40, spec=spec)  # bias 30 points, variance 10
    problems = [a.problem for a in bias_first.advice]
    assert problems.index("high_variance") > max(i for i, p in enumerate(problems) if p == "high_bias")
    assert "fix the bias first" in bias_first.explanation


def test_both_with_the_larger_variance_regularises_first():
    """Issue 17: when variance dominates, regularisation comes first."""
    spec = load_spec(None, overrides={"data.dataset": "spiral"})
    result = bias_variance(train_error=0.15, dev_error=0.35, spec=spec)  # bias 15 points, variance 20
    problems = [a.problem for a in result.advice]
    assert problems.index("high_bias") > max(i for i, p in enumerate(problems) if p == "high_variance")
    assert "regularise first" in result.explanation
    variance = {a.field: a.to for a in result.advice if a.problem == "high_variance"}
    assert variance["data.n_samples"] == 2 * spec.data.n_samples  # synthetic: more data is a spec change
    assert variance["train.l2"] > 0 and variance["model.dropout"] > 0


def test_more_data_for_a_bundled_set_is_advice_no_field_can_carry_out():
    spec = load_spec(None, overrides={"data.dataset": "digits"})
    more_data = bias_variance(train_error=0.0, dev_error=0.2, spec=spec).advice[0]
    assert more_data.field is None and not more_data.applicable and "more labelled data" in more_data.why


def test_without_a_spec_the_advice_names_fields_only():
    advice = bias_variance(train_error=0.15, dev_error=0.16).advice
    assert advice[0].field == "model.hidden" and advice[0].to is None and not advice[0].applicable
    assert bias_variance(train_error=0.03, dev_error=0.04).advice == []


def test_bad_numbers_are_refused_naming_the_argument():
    with pytest.raises(SpecError) as error:
        bias_variance(train_error=-0.1, dev_error=float("nan"))
    assert [line.split(":")[0] for line in error.value.problems] == ["train_error", "dev_error"]


def test_public_names_are_functions_not_modules():
    # A module named like a public function would shadow it once imported (see neuralab/__init__.py).
    import neuralab.doctor as doctor
    from neuralab.doctor import classical, diagnosis, rounds  # noqa: F401  (import them all first)

    for name in ("bias_variance", "diagnose", "improve", "baselines", "learning_curve"):
        assert callable(getattr(doctor, name)), name
    for name in ("bias_variance", "diagnose", "improve"):
        assert callable(getattr(neuralab, name)), name


@pytest.mark.parametrize(("train", "dev", "optimal"), [(0.15, 0.20, 0.10), (0.10, 0.15, 0.05), (0.25, 0.30, 0.20),
                                                       (0.07, 0.12, 0.02)])
def test_exactly_at_the_tolerance_is_not_high_whatever_the_float_rounding(train, dev, optimal):
    """Issue 11, 4: 15 − 10 and 20 − 15 are both 5 points; floats made one of them 'high'."""
    result = bias_variance(train_error=train, dev_error=dev, optimal_error=optimal)
    assert (result.verdict, result.high_bias, result.high_variance) == ("good_fit", False, False)
    assert bias_variance(train_error=train + 1e-6, dev_error=dev + 2e-6, optimal_error=optimal).verdict == \
        "high_bias_high_variance"
