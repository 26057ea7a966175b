"""The spec: defaults, loading from YAML/JSON/TOML, overrides, and one clear line per problem."""
from __future__ import annotations

import json

import pytest

from neuralab.errors import SpecError
from neuralab.spec import ExperimentSpec, dump_spec, load_spec
from neuralab.spec.reference import spec_reference


def problems(raw=None, overrides=None) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(raw, overrides=overrides)
    return caught.value.problems


def test_defaults_match_the_documented_interface():
    spec = ExperimentSpec()
    assert spec.data.dataset == "digits" and spec.data.split == "auto" and spec.data.standardize
    assert spec.model.hidden == [128, 128] and spec.model.activation == "relu" and spec.model.init == "he_normal"
    assert spec.train.optimizer == "adam" and spec.train.batch_size == 64 and spec.train.schedule.name == "constant"
    assert spec.train.early_stopping.restore_best and spec.diagnose.optimal_error is None  # 0, or estimated (regression)


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
def test_loads_each_file_format(tmp_path, suffix):
    path = tmp_path / f"spec{suffix}"
    if suffix == ".yaml":
        path.write_text("name: a\ntrain:\n  epochs: 7\n")
    elif suffix == ".json":
        path.write_text(json.dumps({"name": "a", "train": {"epochs": 7}}))
    else:
        path.write_text('name = "a"\n[train]\nepochs = 7\n')
    spec = load_spec(path)
    assert (spec.name, spec.train.epochs) == ("a", 7)


def test_string_overrides_are_parsed_as_yaml():
    spec = load_spec(None, overrides=["train.learning_rate=0.01", "model.hidden=[64,64]",
                                      "train.batch_size=full", "train.schedule=cosine", "data.standardize=false"])
    assert spec.train.learning_rate == 0.01 and spec.model.hidden == [64, 64]
    assert spec.train.batch_size == "full" and spec.train.schedule.name == "cosine"
    assert spec.data.standardize is False


def test_mapping_overrides_keep_python_values():
    assert load_spec(None, overrides={"train.epochs": 20}).train.epochs == 20


def test_unknown_choice_names_field_value_allowed_and_suggestion():
    [line] = problems({"train": {"optimizer": "adm"}})
    assert line.startswith("train.optimizer: 'adm' is not one of sgd, momentum")
    assert "did you mean 'adam'?" in line


def test_every_problem_gets_its_own_line():
    lines = problems({"train": {"learning_rate": -1, "batch_size": 0, "lerning": 3}, "model": {"init": "he"}})
    assert len(lines) == 4
    assert any(l.startswith("train.learning_rate: -1") and "greater than 0" in l for l in lines)
    assert any(l.startswith("train.batch_size: 0") and '"full"' in l for l in lines)
    assert any(l.startswith("train.lerning: unknown field") and "learning_rate" in l for l in lines)
    assert any(l.startswith("model.init: 'he' is not one of") for l in lines)


@pytest.mark.parametrize("raw, field", [
    ({"data": {"noise": 0.9}}, "data.noise"),
    ({"data": {"split": [0.5, 0.5, 0.2]}}, "data.split"),
    ({"data": {"features": ["x1", "x3"]}}, "data.features"),
    ({"data": {"dataset": "csv"}}, "data.path"),
    ({"model": {"hidden": [0]}}, "model.hidden"),
    ({"model": {"hidden": [4], "activation": ["relu", "tanh"]}}, "model.activation"),
    ({"model": {"dropout": 1.5}}, "model.dropout"),
    ({"train": {"epochs": 0}}, "train.epochs"),
    ({"train": {"schedule": {"name": "cosin"}}}, "train.schedule.name"),
    ({"train": {"early_stopping": {"patience": 0}}}, "train.early_stopping.patience"),
    ({"seed": -1}, "seed"),
    ({"name": "bad name/../x"}, "name"),
    ({"data": {"split": [0.5, 0.5, 0.0]}}, "data.split"),  # a test split is needed; only dev may be 0
    ({"train": {"l1_style": "tfp"}}, "train.l1_style"),
    ({"model": {"output_activation": "relu"}}, "model.output_activation"),
    ({"data": {"split": [0.5, 0.0, 0.5]}, "train": {"early_stopping": {"patience": 3}}}, "train.early_stopping.patience"),
    ({"data": {"split": [0.5, 0.0, 0.5]}, "train": {"schedule": "plateau"}}, "train.schedule.name"),
])
def test_out_of_range_values_name_the_field(raw, field):
    assert any(line.startswith(f"{field}:") for line in problems(raw))


def test_unknown_override_key_is_refused_with_suggestion():
    [line] = problems(overrides=["train.lerning_rate=3"])
    assert "unknown field" in line and "did you mean 'learning_rate'" in line


def test_override_without_equals_is_refused():
    assert "expected dotted.key=value" in problems(overrides=["train.epochs"])[0]


def test_bad_files_are_refused(tmp_path):
    assert "does not exist" in problems(tmp_path / "missing.yaml")[0]
    broken = tmp_path / "broken.yaml"
    broken.write_text("train: [unclosed\n")
    assert "cannot be parsed" in problems(broken)[0]
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    assert "must hold a mapping" in problems(listed)[0]


def test_yaml_is_loaded_safely(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("name: !!python/object/apply:os.system ['echo pwned']\n")
    assert "cannot be parsed" in problems(evil)[0]


def test_dumped_spec_round_trips(tmp_path):
    spec = load_spec(None, overrides={"model.hidden": [3], "train.schedule": {"name": "step", "gamma": 0.3}})
    path = tmp_path / "spec.yaml"
    path.write_text(dump_spec(spec))
    assert load_spec(path) == spec


def test_a_long_path_stays_on_its_line_in_the_written_spec(tmp_path):
    folder = tmp_path / ("a folder with a long name " * 4).strip()
    folder.mkdir()
    (folder / "my points.csv").write_text("x,label\n1,0\n2,1\n")
    written = dump_spec(load_spec({"data": {"dataset": "csv", "path": str(folder / "my points.csv"), "target": "label"}}))
    assert f"path: {folder / 'my points.csv'}\n" in written  # as the user wrote it, not folded onto the next line


def test_relative_data_path_resolves_beside_the_spec_file(tmp_path):
    (tmp_path / "points.csv").write_text("a,b\n1,2\n")
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text("data: {dataset: csv, path: points.csv}\n")
    assert load_spec(spec_file).data.path == str(tmp_path / "points.csv")


def test_a_spec_files_data_path_is_beside_it_not_in_the_current_directory(tmp_path, monkeypatch):
    """Issue 17: a same-named file in the current directory must not win over the one beside the spec."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "points.csv").write_text("a,b\n1,2\n")
    (tmp_path / "points.csv").write_text("other,b\n1,2\n")
    (tmp_path / "specs" / "spec.yaml").write_text("data: {dataset: csv, path: points.csv}\n")
    monkeypatch.chdir(tmp_path)
    assert load_spec("specs/spec.yaml").data.path == str(tmp_path.resolve() / "specs" / "points.csv")
    # given on the command line (or in a mapping), a relative path is from the current directory
    overridden = load_spec("specs/spec.yaml", overrides=["data.path=points.csv"])
    assert overridden.data.path == str(tmp_path / "points.csv")


def test_every_bad_override_is_reported(tmp_path):
    """Issue 17: two bad --sets give two lines (the README promises one line per problem)."""
    with pytest.raises(SpecError) as caught:
        load_spec(None, overrides=["train.optimizer=adm", "train.lerning_rate=1", "model.foo=2"])
    assert len(caught.value.problems) == 3
    assert {line.split(":")[0] for line in caught.value.problems} == {"train.optimizer", "train.lerning_rate",
                                                                      "model.foo"}


def test_reference_covers_every_field_with_description():
    rows = spec_reference()
    fields = {row["field"] for row in rows}
    assert {"data.dataset", "model.hidden", "train.schedule.name", "train.early_stopping.patience",
            "diagnose.optimal_error"} <= fields
    assert all(row["description"] for row in rows)
    assert next(r for r in rows if r["field"] == "train.learning_rate")["allowed"] == "> 0.0, ≤ 10.0"


def test_spec_yaml_leaves_out_fields_the_data_set_does_not_read():
    """Issue 17: digits and CSV runs showed n_samples: 500, n_classes: 2, features: [x1, x2]."""
    digits = dump_spec(load_spec({"data": {"dataset": "digits"}}))
    assert all(f"\n  {key}:" not in digits for key in ("n_samples", "n_classes", "features", "noise", "path", "drop",
                                                         "split_column"))
    spiral = dump_spec(load_spec({"data": {"dataset": "spiral"}}))
    assert "n_samples: 500" in spiral and "path:" not in spiral
    odd = load_spec({"data": {"dataset": "digits", "n_samples": 900}})  # set, though digits ignores it: kept
    assert "n_samples: 900" in dump_spec(odd)


def test_float_tails_are_tidied():
    spec = load_spec(None, overrides={"model.dropout": 0.1 + 0.2, "train.learning_rate": 3e-4})
    assert spec.model.dropout == 0.3 and "0.30000000000000004" not in dump_spec(spec)
    assert spec.train.learning_rate == 3e-4
def test_a_run_without_a_dev_split_trains_and_says_why_dev_users_cannot():
    spec = load_spec({"data": {"dataset": "circle", "n_samples": 100, "split": [0.5, 0.0, 0.5]},
                      "model": {"hidden": [4]}, "train": {"epochs": 2}})
    line = next(line for line in problems({**spec.model_dump(mode="json"), "train": {"early_stopping": {"patience": 2}}}))
    assert "no dev split" in line and "give data.split a dev fraction" in line
    assert not spec.dev_users()
    with pytest.raises(SpecError, match="schedule"):
        load_spec(spec.model_dump(mode="json"), overrides={"train.schedule.name": "plateau"})
