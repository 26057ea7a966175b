"""Advice as spec changes: the rules, grouping in steps, and applying them mechanically."""
from __future__ import annotations

from neuralab.doctor.advice import advise, apply_advice, bigger_hidden, smaller_hidden
from neuralab.spec import load_spec


def test_bigger_and_smaller_models():
    assert bigger_hidden([4]) == [16, 16]
    assert bigger_hidden([2]) == [16, 16]
    assert bigger_hidden([16, 16]) == [32, 32, 32]
    assert bigger_hidden([]) == [16]
    assert bigger_hidden([1024] * 4) is None  # nothing bigger within the limits
    assert smaller_hidden([256, 256]) == [128]
    assert smaller_hidden([8]) == [4]
    assert smaller_hidden([2]) is None


def test_vanishing_cure_changes_activation_and_init_in_one_step():
    spec = load_spec(None, overrides={"model.activation": "sigmoid", "model.init": "normal"})
    advice = advise("vanishing", spec)
    first = {a.field: a.to for a in advice if a.step == 1}
    assert first == {"model.activation": "relu", "model.init": "he_normal"}
    cured = apply_advice(spec, [a for a in advice if a.step == 1])
    assert (cured.model.activation, cured.model.init) == ("relu", "he_normal")
    assert spec.model.activation == "sigmoid"  # the original spec is untouched


def test_symmetry_cure_picks_the_init_for_the_activation():
    tanh = load_spec(None, overrides={"model.init": "zeros", "model.activation": "tanh"})
    relu = load_spec(None, overrides={"model.init": "zeros"})
    assert advise("symmetric", tanh)[0].to == "xavier_normal"
    assert advise("symmetric", relu)[0].to == "he_normal"


def test_exploding_cure_lowers_the_rate_and_clips():
    spec = load_spec(None, overrides={"train.learning_rate": 0.5, "model.init": "normal", "model.init_std": 1.0})
    advice = advise("exploding", spec)
    assert {(a.field, a.to) for a in advice if a.step == 1} == {("train.learning_rate", 0.05),
                                                                 ("train.grad_clip", 1.0)}
    assert [(a.field, a.to) for a in advice if a.step == 2] == [("model.init", "he_normal")]


def test_advice_that_changes_nothing_is_left_out():
    spec = load_spec(None, overrides={"train.l2": 0.0, "model.dropout": 0.0})
    fields = [a.field for a in advise("high_bias", spec)]
    assert "train.l2" not in fields and "model.dropout" not in fields  # nothing to loosen
    assert "train.optimizer" not in fields  # already adaptive


def test_describe_reads_like_the_issue():
    spec = load_spec(None, overrides={"model.hidden": [4]})
    assert advise("high_bias", spec)[0].describe().startswith("model.hidden [4] → [16, 16]: ")
