"""Classical baselines on the network's own split: errors and seconds, by task."""
from __future__ import annotations

import pytest

from neuralab.data import load_data
from neuralab.doctor.classical import baselines
from neuralab.errors import SpecError
from neuralab.spec import load_spec


def test_classification_baselines_on_the_same_split():
    spec = load_spec({"data": {"dataset": "iris"}})
    rows = {row.name: row for row in baselines(spec)}
    assert list(rows) == ["logistic_regression", "hist_gradient_boosting"]
    assert rows["logistic_regression"].test_error < 0.2 and rows["logistic_regression"].seconds > 0
    assert rows["hist_gradient_boosting"].train_error <= rows["logistic_regression"].train_error


def test_regression_baselines_score_the_standardised_target():
    spec = load_spec({"data": {"dataset": "diabetes"}})
    rows = {row.name: row for row in baselines(spec, names=["ridge"])}
    assert 0.3 < rows["ridge"].dev_error < 1.0  # MSE of a standardised target: R² ≈ 0.5


def test_uses_exactly_the_given_split():
    spec = load_spec({"data": {"dataset": "circle", "n_samples": 120, "noise": 0.1}})
    bundle = load_data(spec.data, seed=spec.seed)
    [row] = baselines(spec, names=["logistic_regression"], bundle=bundle)
    # A linear model cannot separate a disc from a ring: about chance, whatever the split.
    assert row.dev_error > 0.2


def test_unknown_or_unsuitable_names_are_refused():
    with pytest.raises(SpecError, match="baseline: 'ridge' is not one of logistic_regression"):
        baselines(load_spec({"data": {"dataset": "iris"}}), names=["ridge"])
