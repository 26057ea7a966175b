"""Predictions of a saved run for new rows: the user's columns untouched, plus the prediction.

The input is a CSV/Parquet file (or an array) holding the run's input columns
(``run.preprocessor.input_columns``; extra columns — an id, the label — are kept and
ignored). The output has every column of the input as it was read (text cells stay text:
``14.23`` is written ``14.23``), then ``prediction`` and, for classifiers, one
``probability_<class>`` per class. Files are written atomically (:mod:`neuralab.runs.files`).

Example:
    >>> import neuralab, tempfile, pathlib
    >>> run = neuralab.train({"data": {"dataset": "xor", "n_samples": 60}, "train": {"epochs": 2}}, out_dir=None)
    >>> new = pathlib.Path(tempfile.mkdtemp()) / "new.csv"
    >>> _ = new.write_text("id,x1,x2\\nA,0.5,-0.25\\n")
    >>> table = predict_table(run, new)
    >>> list(table)[:4], table["x1"]
    (['id', 'x1', 'x2', 'prediction'], ['0.5'])
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from neuralab.data.checks import finite_problems
from neuralab.data.file_sets import input_table
from neuralab.errors import DataError
from neuralab.runs.files import write_csv
from neuralab.runs.run import Run
from neuralab.training.evaluate import scores_of


def predict_table(run: Run, inputs: str | Path | np.ndarray, *, output: str | Path | None = None) -> dict[str, list]:
    """The input's columns and the run's predictions (and class probabilities), as column lists.

    Args:
        run: a loaded run.
        inputs: a CSV/Parquet file with the run's input columns, or an array ``(n, columns)``
            of numbers in ``run.preprocessor.input_columns`` order.
        output: a CSV file to write the table to (atomically), or None.

    Raises:
        DataError: missing columns (the message lists every column the run needs), values
            that are not numbers, words a text column never had, NaN/inf, no rows.
    """
    preprocessor = run.preprocessor
    columns = list(preprocessor.input_columns)
    if isinstance(inputs, (str, Path)):
        source = input_table(inputs, columns)
        raw = preprocessor.encode(source)
        table = {name: values.tolist() for name, values in source.items()}
    else:
        raw = np.asarray(inputs, dtype=np.float64)
        if raw.ndim != 2 or raw.shape[1] != len(preprocessor.encoded_columns):
            raise DataError(f"inputs: expected an array of {len(preprocessor.encoded_columns)} columns "
                            f"({', '.join(preprocessor.encoded_columns)}), got shape {raw.shape}")
        table = {name: raw[:, index].tolist() for index, name in enumerate(preprocessor.encoded_columns)}
    problems = finite_problems(raw, preprocessor.encoded_columns)
    if problems:
        raise DataError([f"inputs: {line}" for line in problems])
    scores = scores_of(run.model, torch.from_numpy(preprocessor.transform_inputs(raw)))
    table.update(_predictions(run, scores, taken=set(table)))
    if output is not None:
        write_predictions(table, output)
    return table


def _predictions(run: Run, scores: torch.Tensor, *, taken: set[str]) -> dict[str, list]:
    """``prediction`` (and ``probability_<class>``), renamed ``…_predicted`` where the input has that column."""
    def name(column: str) -> str:
        return column if column not in taken else f"{column}_predicted"

    if not run.head.is_classifier:
        values = run.head.predict(scores).numpy()
        return {name("prediction"): run.preprocessor.inverse_target(values).tolist()}
    classes = run.summary.get("classes") or list(range(run.head.n_outputs))
    result = {name("prediction"): [classes[i] for i in run.head.predict(scores).tolist()]}
    probabilities = run.head.probabilities(scores)
    for index, label in enumerate(classes):
        result[name(f"probability_{label}")] = probabilities[:, index].tolist()
    return result


def write_predictions(table: dict[str, list], path: str | Path) -> Path:
    """Write the table as CSV, replacing ``path`` in one step (its folder is made when missing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(path, [dict(zip(table, row)) for row in zip(*table.values())], list(table))
    return path
