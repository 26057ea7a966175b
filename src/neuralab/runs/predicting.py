"""Predictions of a saved run for new rows: the user's columns untouched, plus the prediction.

The input is a CSV/Parquet file (or an array) holding the run's input columns
(``run.preprocessor.input_columns``; extra columns — an id, the label — are kept and
ignored). The output has every column of the input as it was read: text cells stay text,
numbers are written in their shortest form (``14.23``, not ``14.2299995``; whole numbers as
``0``), then ``prediction`` and, for classifiers, one ``probability_<class>`` per class. The
file is written block by block and atomically (:mod:`neuralab.runs.files`).

Example:
    >>> import neuralab, tempfile, pathlib
    >>> run = neuralab.train({"data": {"dataset": "xor", "n_samples": 60}, "train": {"epochs": 2}}, out_dir=None)
    >>> new = pathlib.Path(tempfile.mkdtemp()) / "new.csv"
    >>> _ = new.write_text("id,x1,x2\\nA,0.5,-0.25\\n")
    >>> table = predict_table(run, new)
    >>> list(table)[:4], table["x1"].tolist()
    (['id', 'x1', 'x2', 'prediction'], [0.5])
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from neuralab.data.checks import finite_problems
from neuralab.data.file_sets import input_table
from neuralab.errors import DataError, RunError
from neuralab.runs.files import check_output_file, make_folder, write_csv_columns
from neuralab.runs.run import Run
from neuralab.training.evaluate import scores_of


def predict_table(run: Run, inputs: str | Path | np.ndarray, *,
                  output: str | Path | None = None) -> dict[str, np.ndarray]:
    """The input's columns and the run's predictions (and class probabilities), as numpy columns.

    Args:
        run: a loaded run.
        inputs: a CSV/Parquet file with the run's input columns, or an array ``(n, columns)``
            of numbers in ``run.preprocessor.encoded_columns`` order.
        output: a CSV file to write the table to, or None. It is written block by block under a
            temporary name and renamed into place: a failed write (disk full) leaves no partial file.

    Raises:
        RunError: the run learned sequences, not rows of a table.
        DataError: missing columns (the message lists every column the run needs), values
            that are not numbers, words a text column never had, NaN/inf, no rows.
        StorageError: ``output`` is a directory or cannot be written.
    """
    if output is not None:
        check_output_file(output, what="predict output")  # before any work: a wrong path costs nothing
    if run.shape.sequence_length is not None:
        raise RunError(f"predict: reads rows of a table, but {run.dir or run.spec.name} learned sequences "
                       f"({run.spec.data.dataset!r}); `neuralab evaluate` scores its test split, and "
                       "`neuralab sample` continues a language model's text")
    preprocessor = run.preprocessor
    columns = list(preprocessor.input_columns)
    if isinstance(inputs, (str, Path)):
        table = input_table(inputs, columns)  # every column as read: text cells stay text
        raw = preprocessor.encode(table)
        table = {name: _as_written(values) for name, values in table.items()}
    else:
        raw = np.asarray(inputs)
        if raw.ndim != 2 or raw.shape[1] != len(preprocessor.encoded_columns):
            raise DataError(f"inputs: expected an array of {len(preprocessor.encoded_columns)} columns "
                            f"({', '.join(preprocessor.encoded_columns)}), got shape {raw.shape}")
        table = {name: raw[:, index] for index, name in enumerate(preprocessor.encoded_columns)}
    problems = finite_problems(raw, preprocessor.encoded_columns)
    if problems:
        raise DataError([f"inputs: {line}" for line in problems])
    scores = scores_of(run.model, torch.from_numpy(preprocessor.transform_inputs(raw)))
    table.update(_predictions(run, scores, taken=set(table)))
    if output is not None:
        make_folder(Path(output).parent)
        write_csv_columns(output, table)  # atomic: all or nothing, one block of rows in text at a time
    return table


def _as_written(values: np.ndarray) -> np.ndarray:
    """A column of numbers as a file would hold it again: whole numbers as integers (``0``, not ``0.0``);
    other float32 numbers are written in their shortest form (``14.23``) by the CSV writer."""
    if values.dtype.kind != "f" or not np.isfinite(values).all() or not (np.abs(values) < 2**24).all():
        return values
    return values.astype(np.int64) if np.array_equal(values, np.round(values)) else values


def _predictions(run: Run, scores: torch.Tensor, *, taken: set[str]) -> dict[str, np.ndarray]:
    """``prediction`` (and ``probability_<class>``), renamed ``…_predicted`` where the input has that column."""
    def name(column: str) -> str:
        return column if column not in taken else f"{column}_predicted"

    if not run.head.is_classifier:
        return {name("prediction"): run.preprocessor.inverse_target(run.head.predict(scores).numpy())}
    classes = list(run.preprocessor.classes) or list(range(run.head.n_outputs))  # model.json's, validated
    labels = np.empty(len(classes), dtype=object)
    labels[:] = classes
    result = {name("prediction"): labels[run.head.predict(scores).numpy()]}
    probabilities = run.head.probabilities(scores).numpy()
    for index, label in enumerate(classes):
        result[name(f"probability_{label}")] = probabilities[:, index]
    return result
