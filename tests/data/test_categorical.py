"""Text feature columns: one-hot encoded with their vocabulary kept; ids dropped; typos still refused."""
import json

import numpy as np
import pytest

import neuralab
from neuralab.data import load_data
from neuralab.data.categorical import encode_columns, find_categories, is_categorical
from neuralab.data.file_sets import load_file
from neuralab.data.preprocess import Preprocessor
from neuralab.errors import DataError
from neuralab.spec import DataSpec

COLOURS = ["red", "green", "blue"]


def fruit_csv(tmp_path, n=60, *, with_id=True):
    """id, weight, colour (text) and a label that depends on the colour."""
    lines = ["id,weight,colour,label" if with_id else "weight,colour,label"]
    for i in range(n):
        colour = COLOURS[i % 3]
        label = "sweet" if colour == "red" else "sour"
        lines.append((f"fruit-{i}," if with_id else "") + f"{100 + i % 7},{colour},{label}")
    path = tmp_path / "fruit.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_text_column_is_one_hot_encoded_with_sorted_vocabulary(tmp_path):
    raw = load_file(DataSpec(dataset="csv", path=str(fruit_csv(tmp_path)), drop=["id"]))
    assert raw.input_columns == ["weight", "colour"] and raw.categories == {"colour": ["blue", "green", "red"]}
    assert raw.encoded_columns == ["weight", "colour=blue", "colour=green", "colour=red"]
    assert raw.inputs[:3, 1:].tolist() == [[0, 0, 1], [0, 1, 0], [1, 0, 0]]  # red, green, blue


def test_an_id_column_is_refused_with_the_hint_to_drop_it(tmp_path):
    with pytest.raises(DataError, match=r"feature column 'id': holds text with 60 distinct values.*data.drop: \[id\]"):
        load_file(DataSpec(dataset="csv", path=str(fruit_csv(tmp_path))))


def test_drop_names_unknown_columns_and_refuses_the_target(tmp_path):
    path = str(fruit_csv(tmp_path))
    with pytest.raises(DataError, match="data.drop: column 'idd' is not in the file.*did you mean 'id'"):
        load_file(DataSpec(dataset="csv", path=path, drop=["idd"]))
    with pytest.raises(DataError, match="'label' is the target column"):
        load_file(DataSpec(dataset="csv", path=path, drop=["id", "label"]))


def test_a_mostly_numeric_column_with_a_word_is_a_typo_not_a_category():
    values = np.array(["1", "2", "3", "oops"], dtype=object)
    assert not is_categorical(values)
    with pytest.raises(DataError, match="row 4 holds 'oops'"):
        encode_columns({"a": values}, ["a"], find_categories({"a": values}, ["a"]))


def test_empty_cells_in_a_text_column_are_refused():
    values = np.array(["red", "", "blue"], dtype=object)
    with pytest.raises(DataError, match="feature column 'c': 1 of 3 rows are empty"):
        find_categories({"c": values}, ["c"])


def test_the_vocabulary_round_trips_through_json_and_refuses_unknown_words(tmp_path):
    bundle = load_data(DataSpec(dataset="csv", path=str(fruit_csv(tmp_path)), drop=["id"]))
    saved = Preprocessor.from_dict(json.loads(json.dumps(bundle.preprocessor.to_dict())))
    assert saved == bundle.preprocessor and saved.target_column == "label"
    assert saved.feature_names == ["weight", "colour=blue", "colour=green", "colour=red"]
    table = {"weight": np.array(["101"], dtype=object), "colour": np.array(["green"], dtype=object)}
    assert saved.encode(table).tolist() == [[101.0, 0.0, 1.0, 0.0]]
    table["colour"] = np.array(["purple"], dtype=object)
    with pytest.raises(DataError, match="'purple' were not in the training data; known: blue, green, red"):
        saved.encode(table)


def test_a_run_learns_from_the_text_column_and_predicts_from_words(tmp_path):
    spec = neuralab.load_spec(None, overrides={"data.dataset": "csv", "data.path": str(fruit_csv(tmp_path)),
                                               "data.drop": ["id"], "model.hidden": [8], "train.epochs": 30,
                                               "train.learning_rate": 0.05})
    run = neuralab.train(spec, out_dir=tmp_path / "runs")
    assert run.summary["test_error"] == 0.0  # the label is the colour
    again = neuralab.load_run(run.dir)
    assert again.preprocessor.categories == {"colour": ["blue", "green", "red"]}
    new = tmp_path / "new.csv"
    new.write_text("colour,weight\nred,100\nblue,103\n")
    assert neuralab.predict(again, new)["prediction"] == ["sweet", "sour"]


def test_older_runs_without_categories_still_load():
    old = Preprocessor(["a"], [0.0], [1.0]).to_dict()
    del old["categories"], old["target_column"]
    assert Preprocessor.from_dict(old).categories == {}


def test_a_header_less_csv_is_named_as_such(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("0.0,1.0,2.0\n3.0,4.0,5.0\n")
    with pytest.raises(DataError, match="has no header row .*first row is numbers: 0.0, 1.0, 2.0"):
        load_file(DataSpec(dataset="csv", path=str(path)))
