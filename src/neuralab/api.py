"""The Python API: train a spec, re-score a saved run, predict with it.

Example:
    >>> import neuralab, tempfile
    >>> spec = neuralab.load_spec({"data": {"dataset": "circle", "n_samples": 200}},
    ...                           overrides={"train.epochs": 3, "model.hidden": [8]})
    >>> run = neuralab.train(spec, out_dir=None)
    >>> sorted(k for k in run.summary if k.endswith("_error"))
    ['dev_error', 'test_error', 'train_error']
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neuralab.data import DataBundle, load_data, read_inputs
from neuralab.errors import RunError
from neuralab.runs.files import check_output_file, make_folder, write_csv_columns
from neuralab.runs.run import Run, load_run
from neuralab.runs.trainer import resume_run, train_run
from neuralab.spec import ExperimentSpec, load_spec
from neuralab.training import Callback
from neuralab.training.evaluate import evaluate_split, scores_of

log = logging.getLogger(__name__)


def train(spec: ExperimentSpec | str | Path | Mapping[str, Any], out_dir: str | Path | None = "runs", *,
          overrides: Mapping[str, Any] | Sequence[str] | None = None,
          callbacks: Iterable[Callback] = (), bundle: DataBundle | None = None) -> Run:
    """Train the network a spec describes, score it on dev and test, and write the run.

    Args:
        spec: an ExperimentSpec, a spec file path, or a mapping.
        out_dir: parent folder of the run directory (default ``runs``); None writes nothing.
        overrides: dotted overrides applied to ``spec`` first (see :func:`neuralab.load_spec`).
        callbacks: extra training callbacks (progress, recording...).
        bundle: data already loaded (e.g. from arrays); default: the spec's data set.

    Returns:
        A :class:`~neuralab.runs.Run` with ``.summary``, ``.history``, ``.model`` and ``.dir``.

    Raises:
        SpecError, DataError: before any training, one line per problem.
        TrainingInterrupted: Ctrl-C or SIGTERM stopped training; the checkpoint is saved and
            :func:`resume` continues the run.
    """
    spec = spec if isinstance(spec, ExperimentSpec) and not overrides else load_spec(spec, overrides=overrides)
    return train_run(spec, out_dir=out_dir, callbacks=callbacks, bundle=bundle)


def resume(run_dir: str | Path, *, callbacks: Iterable[Callback] = ()) -> Run:
    """Continue an interrupted or killed run from its last checkpoint, in the same directory.

    The resumed run ends with the same weights and metrics (all but seconds) as one that
    was never stopped: weights, optimiser, schedule, early-stopping state, RNG states and
    the position inside the epoch all come back from the checkpoint.

    Args:
        run_dir: a run directory written by :func:`train` that has no ``summary.json`` yet.
        callbacks: extra training callbacks (progress, recording...).

    Raises:
        RunError: the run is complete, has no checkpoint, or its spec, data or checkpoint
            changed or do not fit.

    Example:
        >>> import neuralab, tempfile
        >>> run = neuralab.train({"data": {"dataset": "xor", "n_samples": 60}, "train": {"epochs": 2}},
        ...                      out_dir=tempfile.mkdtemp())
        >>> try:
        ...     neuralab.resume(run.dir)  # a complete run: nothing to resume
        ... except neuralab.RunError as error:
        ...     print("is complete" in str(error))
        True
    """
    return resume_run(run_dir, callbacks=callbacks)


def evaluate(run: Run | str | Path) -> dict[str, float]:
    """Re-score a saved run on its test split, regenerating the data from its spec.

    Returns:
        ``test_loss``, ``test_error`` (+ ``test_rmse``, ``test_r2`` for regression), and the
        values recorded at training time as ``recorded_test_error`` / ``recorded_test_loss``.

    Raises:
        RunError: the data the spec now yields differ from those the run was trained on.
    """
    run = run if isinstance(run, Run) else load_run(run)
    bundle = load_data(run.spec.data, seed=run.spec.seed)
    recorded = run.summary.get("data_fingerprint")
    if recorded and recorded != bundle.fingerprint():
        raise RunError(f"evaluate: the data of {run.spec.data.dataset!r} changed since the run was trained "
                       "(test split fingerprint differs); retrain on the new data")
    scores = evaluate_split(run.model, run.head, torch.from_numpy(bundle.x_test), torch.from_numpy(bundle.y_test),
                            target_scale=bundle.target_scale)
    result = {f"test_{key}": value for key, value in scores.items()}
    for key in ("test_error", "test_loss"):
        if key in run.summary:
            result[f"recorded_{key}"] = run.summary[key]
    return result


def predict(run: Run | str | Path, inputs: str | Path | np.ndarray, *,
            output: str | Path | None = None) -> dict[str, list]:
    """Predict for new raw inputs (a CSV/Parquet path or an array of the run's input columns).

    Args:
        run: a Run or a run directory.
        inputs: file with the run's input columns (see ``preprocessor.input_columns``) or an
            array (n, n_columns) in that order.
        output: CSV path to write (inputs, ``prediction`` and one ``probability_<class>`` per class),
            replaced in one step: a failed write leaves no partial file.

    Returns:
        ``{"prediction": [...], "probability_<class>": [...], ...}`` column lists (for millions
        of rows, :func:`prediction_columns` gives the same as numpy arrays, at a fraction of the memory).

    Raises:
        RunError, DataError: a bad run directory or input file.
        StorageError: ``output`` is a directory or cannot be written (disk full, permission denied…).
    """
    return {name: values.tolist() for name, values in prediction_columns(run, inputs, output=output).items()}


def prediction_columns(run: Run | str | Path, inputs: str | Path | np.ndarray, *,
                       output: str | Path | None = None) -> dict[str, np.ndarray]:
    """:func:`predict`'s columns as numpy arrays; ``output`` is written block by block (what the CLI uses)."""
    if output is not None:
        check_output_file(output, what="predict output")  # before any work: a wrong path costs nothing
    run = run if isinstance(run, Run) else load_run(run)
    columns = run.preprocessor.input_columns
    raw = read_inputs(inputs, columns) if isinstance(inputs, (str, Path)) else np.asarray(inputs, dtype=np.float32)
    scores = scores_of(run.model, torch.from_numpy(run.preprocessor.transform_inputs(raw)))
    table: dict[str, np.ndarray] = {name: raw[:, i] for i, name in enumerate(columns)}
    if run.head.is_classifier:
        classes = list(run.preprocessor.classes) or list(range(run.head.n_outputs))  # model.json's, validated
        labels = np.empty(len(classes), dtype=object)
        labels[:] = classes
        table["prediction"] = labels[run.head.predict(scores).numpy()]
        probabilities = run.head.probabilities(scores).numpy()
        for index, label in enumerate(classes):
            table[f"probability_{label}"] = probabilities[:, index]
    else:
        table["prediction"] = run.preprocessor.inverse_target(run.head.predict(scores).numpy())
    if output is not None:
        make_folder(Path(output).parent)
        write_csv_columns(output, table)  # atomic: all or nothing, one block of rows in memory at a time
    return table
