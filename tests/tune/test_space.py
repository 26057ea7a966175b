"""The search-space schema: ranges, choices, the NAS preset, and one line per mistake."""
from __future__ import annotations

import optuna
import pytest

from neuralab.errors import SpecError
from neuralab.spec import load_spec
from neuralab.tune.space import check_space, decode_choice, encode_choice, grid_size, grid_space, load_space, suggest

NAS = {"architecture": {"layers": {"low": 1, "high": 3}, "width": {"low": 4, "high": 16},
                        "activation": ["relu", "tanh"]}}


def test_kinds_are_inferred_and_a_list_is_a_choice():
    space = load_space({"params": {"train.learning_rate": {"low": 1e-4, "high": 1e-1, "log": True},
                                   "train.epochs": {"low": 2, "high": 6}, "train.optimizer": ["sgd", "adam"],
                                   "model.dropout": {"low": 0, "high": 0.5, "step": 0.25}}})
    kinds = {name: param.kind for name, param in space.params.items()}
    assert kinds == {"train.learning_rate": "float", "train.epochs": "int", "train.optimizer": "categorical",
                     "model.dropout": "float"}
    assert space.params["model.dropout"].grid() == [0.0, 0.25, 0.5]


@pytest.mark.parametrize("param, words", [
    ({"low": 1, "high": 0.5}, "must be below high"),
    ({"low": 0, "high": 1, "log": True}, "log scale needs low > 0"),
    ({"low": 0.1}, "needs low and high"),
    ({"choices": []}, "at least 1"),
    ({"low": 0.1, "high": 1, "choices": [1]}, "not both"),
])
def test_a_bad_range_names_the_field(param, words):
    with pytest.raises(SpecError) as error:
        load_space({"params": {"train.learning_rate": param}})
    assert any(line.startswith("space.params.train.learning_rate") and words in line for line in error.value.problems)


def test_unknown_fields_and_out_of_spec_bounds_are_all_reported():
    space = load_space({"params": {"train.lerning_rate": {"low": 0.1, "high": 1},
                                   "train.learning_rate": {"low": 0.1, "high": 20},
                                   "train.optimizer": ["adam", "adm"]}})
    with pytest.raises(SpecError) as error:
        check_space(space, load_spec(None))
    text = "\n".join(error.value.problems)
    assert "space.params.train.lerning_rate: unknown field" in text and "did you mean 'learning_rate'" in text
    assert "space.params.train.learning_rate: value 20.0 is not allowed" in text
    assert "space.params.train.optimizer: value \"adm\"" in text
    assert len(error.value.problems) == 3


def test_an_empty_space_and_an_unknown_key_are_refused():
    with pytest.raises(SpecError, match="space: is empty"):
        load_space({})
    with pytest.raises(SpecError, match="space.paramz: unknown field"):
        load_space({"paramz": {}})


def test_architecture_widths_are_conditional_on_depth():
    space = load_space(NAS)
    check_space(space, load_spec(None))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = []
    for _ in range(12):
        trial = study.ask()
        overrides = suggest(space, trial)
        depth = trial.params["architecture.layers"]
        assert len(overrides["model.hidden"]) == depth
        assert {f"architecture.width_{i + 1}" for i in range(depth)} <= set(trial.params)
        assert f"architecture.width_{depth + 1}" not in trial.params
        assert overrides["model.activation"] in ("relu", "tanh")
        seen.append(depth)
        study.tell(trial, 0.0)
    assert len(set(seen)) > 1


def test_the_grid_uses_one_width_for_every_layer():
    space = load_space({**NAS, "params": {"train.l2": [0.0, 0.1]}})
    table = grid_space(space)
    assert table["architecture.layers"] == [1, 2, 3] and table["model.activation"] == ["relu", "tanh"]
    assert grid_size(space) == 3 * len(table["architecture.width"]) * 2 * 2


def test_list_choices_round_trip_through_optuna():
    assert decode_choice(encode_choice([64, 64])) == [64, 64]
    assert encode_choice("full") == "full" and decode_choice(0.5) == 0.5


def test_architecture_and_params_cannot_both_set_the_layers():
    space = load_space({**NAS, "params": {"model.hidden": [[4], [8]]}})
    with pytest.raises(SpecError, match="space.architecture: also set"):
        check_space(space, load_spec(None))


def test_a_space_file_is_read(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("params:\n  train.batch_size: [8, full]\n")
    assert load_space(path).params["train.batch_size"].choices == [8, "full"]
    with pytest.raises(SpecError, match="does not exist"):
        load_space(tmp_path / "missing.yaml")
