"""CSV and Parquet data files, and read_inputs for prediction."""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from neuralab.data import load_data, read_inputs
from neuralab.data.file_sets import load_file
from neuralab.errors import DataError, SpecError
from neuralab.spec import DataSpec, load_spec


def write_csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def rows(n, label):
    return "".join(f"{i},{i * 0.5},{label(i)}\n" for i in range(n))


def csv_spec(path, **fields):
    return DataSpec(dataset="csv", path=path, **fields)


def test_string_target_is_classification_with_sorted_classes(tmp_path):
    path = write_csv(tmp_path, "a,b,kind\n" + rows(30, lambda i: ["dog", "cat", "emu"][i % 3]))
    raw = load_file(csv_spec(path))
    assert raw.classes == ["cat", "dog", "emu"] and raw.input_columns == ["a", "b"]
    assert raw.targets[:3].tolist() == [1, 0, 2]


def test_few_integers_are_classes_and_many_floats_are_regression(tmp_path):
    path = write_csv(tmp_path, "a,b,y\n" + rows(40, lambda i: i % 4))
    assert load_file(csv_spec(path)).classes == [0, 1, 2, 3]
    path = write_csv(tmp_path, "a,b,y\n" + rows(40, lambda i: i * 1.25), "reg.csv")
    raw = load_file(csv_spec(path))
    assert raw.task == "regression" and raw.targets.dtype == np.float64


def test_many_integers_are_regression_unless_task_says_otherwise(tmp_path):
    path = write_csv(tmp_path, "a,b,y\n" + rows(40, lambda i: i))
    assert load_file(csv_spec(path)).task == "regression"
    assert len(load_file(csv_spec(path, task="classification")).classes) == 40
    path = write_csv(tmp_path, "a,b,y\n" + rows(40, lambda i: i % 2), "two.csv")
    assert load_file(csv_spec(path, task="regression")).task == "regression"


def test_target_column_by_name(tmp_path):
    path = write_csv(tmp_path, "label,a,b\n" + "".join(f"{i % 2},{i},{-i}\n" for i in range(20)))
    raw = load_file(csv_spec(path, target="label"))
    assert raw.input_columns == ["a", "b"] and raw.classes == [0, 1]


def test_unknown_target_lists_the_columns(tmp_path):
    path = write_csv(tmp_path, "a,b,y\n" + rows(10, lambda i: i % 2))
    with pytest.raises(DataError, match="'lable' is not in the file; its columns are a, b, y"):
        load_file(csv_spec(path, target="lable"))


def test_non_numeric_feature_names_column_and_value(tmp_path):
    path = write_csv(tmp_path, "a,b,y\n1,2,0\n3,oops,1\n5,6,0\n")
    with pytest.raises(DataError, match="feature column 'b'.*row 2 holds 'oops'"):
        load_file(csv_spec(path))


def test_text_target_cannot_be_regression(tmp_path):
    path = write_csv(tmp_path, "a,y\n1,x\n2,y\n")
    with pytest.raises(DataError, match="regression needs numbers"):
        load_file(csv_spec(path, task="regression"))


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("a,b,y\n", "no rows"),
    ("a,b,y\n1,2\n", "do not have 3 cells"),
    ("a,a,y\n1,2,3\n", "duplicate column names: a"),
    ("y\n1\n2\n", "only the target column"),
    ("a,y\n1,cat\n2,\n", "target column 'y': 1 of 2 rows are empty"),
])
def test_bad_files(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        load_file(csv_spec(write_csv(tmp_path, text)))


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_file(csv_spec(str(tmp_path / "nope.csv")))
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not a parquet file at all")
    with pytest.raises(DataError, match="cannot be read as Parquet"):
        load_file(DataSpec(dataset="parquet", path=str(bad)))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("a,y\n\xe9,1\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        load_file(csv_spec(str(latin)))


def test_parquet_with_typed_columns(tmp_path):
    path = tmp_path / "data.parquet"
    table = pa.table({"a": np.arange(30, dtype=np.int32), "b": np.linspace(0, 1, 30),
                      "ok": [i % 3 == 0 for i in range(30)]})
    pq.write_table(table, path)
    bundle = load_data(DataSpec(dataset="parquet", path=str(path)), seed=0)
    assert bundle.classes == [False, True] and bundle.input_columns == ["a", "b"]
    assert bundle.x_train.dtype == np.float32


def test_parquet_null_feature_is_reported(tmp_path):
    path = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"a": [1.0, None, 3.0, 4.0], "y": [0, 1, 0, 1]}), path)
    with pytest.raises(DataError, match="input column 'a': 1 of 4 rows are NaN or empty"):
        load_data(DataSpec(dataset="parquet", path=str(path)))


def test_read_inputs_reorders_and_ignores_extra_columns(tmp_path):
    path = write_csv(tmp_path, "x2,extra,x1\n1,a,2\n3,b,4\n")
    values = read_inputs(path, ["x1", "x2"])
    assert values.dtype == np.float32 and values.tolist() == [[2.0, 1.0], [4.0, 3.0]]


def test_read_inputs_parquet(tmp_path):
    path = tmp_path / "new.parquet"
    pq.write_table(pa.table({"x1": [1.0, 2.0], "x2": [3, 4]}), path)
    assert read_inputs(path, ["x2"]).tolist() == [[3.0], [4.0]]


@pytest.mark.parametrize("text, message", [
    ("x1\n1\n", "lacks the column\\(s\\) x2; it has x1"),
    ("x1,x2\n1,abc\n", "'x2': is not numeric — row 1 holds 'abc'"),
    ("x1,x2\n1,nan\n2,3\n", "'x2': 1 of 2 rows are NaN"),
    ("x1,x2\n1,inf\n", "'x2': 1 of 1 rows are infinite"),
    ("x1,x2\n", "no rows"),
])
def test_read_inputs_problems(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        read_inputs(write_csv(tmp_path, text), ["x1", "x2"])


def test_read_inputs_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_inputs(tmp_path / "none.csv", ["x1"])


def test_a_split_column_places_each_row_and_is_not_a_feature(tmp_path):
    from neuralab.data import load_data

    path = tmp_path / "own.csv"
    rows = [f"{i},{-i},{i % 2},{['train', 'train', 'test', 'dev'][i % 4]}" for i in range(12)]
    path.write_text("x1,x2,label,split\n" + "\n".join(rows) + "\n")
    bundle = load_data(DataSpec(dataset="csv", path=str(path), target="label", split_column="split"), seed=3)
    assert bundle.feature_names == ["x1", "x2"]
    assert sorted(bundle.raw_train[:, 0].tolist()) == [0, 1, 4, 5, 8, 9]
    assert bundle.raw_test[:, 0].tolist() == [2, 6, 10] and bundle.raw_dev[:, 0].tolist() == [3, 7, 11]
    path.write_text("x1,x2,label,split\n1,2,0,train\n3,4,1,validation\n")
    with pytest.raises(DataError, match="row 2 says 'validation'"):
        load_data(DataSpec(dataset="csv", path=str(path), target="label", split_column="split"))
    with pytest.raises(DataError, match="column 'part' is not in the file"):
        load_data(DataSpec(dataset="csv", path=str(path), target="label", split_column="part"))
    with pytest.raises(SpecError, match="split_column"):
        load_spec({"data": {"dataset": "circle", "split_column": "split"}})
