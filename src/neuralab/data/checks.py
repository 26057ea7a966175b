"""Checks that refuse data a network cannot be trained on, one line per problem.

Each ``*_problems`` function returns a list of lines (empty when all is well);
:func:`check_data` gathers them and raises one :class:`DataError`.

Example:
    >>> import numpy as np
    >>> finite_problems(np.array([[1.0, np.nan]]), ["a", "b"])
    ["input column 'b': 1 of 1 rows are NaN or empty"]
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neuralab.errors import DataError

FLOAT32_MAX = float(np.finfo(np.float32).max)


def _first_rows(mask: np.ndarray, limit: int = 5) -> str:
    rows = (np.flatnonzero(mask)[:limit] + 1).tolist()
    more = ", ..." if mask.sum() > limit else ""
    return f" (row {', '.join(map(str, rows))}{more})"


def finite_problems(values: np.ndarray, columns: Sequence[str], *, what: str = "input column") -> list[str]:
    """Return one line per column that holds NaN, infinity or values beyond float32's range.

    Rows are numbered from 1 among the data rows (the header is not counted). The counts are
    taken over the whole table in row chunks (a few numpy calls, however many columns);
    only a column with a problem is looked at again, for its first rows.

    Example:
        >>> finite_problems(np.array([[np.inf], [2.0]]), ["x"])
        ["input column 'x': 1 of 2 rows are infinite (row 1)"]
    """
    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    total = len(values)
    counts = np.zeros((3, values.shape[1]), dtype=np.int64)  # NaN, infinite, beyond float32
    for rows in row_chunks(*values.shape):
        block = values[rows]
        counts[0] += np.isnan(block).sum(axis=0)
        counts[1] += np.isinf(block).sum(axis=0)
        if block.dtype.itemsize > 4:  # float32 holds nothing beyond its range
            counts[2] += (np.isfinite(block) & (np.abs(block) > FLOAT32_MAX)).sum(axis=0)
    problems = []
    for index in np.flatnonzero(counts.any(axis=0)).tolist():
        name, column = columns[index], values[:, index].astype(np.float64, copy=False)
        nan, inf = np.isnan(column), np.isinf(column)
        huge = np.isfinite(column) & (np.abs(column) > FLOAT32_MAX)
        if nan.any():
            problems.append(f"{what} {name!r}: {nan.sum()} of {total} rows are NaN or empty"
                            + (_first_rows(nan) if nan.sum() < total else ""))
        if inf.any():
            problems.append(f"{what} {name!r}: {inf.sum()} of {total} rows are infinite" + _first_rows(inf))
        if huge.any():
            problems.append(f"{what} {name!r}: {huge.sum()} of {total} rows are beyond float32's range "
                            f"(±3.4e38)" + _first_rows(huge))
    return problems


def row_chunks(n_rows: int, n_columns: int, *, values: int = 1 << 20) -> list[slice]:
    """Row ranges of about ``values`` cells: work on a large table in pieces of bounded memory.

    Example:
        >>> row_chunks(5, 1, values=2)
        [slice(0, 2, None), slice(2, 4, None), slice(4, 6, None)]
    """
    rows = max(1, values // max(1, n_columns))
    return [slice(start, start + rows) for start in range(0, n_rows, rows)]


def shape_problems(inputs: np.ndarray, targets: np.ndarray, columns: Sequence[str]) -> list[str]:
    """Return lines for no rows, no columns, or inputs and targets of different lengths.

    Example:
        >>> shape_problems(np.zeros((3, 2)), np.zeros(2), ["a", "b"])
        ['data: 3 input rows but 2 targets — they must have the same length']
    """
    problems = []
    if inputs.ndim != 2:
        return [f"data: inputs must be a table (2-D), got shape {inputs.shape}"]
    if len(inputs) == 0 or len(targets) == 0:
        problems.append("data: no rows at all — the data set is empty")
    if inputs.shape[1] == 0:
        problems.append("data: no input columns — at least one feature is needed besides the target")
    if inputs.shape[1] != len(columns):
        problems.append(f"data: {inputs.shape[1]} input columns but {len(columns)} column names")
    if len(inputs) != len(targets):
        problems.append(f"data: {len(inputs)} input rows but {len(targets)} targets — they must have the same length")
    return problems


def class_problems(targets: np.ndarray, classes: Sequence, *, target_name: str = "target") -> list[str]:
    """Return a line when a classification target has fewer than two classes, or about one row per class.

    A target with more classes than half its rows (an id or a free-text column) leaves most
    classes a single example: nothing to learn from, nothing to test on.

    Example:
        >>> class_problems(np.zeros(4, dtype=int), ["cat"])
        ["target: only one class ('cat') — classification needs at least two"]
        >>> class_problems(np.arange(6), list("abcdef"), target_name="id")[0].split(" — ")[0]
        "target column 'id': 6 classes in 6 rows"
    """
    present = np.unique(targets)
    if len(classes) < 2 or len(present) < 2:
        shown = ", ".join(repr(classes[i]) for i in present[:1]) if len(classes) else "none"
        return [f"target: only one class ({shown}) — classification needs at least two"]
    if len(present) > 2 and 2 * len(present) > len(targets):
        return [f"target column {target_name!r}: {len(present)} classes in {len(targets)} rows — about one "
                "example per class, nothing to learn from; is it an id or text column? choose the target with "
                "data.target"]
    return []


def check_data(inputs: np.ndarray, targets: np.ndarray, *, columns: Sequence[str], target_name: str = "target",
               classes: Sequence | None = None) -> None:
    """Raise :class:`DataError` listing every problem of ``inputs`` and ``targets``.

    Args:
        inputs: ``(n, n_columns)`` numbers.
        targets: ``(n,)`` class indices or regression values.
        columns: the names of the input columns, for the messages.
        target_name: the target's name, for the messages.
        classes: class labels for classification; None for regression.

    Example:
        >>> check_data(np.zeros((4, 1)), np.array([0, 1, 0, 1]), columns=["x"], classes=[0, 1])
    """
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    problems = shape_problems(inputs, targets, columns)
    if not problems:
        problems += finite_problems(inputs, columns)
        problems += finite_problems(targets, [target_name], what="target column")
        if classes is not None and not problems:
            problems += class_problems(targets, list(classes), target_name=target_name)
    if problems:
        raise DataError(problems)
