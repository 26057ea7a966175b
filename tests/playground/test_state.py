"""The declared state table: limits on the server, the spec it becomes, and back."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from neuralab.playground.state import (MAX_LAYERS, MAX_NEURONS, PlaygroundState, apply_changes, from_spec,
                                       state_table, to_spec)


def test_default_state_is_playgrounds_circle():
    state = PlaygroundState()
    assert (state.dataset, state.hidden, state.learning_rate, state.ratio, state.batch_size) == ("circle", [4, 2], 0.03, 50, 10)


@pytest.mark.parametrize("mode", ["classic", "modern"])
def test_to_spec_and_back_keeps_every_training_setting(mode):
    state = PlaygroundState(mode=mode, dataset="spiral", n_classes=3, hidden=[8, 6], activations=["relu", "tanh"],
                            optimizer="adam", learning_rate=0.01, regularization="l2", regularization_rate=0.003,
                            ratio=70, noise=0.2, features=["x1", "x2", "sin(x1)"], dropout=0.1, batch_norm=True,
                            schedule="cosine", schedule_steps=40, seed=7)
    spec = to_spec(state, epochs=12)
    assert spec.train.epochs == 12 and spec.train.threads == 1 and spec.model.activation == ["relu", "tanh"]
    assert spec.train.schedule.steps == 40  # fixed, so the number of epochs changes nothing before the end
    if mode == "classic":  # TF Playground's: ½·r·w², no dev split, raw inputs, tanh output, ½(o − t)², full read-out
        assert (spec.train.l2, spec.data.split, spec.data.standardize) == (0.0015, [0.7, 0.0, 0.3], False)
        assert (spec.model.output_activation, spec.train.loss, spec.train.train_metrics) == ("tanh", "half_squared", "full")
        assert (spec.train.shuffle, spec.train.l1_style, spec.name) == ("once", "playground", "playground-classic")
    else:
        assert (spec.train.l2, spec.data.split, spec.data.standardize) == (0.003, [0.7, 0.15, 0.15], True)
        assert (spec.model.output_activation, spec.train.loss, spec.train.train_metrics) == ("auto", "auto", "running")
        assert (spec.train.shuffle, spec.train.l1_style) == ("every_epoch", "penalty")
    assert from_spec(spec) == state


def test_the_page_opens_in_classic_mode_and_modern_is_one_switch_away():
    state = PlaygroundState()
    assert (state.mode, state.init, state.loss) == ("classic", "playground", "auto")
    modern, refused = apply_changes(state, {"mode": "modern"}, link=True)
    assert (modern.mode, modern.init, modern.loss) == ("modern", "xavier_uniform", "auto") and not refused
    kept, _ = apply_changes(modern, {"mode": "classic", "init": "he_normal"})  # a key given with it wins
    assert (kept.mode, kept.init) == ("classic", "he_normal")
    classic_cross_entropy = to_spec(state.model_copy(update={"loss": "cross_entropy"}))
    assert classic_cross_entropy.model.output_activation == "auto"  # cross-entropy reads probabilities


def test_regression_defaults_to_playgrounds_1200_points():
    state, _ = apply_changes(PlaygroundState(), {"problem": "regression"})
    assert (state.dataset, state.n_samples) == ("plane", 1200)
    spec = to_spec(state)
    assert (spec.model.output_activation, spec.train.loss, spec.data.standardize) == ("auto", "half_squared", False)


@pytest.mark.parametrize("changes", [
    {"hidden": [8] * (MAX_LAYERS + 1), "activations": ["tanh"] * (MAX_LAYERS + 1)},
    {"hidden": [MAX_NEURONS + 1], "activations": ["tanh"]},
    {"learning_rate": 0.0}, {"noise": 0.6}, {"ratio": 95}, {"dataset": "plane"},
    {"features": ["x3"]}, {"optimizer": "adm"}, {"colour": "red"},
])
def test_limits_and_names_are_enforced(changes):
    with pytest.raises(ValidationError):
        PlaygroundState.model_validate({**PlaygroundState().model_dump(), **changes})


def test_table_names_every_field_with_how_a_change_acts():
    rows = {row["name"]: row for row in state_table()}
    assert set(rows) == set(PlaygroundState.model_fields)
    assert rows["learning_rate"]["act"] == "live" and rows["hidden"]["act"] == "reset"
    assert rows["dataset"]["act"] == "data" and rows["hidden"]["type"] == "int_list"
