"""Learning curves: sizes, the judgement on more data, and the train-dev mismatch check."""
from __future__ import annotations

import pytest

from neuralab.doctor.curves import LearningCurve, _judge, learning_curve
from neuralab.errors import SpecError
from neuralab.spec import load_spec

SPEC = load_spec({"data": {"dataset": "moons", "n_samples": 200, "noise": 0.2}, "model": {"hidden": [8]},
                  "train": {"epochs": 5, "batch_size": 16, "learning_rate": 0.02}})


def test_errors_per_training_size_from_one_seed():
    curve = learning_curve(SPEC, fractions=[0.25, 0.5, 1.0])
    assert curve.n_train == [30, 60, 120]
    assert len(curve.train_error) == len(curve.dev_error) == 3
    assert all(0 <= e <= 1 for e in curve.train_error + curve.dev_error)
    assert curve.judgement and curve.train_dev_error is None
    assert learning_curve(SPEC, fractions=[0.25, 0.5, 1.0]).dev_error == curve.dev_error  # reproducible


def test_a_train_dev_split_checks_for_data_mismatch():
    curve = learning_curve(SPEC, fractions=[0.5, 1.0], train_dev_fraction=0.25)
    assert curve.n_train == [45, 90]  # 30 of the 120 training rows held out as train-dev
    assert curve.data_mismatch == pytest.approx(curve.dev_error[-1] - curve.train_dev_error)
    assert not curve.mismatch_found and "mismatch" in curve.judgement  # one distribution: no mismatch


def judged(train, dev, sizes=(100, 200, 400)):
    curve = LearningCurve(fractions=[0.25, 0.5, 1.0], n_train=list(sizes), train_error=list(train),
                          dev_error=list(dev), more_data_helps=False, judgement="")
    _judge(curve, 0.05)
    return curve


def test_judgement_more_data_helps_while_dev_error_falls_with_a_gap():
    curve = judged([0.0, 0.01, 0.02], [0.40, 0.30, 0.20])
    assert curve.more_data_helps and "more data would likely help" in curve.judgement


def test_judgement_curves_that_met_need_less_bias_not_more_data():
    curve = judged([0.30, 0.31, 0.32], [0.36, 0.335, 0.333])
    assert not curve.more_data_helps and "reduce the bias" in curve.judgement


def test_judgement_close_curves_still_falling_help_a_little():
    curve = judged([0.01, 0.012, 0.013], [0.26, 0.078, 0.047])
    assert curve.more_data_helps and "help a little" in curve.judgement


def test_judgement_flat_dev_error_with_a_gap_means_regularise():
    curve = judged([0.0, 0.0, 0.0], [0.30, 0.30, 0.30])
    assert not curve.more_data_helps and "regularise" in curve.judgement


def test_a_dev_error_that_rose_with_more_data_is_not_called_flattened():
    """The breast-cancer table: 0.9 % at 170 rows → 1.8 % at 341 (one more dev row wrong) read "has flattened"."""
    rose = judged([0.0, 0.0, 0.0], [0.02, 0.009, 0.018], sizes=(85, 170, 341))
    assert not rose.more_data_helps and "did not fall as the data grew (0.9% at 170 rows → 1.8% at 341)" in rose.judgement
    assert "has flattened" in judged([0.0, 0.0, 0.0], [0.03, 0.02, 0.02]).judgement


@pytest.mark.parametrize("kwargs", [{"fractions": [0.5, 0.25]}, {"fractions": [0.0, 1.0]},
                                    {"fractions": [0.01, 1.0]}, {"train_dev_fraction": 0.9}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(SpecError):
        learning_curve(SPEC, **kwargs)


def test_judgement_names_variance_when_the_gap_dominates():
    """Issue 11, 5: digits at train 0.1 %, dev 2.5 %: what remains is variance, not bias."""
    curve = judged([0.0, 0.0, 0.001], [0.05, 0.035, 0.025])
    assert "mostly variance" in curve.judgement and "mostly bias" not in curve.judgement
    flat = judged([0.0, 0.0, 0.001], [0.03, 0.026, 0.025])
    assert "mostly variance" in flat.judgement and "reduce the bias" not in flat.judgement


def test_judgement_names_bias_when_the_training_error_dominates():
    curve = judged([0.20, 0.21, 0.22], [0.30, 0.26, 0.24])
    assert "mostly bias" in curve.judgement


def test_a_gap_exactly_at_the_tolerance_is_within_it():
    curve = judged([0.10, 0.15, 0.15], [0.20, 0.20, 0.20])  # 20 % − 15 % = 0.05000000000000002 in floats
    assert "within the tolerance" in curve.judgement and "met" not in curve.judgement
