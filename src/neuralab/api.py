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
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from rich.console import Console

from neuralab.data import DataBundle
from neuralab.progress import EpochProgress, TrialProgress, wanted
from neuralab.runs.evaluation import evaluate_run
from neuralab.runs.predicting import predict_table
from neuralab.runs.run import Run, load_run
from neuralab.runs.trainer import resume_run, train_run
from neuralab.spec import ExperimentSpec, load_spec
from neuralab.training import Callback

log = logging.getLogger(__name__)


def train(spec: ExperimentSpec | str | Path | Mapping[str, Any], out_dir: str | Path | None = "runs", *,
          overrides: Mapping[str, Any] | Sequence[str] | None = None,
          callbacks: Iterable[Callback] = (), bundle: DataBundle | None = None, progress: bool | None = None) -> Run:
    """Train the network a spec describes, score it on dev and test, and write the run.

    Args:
        spec: an ExperimentSpec, a spec file path, or a mapping.
        out_dir: parent folder of the run directory (default ``runs``); None writes nothing.
        overrides: dotted overrides applied to ``spec`` first (see :func:`neuralab.load_spec`).
        callbacks: extra training callbacks (progress, recording...).
        bundle: data already loaded (e.g. from arrays); default: the spec's data set.
        progress: show progress over the epochs — a bar in terminals and notebooks, a line every
            few epochs when output is piped; None (default) shows it where a person watches (a
            terminal or a notebook), True always, False never.

    Returns:
        A :class:`~neuralab.runs.Run` with ``.summary``, ``.history``, ``.model`` and ``.dir``.

    Raises:
        SpecError, DataError: before any training, one line per problem.
        TrainingInterrupted: Ctrl-C or SIGTERM stopped training; the checkpoint is saved and
            :func:`resume` continues the run.
    """
    spec = spec if isinstance(spec, ExperimentSpec) and not overrides else load_spec(spec, overrides=overrides)
    return train_run(spec, out_dir=out_dir, callbacks=[*callbacks, *_epoch_display(progress, spec)], bundle=bundle)


def resume(run_dir: str | Path, *, callbacks: Iterable[Callback] = (), progress: bool | None = None) -> Run:
    """Continue an interrupted or killed run from its last checkpoint, in the same directory.

    The resumed run ends with the same weights and metrics (all but seconds) as one that
    was never stopped: weights, optimiser, schedule, early-stopping state, RNG states and
    the position inside the epoch all come back from the checkpoint.

    Args:
        run_dir: a run directory written by :func:`train` that has no ``summary.json`` yet.
        callbacks: extra training callbacks (progress, recording...).
        progress: as for :func:`train` (says which epoch the run resumes from).

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
    display = []
    if wanted(progress, Console()):
        spec = load_spec(Path(run_dir) / "spec.yaml") if (Path(run_dir) / "spec.yaml").is_file() else None
        display = _epoch_display(progress, spec) if spec is not None else []
    return resume_run(run_dir, callbacks=[*callbacks, *display])


def tune_study(spec: ExperimentSpec | str | Path | Mapping[str, Any], space: Any, *, progress: bool | None = None,
               **options: Any) -> Any:
    """Search hyperparameters with an Optuna study, showing the trials' progress (see :func:`train`'s ``progress``).

    Every other option is :func:`neuralab.tune.search.tune_study`'s: ``sampler``, ``trials``,
    ``pruner``, ``storage``, ``study_name``, ``resume``, ``out_dir``, ``overrides``, ``final``,
    ``callbacks``, ``on_trial``… A new study gets a fresh name unless ``resume=True`` or a
    ``study_name`` says which to continue. Returns its :class:`~neuralab.tune.search.TuneResult`.
    """
    from neuralab.tune.search import tune_study as search

    with _trial_display(progress, "tune") as display:
        return search(spec, space, **_with_display(options, display))


def sweep(spec: ExperimentSpec | str | Path | Mapping[str, Any], param: str, values: Any, *,
          progress: bool | None = None, **options: Any) -> Any:
    """Sensitivity of one hyperparameter: train once per value, showing progress (see :func:`train`).

    Every other option is :func:`neuralab.tune.sweep.sweep`'s (``out_dir``, ``overrides``,
    ``storage``, ``study_name``, ``resume``, ``final``…). Returns a
    :class:`~neuralab.tune.search.TuneResult`.
    """
    from neuralab.tune.sweep import sweep as run_sweep

    with _trial_display(progress, f"sweep {param}") as display:
        return run_sweep(spec, param, values, **_with_display(options, display))


def _epoch_display(progress: bool | None, spec: ExperimentSpec) -> list[Callback]:
    console = Console()
    if not wanted(progress, console):
        return []
    return [EpochProgress(console, total_epochs=spec.train.epochs, label=spec.name, show_model=False)]


def _trial_display(progress: bool | None, label: str) -> Any:
    console = Console()
    return TrialProgress(console, label) if wanted(progress, console) else nullcontext()


def _with_display(options: dict[str, Any], display: Any) -> dict[str, Any]:
    if display is None:
        return options
    given = options.get("on_trial")

    def on_trial(report: Any) -> None:
        display(report)
        if given is not None:
            given(report)

    return {**options, "on_trial": on_trial}


def evaluate(run: Run | str | Path, *, data: str | Path | None = None) -> dict[str, Any]:
    """Re-score a saved run on its test split (regenerated from its spec) or on a new labelled file.

    Args:
        run: a Run or a run directory.
        data: a CSV/Parquet file with the run's input columns and its target column; default
            the run's own test split.

    Returns:
        ``test_loss``, ``test_error`` (``data_…`` for a file); for classifiers ``accuracy``,
        ``per_class`` precision/recall/F1/support and ``confusion_matrix`` (also drawn as
        ``confusion_matrix.png`` in the run directory); for regression ``…_rmse`` and ``…_r2``;
        for the test split the values recorded at training as ``recorded_test_error`` /
        ``recorded_test_loss``. See :func:`neuralab.runs.evaluation.evaluate_run`.

    Raises:
        RunError: the data the spec now yields differ from those the run was trained on.
        DataError: the file lacks a column or holds a label the run never saw.
    """
    run = run if isinstance(run, Run) else load_run(run)
    return evaluate_run(run, data=data)


def predict(run: Run | str | Path, inputs: str | Path | np.ndarray, *,
            output: str | Path | None = None) -> dict[str, list]:
    """Predict for new raw inputs: a CSV/Parquet file (or an array) with the run's input columns.

    Args:
        run: a Run or a run directory.
        inputs: a file holding the run's input columns (``run.preprocessor.input_columns``;
            other columns are kept and ignored), or an array ``(n, columns)`` of numbers.
        output: CSV path to write: the input's columns untouched, then ``prediction`` and one
            ``probability_<class>`` per class (written atomically).

    Returns:
        ``{column: [...], "prediction": [...], "probability_<class>": [...], ...}`` column lists.

    Raises:
        DataError: missing columns (naming every column the run needs), bad values, unknown words.
    """
    run = run if isinstance(run, Run) else load_run(run)
    return predict_table(run, inputs, output=output)
