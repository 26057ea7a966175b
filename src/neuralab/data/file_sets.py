"""Data from CSV and Parquet files: training data (:func:`load_file`) and new inputs
for prediction (:func:`read_inputs`).

The target is ``data.target`` (default: the last column); the columns in ``data.drop``
(ids, free text) are left out; every other column is a feature: numbers, or words (a
categorical column, one-hot encoded — see :mod:`neuralab.data.categorical`). With
``data.task: auto`` the target is a classification
target when it holds text or true/false values, or whole numbers with at most 20 distinct
values; otherwise it is a regression target. Classes are sorted.

Example:
    >>> import tempfile, pathlib
    >>> from neuralab.spec import DataSpec
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("a,b,label\\n1,2,cat\\n3,4,dog\\n5,6,cat\\n")
    >>> raw = load_file(DataSpec(dataset="csv", path=str(path)))
    >>> raw.input_columns, raw.classes, raw.targets.tolist()
    (['a', 'b'], ['cat', 'dog'], [0, 1, 0])
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from neuralab.data.categorical import encode_columns, encoded_names, find_categories
from neuralab.data.containers import RawData
from neuralab.data.checks import finite_problems
from neuralab.data.table import is_missing, numeric_column, parses_as_numbers, read_table
from neuralab.errors import DataError, did_you_mean
from neuralab.spec import DataSpec

MAX_AUTO_CLASSES = 20


def _plain_labels(values: np.ndarray) -> list:
    return [value.item() if isinstance(value, np.generic) else value for value in values]


def _target_name(columns: list[str], target: str | None) -> str:
    if target is None:
        return columns[-1]
    if target not in columns:
        raise DataError(f"data.target: column {target!r} is not in the file; its columns are "
                        f"{', '.join(columns)}{did_you_mean(target, columns)}")
    return target


def _is_classification(values: np.ndarray, numbers: np.ndarray | None, task: str) -> bool:
    if task != "auto":
        return task == "classification"
    if numbers is None:
        return True
    finite = numbers[np.isfinite(numbers)]
    whole = values.dtype.kind in "iu" or bool(np.all(finite == np.round(finite)))
    return whole and len(np.unique(finite)) <= MAX_AUTO_CLASSES


def _encode_classes(values: np.ndarray, numbers: np.ndarray | None) -> tuple[np.ndarray, list]:
    """Return class indices and sorted labels (numbers as ints when all are whole)."""
    if numbers is not None:
        whole = np.all(numbers == np.round(numbers)) and np.all(np.abs(numbers) < 2**53)
        values = numbers.astype(np.int64) if whole else numbers
    elif values.dtype == object:
        values = np.array([str(value).strip() for value in values], dtype=object)
    labels, indices = np.unique(values, return_inverse=True)
    return indices.astype(np.int64), _plain_labels(labels)


def target_values(values: np.ndarray, name: str, task: str) -> tuple[np.ndarray, list]:
    """Return the target as float64 values (regression) or class indices with their labels."""
    missing = is_missing(values)
    numbers = (numeric_column(name, values, what="target column").astype(np.float64, copy=False)
               if parses_as_numbers(values) else None)
    if numbers is not None:
        problems = finite_problems(numbers, [name], what="target column")
        if problems:
            raise DataError(problems)
    elif missing.any():
        raise DataError(f"target column {name!r}: {missing.sum()} of {len(values)} rows are empty "
                        f"(row {', '.join(map(str, (np.flatnonzero(missing)[:5] + 1).tolist()))})")
    if _is_classification(values, numbers, task):
        return _encode_classes(values, numbers)
    if numbers is None:
        example = next((value for value in values if not parses_as_numbers(np.array([value], dtype=object))),
                       values[0])
        raise DataError(f"target column {name!r}: holds labels, not numbers (e.g. {_plain_labels([example])[0]!r}); "
                        "regression needs numbers — use data.task: classification")
    return numbers, []


def load_file(data: DataSpec, *, seed: int = 0) -> RawData:
    """Read ``data.path`` (CSV or Parquet) into raw numeric inputs and a target.

    ``seed`` is unused; it keeps the loader signature common.

    Raises:
        DataError: missing/unreadable file, unknown target, non-numeric feature columns,
            no rows, a bad target.
    """
    if not data.path:
        raise DataError(f"data.path: dataset {data.dataset!r} needs data.path (the file to read)")
    path = Path(data.path)
    if data.dataset == "parquet" and path.suffix.lower() not in (".parquet", ".pq"):
        raise DataError(f"data.path: {str(path)!r} must end in .parquet for dataset 'parquet'")
    columns = read_table(path)
    names = list(columns)
    target = _target_name(names, data.target)
    _check_drop(data.drop, names, target)
    assignment = _assignment(columns, data.split_column, target) if data.split_column else None
    features = [name for name in names if name not in (target, data.split_column) and name not in data.drop]
    if not features:
        left = f"only the target column {target!r}" + (f" once {', '.join(data.drop)} are dropped" if data.drop else "")
        raise DataError(f"data.path: {str(path)!r} has {left}; at least one feature column is needed")
    if len(columns[target]) == 0:
        raise DataError(f"data.path: {str(path)!r} has a header but no rows")
    categories = find_categories(columns, features)
    inputs = encode_columns(columns, features, categories)
    problems = finite_problems(inputs, encoded_names(features, categories))
    try:
        targets, classes = target_values(columns[target], target, data.task)
    except DataError as error:
        raise DataError(problems + error.problems) from None
    if problems:
        raise DataError(problems)
    return RawData(inputs, targets, features, classes, None, target, assignment=assignment, categories=categories)


SPLITS = ("train", "dev", "test")


def _assignment(columns: dict[str, np.ndarray], name: str, target: str) -> np.ndarray:
    """The ``data.split_column`` values: one of train, dev, test per row."""
    if name not in columns:
        raise DataError(f"data.split_column: column {name!r} is not in the file; its columns are "
                        f"{', '.join(columns)}{did_you_mean(name, list(columns))}")
    if name == target:
        raise DataError(f"data.split_column: {name!r} is the target column; name another column")
    values = np.array([str(value).strip().lower() for value in columns[name]], dtype=object)
    wrong = np.flatnonzero(~np.isin(values, SPLITS))
    if len(wrong):
        raise DataError(f"data.split_column: row {wrong[0] + 1} says {columns[name][wrong[0]]!r}; "
                        f"each row must say {', '.join(SPLITS)} ({len(wrong)} rows do not)")
    return values


def _check_drop(drop: Sequence[str], names: list[str], target: str) -> None:
    problems = [f"data.drop: column {name!r} is not in the file; its columns are {', '.join(names)}"
                f"{did_you_mean(name, names)}" for name in drop if name not in names]
    if target in drop:
        problems.append(f"data.drop: {target!r} is the target column; choose another target with data.target")
    if problems:
        raise DataError(problems)


def input_table(path: str | Path, columns: Sequence[str]) -> dict[str, np.ndarray]:
    """Read a file of new inputs as it is (every column, cells untouched), checking it has ``columns``.

    Raises:
        DataError: missing file, missing columns (naming every column the file needs), no rows.
    """
    table = read_table(path, what="inputs")
    missing = [name for name in columns if name not in table]
    if missing:
        raise DataError(f"inputs: {str(path)!r} lacks the column(s) {', '.join(missing)}; the run needs "
                        f"{', '.join(columns)}; the file has {', '.join(table) or 'none'}")
    if not table or len(next(iter(table.values()))) == 0:
        raise DataError(f"inputs: {str(path)!r} has no rows")
    return table


def read_inputs(path: str | Path, columns: Sequence[str], *,
                categories: dict[str, list[str]] | None = None) -> np.ndarray:
    """Read new inputs for prediction: float32 ``(n, encoded width)`` in ``columns`` order.

    The file is CSV, or Parquet when it ends in ``.parquet``; extra columns are ignored;
    text columns are one-hot encoded with the training vocabulary ``categories``.

    Raises:
        DataError: missing file, missing columns, non-numeric values, unknown words, NaN/inf, no rows.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "new.csv"
        >>> _ = path.write_text("x2,x1\\n1,2\\n")
        >>> read_inputs(path, ["x1", "x2"]).tolist()
        [[2.0, 1.0]]
    """
    categories = categories or {}
    values = encode_columns(input_table(path, columns), list(columns), categories)
    problems = finite_problems(values, encoded_names(list(columns), categories))
    if problems:
        raise DataError([f"inputs: {line}" for line in problems])
    return values.astype(np.float32, copy=False)


LOADERS: dict[str, Callable[..., RawData]] = {"csv": load_file, "parquet": load_file}
