"""Bad data are refused before training, one clear line per problem."""
import numpy as np
import pytest

from neuralab.data import load_data
from neuralab.data.checks import check_data, class_problems, finite_problems
from neuralab.errors import DataError
from neuralab.spec import DataSpec


def csv_bundle(tmp_path, text, **fields):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return load_data(DataSpec(dataset="csv", path=str(path), **fields), seed=0)


def test_nan_and_inf_name_the_column_and_count_rows():
    values = np.array([[1.0, np.nan], [np.inf, np.nan], [3.0, 4.0]])
    problems = finite_problems(values, ["a", "b"])
    assert "input column 'b': 2 of 3 rows are NaN or empty (row 1, 2)" in problems
    assert "input column 'a': 1 of 3 rows are infinite (row 2)" in problems


def test_values_beyond_float32_are_refused():
    assert "float32" in finite_problems(np.array([[1e300]]), ["a"])[0]


def test_mismatched_lengths():
    with pytest.raises(DataError, match="3 input rows but 2 targets"):
        check_data(np.zeros((3, 1)), np.zeros(2), columns=["a"])


def test_no_rows():
    with pytest.raises(DataError, match="no rows at all"):
        check_data(np.zeros((0, 1)), np.zeros(0), columns=["a"])


def test_single_class():
    assert class_problems(np.zeros(5, dtype=int), ["spam"]) == [
        "target: only one class ('spam') — classification needs at least two"]


def test_nan_in_file_inputs_and_target(tmp_path):
    with pytest.raises(DataError) as error:
        csv_bundle(tmp_path, "a,b,y\n1,,0.5\n2,3,nan\n4,5,1.5\n6,7,2.5\n")
    assert "input column 'b': 1 of 4 rows are NaN or empty (row 1)" in error.value.problems
    assert "target column 'y': 1 of 4 rows are NaN or empty (row 2)" in error.value.problems


def test_single_class_in_a_file(tmp_path):
    with pytest.raises(DataError, match=r"only one class \('yes'\) — classification needs at least two"):
        csv_bundle(tmp_path, "a,y\n1,yes\n2,yes\n3,yes\n")


def test_empty_split_from_a_tiny_file(tmp_path):
    with pytest.raises(DataError, match="dev split would have 0 samples.*more data"):
        csv_bundle(tmp_path, "a,y\n1,0\n2,1\n")


def test_constant_regression_target_is_fine(tmp_path):
    text = "a,y\n" + "".join(f"{i},7.5\n" for i in range(20))
    bundle = csv_bundle(tmp_path, text)
    assert bundle.task == "regression" and np.all(bundle.y_train == 0)
    assert np.all(bundle.preprocessor.inverse_target(bundle.y_dev) == 7.5)


def test_every_problem_is_reported_at_once(tmp_path):
    with pytest.raises(DataError) as error:
        csv_bundle(tmp_path, "a,b,c,y\nx,1,z,0\n1,2,3,1\n")
    assert len(error.value.problems) == 2
    assert all("is not numeric" in line for line in error.value.problems)
