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

import hashlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuralab.data import DataBundle, load_data, read_inputs
from neuralab.errors import RunError, SpecError, TrainingInterrupted
from neuralab.models import layer_summary
from neuralab.run import Run, finish_run, fresh_name, load_run, start_run, to_tensor
from neuralab.spec import ExperimentSpec, dump_spec, load_spec
from neuralab.training import Callback, TrainingState, fit
from neuralab.training.callbacks.checkpoint import CHECKPOINT_FOLDER, Checkpointing
from neuralab.training.interrupt import exit_code, stop_on_signals
from neuralab.training.loop import new_state
from neuralab.training.state_io import Checkpoint, read_checkpoint, restore
from neuralab.training.callbacks.health import HealthRecorder
from neuralab.training.callbacks.tensorboard import TensorBoardLogger, require_tensorboard
from neuralab.training.evaluate import evaluate_split, scores_of
from neuralab.training.setup import Setup, prepare, target_scale, torch_threads

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
        A :class:`~neuralab.run.Run` with ``.summary``, ``.history``, ``.model`` and ``.dir``.

    Raises:
        SpecError, DataError: before any training, one line per problem.
        TrainingInterrupted: Ctrl-C or SIGTERM stopped training; the checkpoint is saved and
            :func:`resume` continues the run.
    """
    spec = spec if isinstance(spec, ExperimentSpec) and not overrides else load_spec(spec, overrides=overrides)
    return _train(spec, out_dir=out_dir, callbacks=callbacks, bundle=bundle)


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
    folder = Path(run_dir)
    if not folder.is_dir():
        raise RunError(f"resume: {str(folder)!r} is not a directory")
    if (folder / "summary.json").is_file():
        raise RunError(f"resume: {str(folder)!r} is complete (it has summary.json); nothing to resume")
    try:
        spec = load_spec(folder / "spec.yaml")
    except SpecError as error:
        raise RunError([f"resume spec.yaml: {line}" for line in error.problems]) from None
    checkpoint = read_checkpoint(folder / CHECKPOINT_FOLDER)
    return _train(spec, run_dir=folder, checkpoint=checkpoint, callbacks=callbacks)


def _train(spec: ExperimentSpec, *, out_dir: str | Path | None = None, run_dir: Path | None = None,
           checkpoint: Checkpoint | None = None, callbacks: Iterable[Callback] = (),
           bundle: DataBundle | None = None) -> Run:
    started = time.perf_counter()
    bundle = bundle if bundle is not None else load_data(spec.data, seed=spec.seed)
    setup = prepare(spec, bundle)
    head, model, threads, scale = setup.head, setup.model, setup.threads, setup.target_scale
    splits = {name: setup.tensors(getattr(bundle, f"x_{name}"), getattr(bundle, f"y_{name}"))
              for name in ("train", "dev", "test")}
    state = new_state(model, spec)
    fingerprint = {"spec": hashlib.sha256(dump_spec(spec).encode()).hexdigest()[:16],
                   "data": data_fingerprint(bundle)}
    if spec.train.tensorboard:
        require_tensorboard()
    if checkpoint is not None:
        _check_fingerprint(checkpoint, fingerprint, run_dir)
        restore(state, checkpoint)
    elif out_dir is not None:
        run_dir = start_run(spec, out_dir)  # after every check: a refused spec or data set writes nothing
    board = tensorboard_logger(spec, run_dir, checkpoint=checkpoint) if spec.train.tensorboard else None
    keeper = [Checkpointing(run_dir, every=spec.train.checkpoint_every, fingerprint=fingerprint,
                            resume_from=checkpoint)] if run_dir is not None else []
    # Gradient/activation health for `neuralab diagnose`, on by default (diagnose.health_every).
    recorder = HealthRecorder(every=spec.diagnose.health_every) if spec.diagnose.health_every else None
    with torch_threads(threads):
        with stop_on_signals(state):  # Ctrl-C / SIGTERM: finish the batch, checkpoint, stop
            state = fit(model, head, spec, train=splits["train"], dev=splits["dev"],
                        callbacks=[*callbacks, *([board] if board else []), *([recorder] if recorder else []),
                                   *keeper],  # checkpoint last
                        target_scale=scale, state=state)
        if state.interrupted:
            if board:
                board.close()
            raise _interrupted(state, run_dir)
        final = {name: evaluate_split(model, head, *splits[name], target_scale=scale) for name in splits}
    summary = summarize(spec, bundle, setup, final=final, history=state.history, best_epoch=state.best_epoch,
                        stop_reason=state.stop_reason, diverged=state.diverged,
                        seconds=time.perf_counter() - started)
    summary["rollbacks"] = state.extras.get("rollbacks", 0)
    run = Run(spec=spec, summary=summary, history=state.history, model=model.cpu().eval(), head=head,
              preprocessor=bundle.preprocessor)
    if recorder is not None:
        run.extras["health"] = recorder.records()
    if board is not None:
        board.finish(summary)
        run.extras["tensorboard"] = board.log_dir
    if run_dir is not None:
        finish_run(run, run_dir)
        log.info("run written to %s", run.dir)
    return run


def tensorboard_logger(spec: ExperimentSpec, run_dir: Path | None, *,
                       checkpoint: Checkpoint | None = None) -> TensorBoardLogger:
    """The TensorBoard writer of a run, histograms at the doctor's rate, in ``<train.tensorboard>/``:
    the run directory's name (``-2``, ``-3``… when a run of another folder took it), the folder a
    resumed run wrote to (its checkpoint says), or a fresh ``<name>-<date>-<time>`` when the run
    is not written."""
    parent = Path(spec.train.tensorboard)
    if run_dir is None:
        return TensorBoardLogger(fresh_name(parent, spec.name), every=spec.diagnose.health_every)
    saved = checkpoint.state.get("callbacks", {}).get(TensorBoardLogger.__name__) if checkpoint else None
    if isinstance(saved, dict) and isinstance(saved.get("log_dir"), str) and Path(saved["log_dir"]).parent == parent:
        return TensorBoardLogger(saved["log_dir"], every=spec.diagnose.health_every)
    folder, counter = parent / run_dir.name, 2
    while folder.exists():
        folder, counter = parent / f"{run_dir.name}-{counter}", counter + 1
    return TensorBoardLogger(folder, every=spec.diagnose.health_every)


def _check_fingerprint(checkpoint: Checkpoint, fingerprint: dict[str, str], run_dir: Path | None) -> None:
    problems = []
    if checkpoint.fingerprint.get("spec") != fingerprint["spec"]:
        problems.append(f"resume: {run_dir}/spec.yaml changed since the checkpoint was written; "
                        "put it back, or train the changed spec as a new run")
    if checkpoint.fingerprint.get("data") != fingerprint["data"]:
        problems.append(f"resume: the data of {run_dir} changed since the checkpoint was written "
                        "(test split fingerprint differs); train anew on the new data")
    if problems:
        raise RunError(problems)


def _interrupted(state: TrainingState, run_dir: Path | None) -> TrainingInterrupted:
    position = (f"in epoch {state.epoch + 1} after {state.batch_index} batches" if state.batch_index
                else f"after epoch {len(state.history)}")
    where = f"training interrupted by {state.interrupted} {position} ({state.step} steps)"
    if run_dir is None:
        return TrainingInterrupted([f"{where}; nothing was saved (out_dir=None)"],
                                   exit_code=exit_code(state.interrupted))
    return TrainingInterrupted([f"{where}; checkpoint saved in {run_dir / CHECKPOINT_FOLDER}",
                                f"resume with: neuralab train --resume {run_dir}"],
                               exit_code=exit_code(state.interrupted), run_dir=run_dir)


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
    if recorded and recorded != data_fingerprint(bundle):
        raise RunError(f"evaluate: the data of {run.spec.data.dataset!r} changed since the run was trained "
                       "(test split fingerprint differs); retrain on the new data")
    scores = evaluate_split(run.model, run.head, to_tensor(bundle.x_test), to_tensor(bundle.y_test),
                            target_scale=target_scale(bundle))
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
        output: CSV path to write (inputs, ``prediction`` and one ``probability_<class>`` per class).

    Returns:
        ``{"prediction": [...], "probability_<class>": [...], ...}`` column lists.
    """
    run = run if isinstance(run, Run) else load_run(run)
    columns = run.preprocessor.input_columns
    raw = read_inputs(inputs, columns) if isinstance(inputs, (str, Path)) else np.asarray(inputs, dtype=np.float32)
    scores = scores_of(run.model, to_tensor(run.preprocessor.transform_inputs(raw)))
    table: dict[str, list] = {name: raw[:, i].tolist() for i, name in enumerate(columns)}
    if run.head.is_classifier:
        classes = run.summary.get("classes") or list(range(run.head.n_outputs))
        table["prediction"] = [classes[i] for i in run.head.predict(scores).tolist()]
        probabilities = run.head.probabilities(scores)
        for index, label in enumerate(classes):
            table[f"probability_{label}"] = probabilities[:, index].tolist()
    else:
        values = run.head.predict(scores).numpy()
        table["prediction"] = run.preprocessor.inverse_target(values).tolist()
    if output is not None:
        _write_table(table, Path(output))
    return table


def _write_table(table: dict[str, list], path: Path) -> None:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(table)
        writer.writerows(zip(*table.values()))


def summarize(spec: ExperimentSpec, bundle: DataBundle, setup: Setup, *, final: dict[str, dict[str, float]],
              history: list[dict[str, float]], best_epoch: int | None, stop_reason: str, diverged: bool,
              seconds: float) -> dict[str, Any]:
    """The run's ``summary.json``: task, sizes, epochs, per-split scores, timing, layers.

    Args:
        final: ``{"train"|"dev"|"test": evaluate_split(...)}`` of the kept weights.
        history, best_epoch, stop_reason, diverged: how training went.
        seconds: wall time of the whole run.
    """
    head = setup.head
    return {
        "name": spec.name, "task": head.task, "dataset": spec.data.dataset,
        "output_activation": head.output_activation, "loss": head.loss, "classes": list(bundle.classes),
        "n_parameters": setup.n_parameters, "n_train": bundle.n_train, "n_dev": bundle.n_dev, "n_test": bundle.n_test,
        "n_features": bundle.n_features, "split": bundle.split_fractions,
        "epochs_run": len(history), "best_epoch": best_epoch or len(history),
        "stop_reason": stop_reason or "completed all epochs", "diverged": diverged,
        **{f"{split}_{key}": value for split, scores in final.items() for key, value in scores.items()},
        "seconds": seconds, "device": str(setup.device), "threads": setup.threads,
        "seed": spec.seed, "data_fingerprint": data_fingerprint(bundle), "layers": layer_summary(setup.model),
    }


def data_fingerprint(bundle: DataBundle) -> str:
    """SHA-256 (first 16 hex digits) of the test split, to detect changed data at re-scoring."""
    digest = hashlib.sha256(np.ascontiguousarray(bundle.x_test).tobytes())
    digest.update(np.ascontiguousarray(bundle.y_test).tobytes())
    return digest.hexdigest()[:16]
