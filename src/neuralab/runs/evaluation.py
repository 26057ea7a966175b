"""Scoring a saved run: on its test split (regenerated from its spec) or on a new labelled file.

Loss and error as training reports them; for classifiers also accuracy, per-class
precision, recall, F1 and support, and the confusion matrix (scikit-learn's metrics), drawn
into the run directory as ``confusion_matrix.png`` (``confusion_matrix-<file>.png`` for a
file); RMSE and R² (in the target's units) for regression.

Example:
    >>> import neuralab, tempfile
    >>> run = neuralab.train({"data": {"dataset": "iris"}, "model": {"hidden": [8]}, "train": {"epochs": 3}},
    ...                      out_dir=tempfile.mkdtemp())
    >>> result = evaluate_run(run)
    >>> result["split"], sorted(result["per_class"]), len(result["confusion_matrix"])
    ('test', ['setosa', 'versicolor', 'virginica'], 3)
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from neuralab.data.file_sets import input_table
from neuralab.data.table import numeric_column
from neuralab.errors import DataError, RunError
from neuralab.runs.files import save_figure
from neuralab.runs.run import Run, run_data
from neuralab.training.evaluate import evaluate_split, scores_of


def evaluate_run(run: Run, *, data: str | Path | None = None, picture: bool = True) -> dict[str, Any]:
    """Score ``run`` on its test split, or on the labelled CSV/Parquet file ``data``.

    Args:
        run: a loaded run.
        data: a file with the run's input columns and its target column; None: the test split.
        picture: draw the confusion matrix into the run directory (classifiers with a directory).

    Returns:
        ``split`` ("test" or the file), ``rows``, ``<prefix>_loss``, ``<prefix>_error`` (prefix
        ``test`` or ``data``), for classifiers ``accuracy``, ``per_class`` ({label: precision,
        recall, f1, support}) and ``confusion_matrix`` (rows: true class), for regression
        ``<prefix>_rmse`` and ``<prefix>_r2``; ``picture``: the PNG written, if any.

    Raises:
        RunError: the data the spec yields changed since training (test split).
        DataError: the file lacks a column, holds a label the run never saw, or bad values.
    """
    sequences = run.shape.sequence_length is not None  # sequence tasks and language models: no table rows
    if data is None:
        bundle = _test_bundle(run)
        inputs, targets, split, prefix, scale = bundle.x_test, bundle.y_test, "test", "test", bundle.target_scale
    elif sequences:
        raise RunError(f"evaluate --data: {run.dir or run.spec.name} learned sequences ({run.spec.data.dataset!r}), "
                       "not rows of a table; evaluate scores its own test split (leave out --data)")
    else:
        inputs, targets = _labelled_file(run, Path(data))
        split, prefix, scale = str(data), "data", _target_scale(run)
    scores = evaluate_split(run.model, run.head, torch.from_numpy(inputs), torch.from_numpy(targets),
                            target_scale=scale)
    result: dict[str, Any] = {"split": split, "rows": len(targets),
                              **{f"{prefix}_{key}": value for key, value in scores.items()}}
    if run.head.is_classifier and not sequences:  # per-class scores of table rows (not of every next token)
        result.update(_class_metrics(run, inputs, targets))
        if picture and run.dir is not None:
            name = "confusion_matrix.png" if data is None else f"confusion_matrix-{Path(data).stem}.png"
            result["picture"] = str(_draw(run, result, Path(run.dir) / name, title=f"{run.spec.name}: {split}"))
    if data is None:
        for key in ("test_error", "test_loss"):
            if key in run.summary:
                result[f"recorded_{key}"] = run.summary[key]
    return result


def _test_bundle(run: Run) -> Any:
    """The run's data regenerated from its spec (a language model's with its own vocabulary), checked unchanged."""
    bundle = run_data(run)
    recorded = run.summary.get("data_fingerprint")
    if recorded and recorded != bundle.fingerprint():
        raise RunError(f"evaluate: the data of {run.spec.data.dataset!r} changed since the run was trained "
                       "(test split fingerprint differs); retrain on the new data")
    return bundle


def _labelled_file(run: Run, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs and targets of a labelled file, prepared as the training rows were."""
    preprocessor = run.preprocessor
    target = preprocessor.target_column or run.spec.data.target
    if target is None:
        raise RunError("evaluate --data: this run does not record its target column (trained before neuralab "
                       "kept it, or not from a file); retrain it to score labelled files")
    table = input_table(path, [*preprocessor.input_columns, target])
    inputs = preprocessor.transform_inputs(preprocessor.encode(table))
    if run.head.is_classifier:
        return inputs, _class_indices(table[target], preprocessor.classes, target)
    values = numeric_column(target, table[target], what="target column")
    return inputs, preprocessor.transform_target(values)


def _class_indices(values: np.ndarray, classes: list, target: str) -> np.ndarray:
    """Each label's index in the run's classes (labels compared as the training file wrote them)."""
    index = {_label_text(label): i for i, label in enumerate(classes)}
    found = [index.get(_label_text(value)) for value in values]
    unknown = sorted({str(value) for value, i in zip(values, found) if i is None})
    if unknown:
        raise DataError(f"target column {target!r}: label(s) {', '.join(unknown[:5])} are not among the run's "
                        f"classes {', '.join(map(str, classes))}")
    return np.asarray(found, dtype=np.int64)


def _label_text(value: Any) -> str:
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else repr(number)


def _target_scale(run: Run) -> float:
    unit = run.preprocessor.inverse_target(np.array([0.0, 1.0]))
    return float(unit[1] - unit[0]) if run.head.task == "regression" else 1.0


def _class_metrics(run: Run, inputs: np.ndarray, targets: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    predicted = run.head.predict(scores_of(run.model, torch.from_numpy(inputs))).numpy()
    classes = run.summary.get("classes") or list(range(run.head.n_outputs))
    labels = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(targets, predicted, labels=labels,
                                                                     zero_division=0)
    return {
        "accuracy": float(np.mean(predicted == targets)) if len(targets) else float("nan"),
        "classes": classes,
        "per_class": {label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                      for label, p, r, f, s in zip(classes, precision, recall, f1, support)},
        "confusion_matrix": confusion_matrix(targets, predicted, labels=labels).tolist(),
    }


def _draw(run: Run, result: dict[str, Any], path: Path, *, title: str) -> Path:
    from neuralab.viz.confusion import plot_confusion_matrix

    return save_figure(plot_confusion_matrix(result["confusion_matrix"], result["classes"], title=title), path)
