"""The :class:`Preprocessor`: raw inputs → model inputs, and regression targets back.

It is fitted on the training split only and saved as plain JSON (never pickled);
:meth:`Preprocessor.from_dict` validates what it reads.

Example:
    >>> import json, numpy as np
    >>> raw = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> pre = Preprocessor.fit(raw, np.array([1.0, 3.0]), input_columns=["a", "b"], task="regression")
    >>> pre.transform_inputs(raw).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    >>> Preprocessor.from_dict(json.loads(json.dumps(pre.to_dict()))) == pre
    True
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuralab.data.features import FEATURE_FUNCTIONS, RAW_COLUMNS, expand_features
from neuralab.errors import DataError, RunError

FORMAT = "neuralab.preprocessor/1"
TASKS = ("regression", "binary", "multiclass")


def _plain(value: Any) -> Any:
    """Return a numpy scalar as the matching Python scalar (JSON-safe)."""
    return value.item() if isinstance(value, np.generic) else value


def _safe_std(values: np.ndarray) -> np.ndarray:
    std = values.std(axis=0)
    return np.where((std > 0) & np.isfinite(std), std, 1.0)


@dataclass
class Preprocessor:
    """Feature expansion and standardisation with train-split statistics.

    Attributes:
        input_columns: the raw columns a prediction file must contain.
        features: expansion names from x1, x2 (synthetic data); None keeps the raw columns.
        input_mean, input_std: per model input; std is never 0 (a constant input gets 1).
        task: ``regression``, ``binary`` or ``multiclass``.
        classes: original labels in class-index order; ``[]`` for regression.
        standardize: whether inputs (and regression targets) are scaled.
        target_mean, target_std: regression target statistics; None when not scaled.
    """

    input_columns: list[str]
    input_mean: list[float]
    input_std: list[float]
    task: str = "regression"
    classes: list = field(default_factory=list)
    features: list[str] | None = None
    standardize: bool = True
    target_mean: float | None = None
    target_std: float | None = None

    @classmethod
    def fit(cls, raw: np.ndarray, targets: np.ndarray, *, input_columns: Sequence[str], task: str,
            classes: Sequence = (), features: Sequence[str] | None = None,
            standardize: bool = True) -> "Preprocessor":
        """Fit on the training split's raw inputs and targets.

        Example:
            >>> Preprocessor.fit(np.ones((2, 1)), np.zeros(2), input_columns=["a"], task="regression").input_std
            [1.0]
        """
        expanded = expand_features(raw, features) if features is not None else np.asarray(raw, np.float64)
        width = expanded.shape[1]
        mean, std = [0.0] * width, [1.0] * width
        target_mean = target_std = None
        if standardize:
            mean, std = expanded.mean(axis=0).tolist(), _safe_std(expanded).tolist()
        if task == "regression" and standardize:
            values = np.asarray(targets, dtype=np.float64)
            target_mean, target_std = float(values.mean()), float(_safe_std(values))
        return cls(input_columns=list(input_columns), input_mean=mean, input_std=std, task=task,
                   classes=[_plain(c) for c in classes], features=None if features is None else list(features),
                   standardize=standardize, target_mean=target_mean, target_std=target_std)

    @property
    def feature_names(self) -> list[str]:
        """The model inputs' names: the expansion, or the raw columns."""
        return list(self.features) if self.features is not None else list(self.input_columns)

    def transform_inputs(self, raw: np.ndarray) -> np.ndarray:
        """Turn raw ``(n, len(input_columns))`` inputs into scaled float32 model inputs.

        Example:
            >>> pre = Preprocessor(["a"], input_mean=[1.0], input_std=[2.0])
            >>> pre.transform_inputs(np.array([[5.0]])).tolist()
            [[2.0]]
        """
        raw = np.asarray(raw, dtype=np.float64)
        if raw.ndim != 2 or raw.shape[1] != len(self.input_columns):
            raise DataError(f"inputs: expected {len(self.input_columns)} columns "
                            f"({', '.join(self.input_columns)}), got shape {raw.shape}")
        return self.scale_inputs(raw).astype(np.float32)

    def scale_inputs(self, raw: Any, *, xp: Any = np) -> Any:
        """Feature expansion, then standardisation, of float64 raw rows ``(n, len(input_columns))``.

        Args:
            raw: float64 rows, already checked (see :meth:`transform_inputs`).
            xp: the array library of ``raw``: numpy (default) or torch — an exported model
                (:mod:`neuralab.export`) runs this very computation on tensors.

        Returns:
            ``(n, len(feature_names))`` float64 model inputs, before the cast to float32.
        """
        expanded = expand_features(raw, self.features, xp=xp) if self.features is not None else raw
        return (expanded - xp.asarray(self.input_mean, dtype=xp.float64)) / xp.asarray(self.input_std, dtype=xp.float64)

    def transform_target(self, targets: np.ndarray) -> np.ndarray:
        """Scale regression targets (float32); class indices pass through as int64.

        Example:
            >>> Preprocessor(["a"], [0.0], [1.0], target_mean=1.0, target_std=2.0).transform_target(np.array([3.0])).tolist()
            [1.0]
        """
        if self.task != "regression":
            return np.asarray(targets, dtype=np.int64)
        values = np.asarray(targets, dtype=np.float64)
        if self.target_mean is not None:
            values = (values - self.target_mean) / self.target_std
        return values.astype(np.float32)

    def inverse_target(self, targets: Any, *, xp: Any = np) -> Any:
        """Map regression outputs back to the target's original units (identity otherwise).

        ``xp`` is the array library of ``targets``: numpy (default) or torch (an exported model).

        Example:
            >>> Preprocessor(["a"], [0.0], [1.0], target_mean=1.0, target_std=2.0).inverse_target(np.array([1.0])).tolist()
            [3.0]
        """
        values = xp.asarray(targets)
        if self.task != "regression" or self.target_mean is None:
            return values
        return values * self.target_std + self.target_mean

    def labels(self, indices: np.ndarray) -> list:
        """Return the original class labels of class ``indices``.

        Example:
            >>> Preprocessor(["a"], [0.0], [1.0], task="binary", classes=["no", "yes"]).labels(np.array([1, 0]))
            ['yes', 'no']
        """
        return [self.classes[int(i)] for i in np.asarray(indices).ravel()]

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-safe data (lists, floats, strings) describing this preprocessor."""
        return {
            "format": FORMAT, "task": self.task, "classes": [_plain(c) for c in self.classes],
            "input_columns": list(self.input_columns),
            "features": None if self.features is None else list(self.features),
            "standardize": bool(self.standardize),
            "input_mean": [float(v) for v in self.input_mean], "input_std": [float(v) for v in self.input_std],
            "target_mean": None if self.target_mean is None else float(self.target_mean),
            "target_std": None if self.target_std is None else float(self.target_std),
        }

    @classmethod
    def from_dict(cls, data: Any) -> "Preprocessor":
        """Rebuild a preprocessor from :meth:`to_dict`'s output, validating every field.

        Raises:
            RunError: one line per missing, unknown or invalid field.

        Example:
            >>> Preprocessor.from_dict({"format": "neuralab.preprocessor/1"})
            Traceback (most recent call last):
            ...
            neuralab.errors.RunError: preprocessor: missing field(s) 'task', 'classes', ...
        """
        problems = _dict_problems(data)
        if problems:
            raise RunError(problems)
        fields = {key: value for key, value in data.items() if key != "format"}
        return cls(**fields)


# --------------------------------------------------------------------------- validation

_KEYS = ("format", "task", "classes", "input_columns", "features", "standardize",
         "input_mean", "input_std", "target_mean", "target_std")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_names(value: Any) -> bool:
    return (isinstance(value, list) and len(value) > 0 and all(isinstance(v, str) and v for v in value)
            and len(set(value)) == len(value))


def _dict_problems(data: Any) -> list[str]:
    if not isinstance(data, dict):
        return [f"preprocessor: expected a mapping of fields, got {type(data).__name__}"]
    missing = [repr(key) for key in _KEYS if key not in data]
    problems = [f"preprocessor: missing field(s) {', '.join(missing)}"] if missing else []
    problems += [f"preprocessor: unknown field {key!r}" for key in data if key not in _KEYS]
    if problems:
        return problems
    if data["format"] != FORMAT:
        problems.append(f"preprocessor: format {data['format']!r} is not {FORMAT!r}")
    if not isinstance(data["standardize"], bool):
        problems.append("preprocessor: 'standardize' must be true or false")
    problems += _column_problems(data)
    problems += _task_problems(data)
    return problems


def _column_problems(data: dict) -> list[str]:
    problems = []
    if not _is_names(data["input_columns"]):
        problems.append("preprocessor: 'input_columns' must be a list of distinct, non-empty names")
    features = data["features"]
    width = len(data["input_columns"]) if isinstance(data["input_columns"], list) else 0
    if features is not None:
        if not _is_names(features) or any(name not in FEATURE_FUNCTIONS for name in features):
            problems.append(f"preprocessor: 'features' must be distinct names from {', '.join(FEATURE_FUNCTIONS)}")
        elif data["input_columns"] != RAW_COLUMNS:
            problems.append(f"preprocessor: 'features' needs input_columns {RAW_COLUMNS}")
        width = len(features) if isinstance(features, list) else 0
    for key in ("input_mean", "input_std"):
        values = data[key]
        if not isinstance(values, list) or len(values) != width or not all(_is_number(v) for v in values):
            problems.append(f"preprocessor: {key!r} must be {width} finite numbers, one per model input")
        elif key == "input_std" and any(v <= 0 for v in values):
            problems.append("preprocessor: 'input_std' must be positive")
    return problems


def _task_problems(data: dict) -> list[str]:
    task, classes = data["task"], data["classes"]
    if task not in TASKS:
        return [f"preprocessor: task {task!r} is not one of {', '.join(TASKS)}"]
    problems = []
    if not isinstance(classes, list) or not all(isinstance(c, (str, int, float, bool)) for c in classes):
        problems.append("preprocessor: 'classes' must be a list of labels (strings or numbers)")
    elif task == "regression" and classes:
        problems.append("preprocessor: a regression preprocessor has no 'classes'")
    elif task == "binary" and len(classes) != 2:
        problems.append(f"preprocessor: a binary task needs 2 classes, got {len(classes)}")
    elif task == "multiclass" and len(classes) < 3:
        problems.append(f"preprocessor: a multiclass task needs at least 3 classes, got {len(classes)}")
    if isinstance(classes, list) and len({repr(c) for c in classes}) != len(classes):
        problems.append("preprocessor: 'classes' holds a label twice")
    mean, std = data["target_mean"], data["target_std"]
    if task == "regression":
        if (mean, std) != (None, None) and not (_is_number(mean) and _is_number(std) and std > 0):
            problems.append("preprocessor: 'target_mean' and 'target_std' must both be null, "
                            "or a finite number and a positive number")
    elif mean is not None or std is not None:
        problems.append("preprocessor: 'target_mean' and 'target_std' must be null for classification")
    return problems
