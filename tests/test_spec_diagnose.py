"""The spec's diagnose section: tolerances, health sampling and learning-curve fractions."""
from __future__ import annotations

import pytest

from neuralab.errors import SpecError
from neuralab.spec import load_spec


def test_defaults():
    diagnose = load_spec(None).diagnose
    assert (diagnose.optimal_error, diagnose.bias_tolerance, diagnose.variance_tolerance) == (None, 0.05, 0.05)  # None: 0, or estimated (regression)
    assert diagnose.health_every == 100 and diagnose.learning_curve_fractions == [0.1, 0.25, 0.5, 1.0]


@pytest.mark.parametrize(("override", "field"), [
    ("diagnose.learning_curve_fractions=[0.5, 0.2]", "diagnose.learning_curve_fractions"),
    ("diagnose.learning_curve_fractions=[0.5, 1.5]", "diagnose.learning_curve_fractions"),
    ("diagnose.bias_tolerance=-0.1", "diagnose.bias_tolerance"),
    ("diagnose.health_every=-1", "diagnose.health_every"),
])
def test_bad_values_name_the_field(override, field):
    with pytest.raises(SpecError) as error:
        load_spec(None, overrides=[override])
    assert error.value.problems[0].startswith(f"{field}: ")
