"""Own data in the playground: points clicked on the heat map or uploaded as CSV.

The points live in the session and in a CSV file (columns ``x1, x2, label``) in the
session's own temporary folder, which neuralab's ``csv`` data set reads like any file:
the same loader, split and scaling as ``neuralab train``. Own data use the raw x1, x2
inputs (the feature expansion belongs to the generated sets). An exported spec names the
file ``playground-data.csv``, downloaded beside it.

Example:
    >>> points, labels, problem = parse_csv("x1,x2,label\\n0,1,0\\n1,0,1\\n2,2,1\\n")
    >>> points.shape, labels.tolist(), problem
    ((3, 2), [0.0, 1.0, 1.0], 'classification')
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from neuralab.playground.messages import MessageError

MAX_POINTS = 5000
MAX_CLASSES = 6
EXPORT_NAME = "playground-data.csv"


def parse_csv(text: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Rows ``x1, x2, label`` (a header row is optional) → points, labels and the problem type.

    Whole-number labels with at most six distinct values make a classification problem
    (classes renumbered 0, 1, …); any other numbers a regression one.
    """
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if rows and not _numbers(rows[0]):
        rows = rows[1:]  # a header
    if not rows:
        raise MessageError("upload_csv: no rows; expected three columns x1, x2, label")
    if len(rows) > MAX_POINTS:
        raise MessageError(f"upload_csv: {len(rows)} rows, more than the limit of {MAX_POINTS}")
    values = []
    for number, row in enumerate(rows, start=1):
        parsed = _numbers(row)
        if parsed is None or len(parsed) != 3:
            raise MessageError(f"upload_csv: row {number} is {','.join(row)[:60]!r}; expected three numbers x1, x2, label")
        values.append(parsed)
    table = np.array(values, dtype=np.float64)
    labels = table[:, 2]
    distinct = np.unique(labels)
    if np.all(distinct == np.round(distinct)) and len(distinct) <= MAX_CLASSES:
        labels = np.searchsorted(distinct, labels).astype(np.float64)
        return table[:, :2], labels, "classification"
    return table[:, :2], labels, "regression"


def _numbers(row: list[str]) -> list[float] | None:
    try:
        parsed = [float(cell) for cell in row]
    except ValueError:
        return None
    return parsed if all(math.isfinite(value) for value in parsed) else None


def check_point(*, x: float, y: float, label: float, problem: str) -> None:
    """Refuse a clicked point whose label does not fit the problem."""
    if problem == "classification" and (label != int(label) or not 0 <= label < MAX_CLASSES):
        raise MessageError(f"add_point.label: {label:g} — a class is a whole number from 0 to {MAX_CLASSES - 1}")


def write_csv(path: Path, points: np.ndarray, labels: np.ndarray, *, problem: str) -> str:
    """Write (and return) the CSV text neuralab's csv data set reads."""
    lines = ["x1,x2,label"]
    for (x1, x2), label in zip(points, labels):
        shown = str(int(label)) if problem == "classification" else repr(float(label))
        lines.append(f"{float(x1)!r},{float(x2)!r},{shown}")
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return text


def points_of_bundle(bundle) -> tuple[np.ndarray, np.ndarray]:
    """All points and labels (class indices, or values in original units) of a loaded data set."""
    points = np.concatenate([bundle.raw_train, bundle.raw_dev, bundle.raw_test]).astype(np.float64)
    labels = np.concatenate([bundle.y_train, bundle.y_dev, bundle.y_test]).astype(np.float64)
    if bundle.task == "regression":
        labels = bundle.preprocessor.inverse_target(labels.astype(np.float32)).astype(np.float64)
    return points[:, :2], labels
