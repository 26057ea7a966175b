"""Own data in the playground: points clicked on the heat map or uploaded as CSV.

The points live in the session as :class:`OwnData` — each point with its label and its
split (train, dev or test) — and in a CSV file (columns ``x1, x2, label, split``) in the
session's own temporary folder, which neuralab's ``csv`` data set reads like any file
(``data.split_column: split``): the same loader and scaling as ``neuralab train``, and the
same split. A clicked point joins the training split (or the test split), the others stay
where they are, and training goes on (:meth:`Session.add_point` calls :func:`append_to_bundle`).
Own data use the raw x1, x2 inputs (the feature expansion belongs to the generated sets).
An exported spec names the file ``playground-data.csv``, downloaded beside it.

Example:
    >>> points, labels, problem = parse_csv("x1,x2,label\\n0,1,0\\n1,0,1\\n2,2,1\\n")
    >>> points.shape, labels.tolist(), problem
    ((3, 2), [0.0, 1.0, 1.0], 'classification')
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from neuralab.data import DataBundle
from neuralab.data.split import split_indices, split_sizes
from neuralab.playground.messages import MessageError

MAX_POINTS = 5000
MAX_CLASSES = 6
EXPORT_NAME = "playground-data.csv"
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class OwnData:
    """The own points: raw (x1, x2), labels (class numbers or values), split names, and the square drawn."""

    points: np.ndarray  # (n, 2)
    labels: np.ndarray  # (n,)
    split: np.ndarray  # (n,) "train", "dev" or "test"
    square: tuple[float, float]

    def __len__(self) -> int:
        return len(self.labels)

    def add(self, *, x: float, y: float, label: float, split: str) -> "OwnData":
        """These data with one more point; the square stays (the map does not move under the cursor)."""
        return replace(self, points=np.vstack([self.points, [[x, y]]]), labels=np.append(self.labels, label),
                       split=np.append(self.split, split))


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


def from_points(points: np.ndarray, labels: np.ndarray, *, problem: str, fractions: list[float],
                seed: int) -> OwnData:
    """Uploaded points, split by ``fractions`` (seeded, stratified for classes), in the square that fits them."""
    sizes = split_sizes(len(labels), fractions) if len(labels) >= 3 else (len(labels), 0, 0)
    parts = split_indices(labels, sizes, seed=seed, stratify=problem == "classification")
    split = np.empty(len(labels), dtype=object)
    for name, index in zip(SPLITS, parts):
        split[index] = name
    return OwnData(points, labels, split, fitted_square(points))


def from_bundle(bundle: DataBundle, square: tuple[float, float]) -> OwnData:
    """The points of a loaded data set as own data, each in the split it is in now."""
    points = np.concatenate([bundle.raw_train, bundle.raw_dev, bundle.raw_test]).astype(np.float64)[:, :2]
    labels = np.concatenate([bundle.y_train, bundle.y_dev, bundle.y_test]).astype(np.float64)
    if bundle.task == "regression":
        labels = bundle.preprocessor.inverse_target(labels.astype(np.float32)).astype(np.float64)
    elif bundle.classes:
        labels = np.asarray([float(label) for label in bundle.preprocessor.labels(labels)])
    split = np.array(["train"] * bundle.n_train + ["dev"] * bundle.n_dev + ["test"] * bundle.n_test, dtype=object)
    return OwnData(points, labels, split, square)


def fitted_square(points: np.ndarray) -> tuple[float, float]:
    """A square around the points, 10 % wider than their extent."""
    low, high = float(points.min()), float(points.max())
    pad = 0.1 * (high - low or 1.0)
    return low - pad, high + pad


def check_point(*, x: float, y: float, label: float, problem: str, count: int) -> None:
    """Refuse a clicked point whose label does not fit the problem, or one too many."""
    if problem == "classification" and (label != int(label) or not 0 <= label < MAX_CLASSES):
        raise MessageError(f"add_point.label: {label:g} — a class is a whole number from 0 to {MAX_CLASSES - 1}")
    if count >= MAX_POINTS:
        raise MessageError(f"add_point: own data hold at most {MAX_POINTS} points")


def write_csv(path: Path, own: OwnData, *, problem: str) -> str:
    """Write (and return) the CSV text neuralab's csv data set reads: x1, x2, label, split."""
    lines = ["x1,x2,label,split"]
    for (x1, x2), label, split in zip(own.points, own.labels, own.split):
        shown = str(int(label)) if problem == "classification" else repr(float(label))
        lines.append(f"{float(x1)!r},{float(x2)!r},{shown},{split}")
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return text


def append_to_bundle(bundle: DataBundle, *, x: float, y: float, label: float, split: str) -> bool:
    """Add one point to a split of a loaded bundle, scaled as the others were (no refit).

    Returns False when it cannot join without rebuilding: a class the network has no output for.
    """
    raw = np.array([[x, y]], dtype=np.float64)
    if bundle.task == "regression":
        target = bundle.preprocessor.transform_target(np.array([label]))
    elif label in bundle.classes:
        target = np.array([bundle.classes.index(label)], dtype=np.int64)
    else:
        return False
    setattr(bundle, f"x_{split}", np.concatenate([getattr(bundle, f"x_{split}"), bundle.preprocessor.transform_inputs(raw)]))
    setattr(bundle, f"y_{split}", np.concatenate([getattr(bundle, f"y_{split}"), target.astype(getattr(bundle, f"y_{split}").dtype)]))
    setattr(bundle, f"raw_{split}", np.concatenate([getattr(bundle, f"raw_{split}"), raw.astype(np.float32)]))
    return True
