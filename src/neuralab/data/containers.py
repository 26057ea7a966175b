"""The data containers: :class:`RawData` from a loader and the split :class:`DataBundle`.

Example:
    >>> from neuralab.spec import DataSpec
    >>> from neuralab.data import load_data
    >>> bundle = load_data(DataSpec(dataset="xor", n_samples=100), seed=0)
    >>> bundle.n_train, bundle.n_features, bundle.task
    (60, 2, 'binary')
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Task = Literal["regression", "binary", "multiclass"]


@dataclass
class RawData:
    """What a loader returns: all rows, unsplit and unscaled.

    Attributes:
        inputs: ``(n, len(encoded_columns))`` raw inputs (text columns one-hot encoded): float32
            from files (float64 where a column needs it), float64 from generators and scikit-learn sets.
        targets: ``(n,)`` int64 class indices (classification) or float64 values.
        input_columns: names of the raw input columns (what a prediction file needs).
        classes: original labels in class-index order; ``[]`` for regression.
        features: feature expansion names (synthetic 2-D); None keeps the raw columns.
        target_name: the target's name, for messages.
        assignment: ``(n,)`` split of each row (``train``, ``dev`` or ``test``) read from
            ``data.split_column``; None: the split is drawn (seeded).
        categories: each text column's vocabulary (see :mod:`neuralab.data.categorical`).
    """

    inputs: np.ndarray
    targets: np.ndarray
    input_columns: list[str]
    classes: list = field(default_factory=list)
    features: list[str] | None = None
    target_name: str = "target"
    assignment: np.ndarray | None = None
    categories: dict[str, list[str]] = field(default_factory=dict)

    @property
    def encoded_columns(self) -> list[str]:
        """The columns of ``inputs``: numeric columns as they are, ``name=value`` per category."""
        from neuralab.data.categorical import encoded_names

        return encoded_names(self.input_columns, self.categories)

    @property
    def task(self) -> Task:
        """``regression``, ``binary`` or ``multiclass``, from the classes."""
        if not self.classes:
            return "regression"
        return "binary" if len(self.classes) == 2 else "multiclass"


@dataclass
class DataBundle:
    """Split, expanded and scaled data, ready for training, plus how it was made.

    ``x_*`` are the model inputs (float32 rows for tabular data; for sequences (n, T, d)
    float32 or (n, T) int64 token ids); ``y_*`` are int64 class indices or float32
    (standardised) regression targets, (n,) or (n, T) for a prediction at every step;
    ``raw_*`` are the float32 inputs before feature expansion and scaling, in
    ``input_columns`` order with text columns one-hot encoded (tabular data only).

    Attributes:
        kind: the data kind (``tabular``, ``sequence``, ``text``): which model kinds can learn it.
        preprocessor: turns raw inputs into model inputs and back (``to_dict``/``from_dict``).
        vocab_size, sequence_length, output_steps: what a sequence model needs to know.
        baseline_loss, baseline_rule: sequence and text data: the loss of a model without memory
            (in the loss' own units) and how it is reached.
    """

    dataset: str
    task: Task
    feature_names: list[str]
    input_columns: list[str]
    classes: list
    x_train: np.ndarray
    x_dev: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_dev: np.ndarray
    y_test: np.ndarray
    raw_train: np.ndarray
    raw_dev: np.ndarray
    raw_test: np.ndarray
    preprocessor: Any
    split_fractions: list[float]
    kind: str = "tabular"
    vocab_size: int | None = None
    sequence_length: int | None = None
    output_steps: str = "last"
    baseline_loss: float | None = None
    baseline_rule: str = ""

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return len(self.x_train)

    @property
    def n_dev(self) -> int:
        """Number of dev (validation) samples."""
        return len(self.x_dev)

    @property
    def n_test(self) -> int:
        """Number of test samples."""
        return len(self.x_test)

    @property
    def n_features(self) -> int:
        """Number of model inputs per row (per time step for sequences) after feature expansion."""
        if self.x_train.ndim == 3:  # (n, T, d) numeric sequences
            return self.x_train.shape[-1]
        return self.x_train.shape[1] if self.kind == "tabular" else 1  # (n, d) rows, or (n, T) token ids

    @property
    def n_outputs(self) -> int:
        """Output units: 1 for regression and binary, the number of classes otherwise."""
        return len(self.classes) if self.task == "multiclass" else 1

    @property
    def target_scale(self) -> float:
        """Std of the regression target in original units (1 when not standardised, or for classes)."""
        if self.task != "regression" or not hasattr(self.preprocessor, "inverse_target"):
            return 1.0
        unit = self.preprocessor.inverse_target(np.array([0.0, 1.0], dtype=np.float32))
        return float(unit[1] - unit[0])

    def fingerprint(self) -> str:
        """SHA-256 (first 16 hex digits) of the test split: detects changed data at resume or re-scoring."""
        digest = hashlib.sha256(np.ascontiguousarray(self.x_test).tobytes())
        digest.update(np.ascontiguousarray(self.y_test).tobytes())
        return digest.hexdigest()[:16]
