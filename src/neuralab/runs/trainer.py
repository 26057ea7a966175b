"""Training an experiment into a run directory, and resuming one: the run-writing path of every front end.

:func:`train_run` builds the :class:`~neuralab.training.experiment.Experiment`, claims the
run directory only after every check passed, keeps it resumable while training (signal
handlers installed first; checkpoints by :class:`~neuralab.runs.keeping.Checkpointing`),
and finishes it with :func:`~neuralab.runs.layout.finish_run`. :func:`resume_run` continues
an interrupted run from its checkpoint, bit for bit. ``neuralab.train`` and
``neuralab.resume``, the doctor's rounds and a study's final run all come here.

Example:
    >>> import neuralab
    >>> run = train_run(neuralab.load_spec({"data": {"dataset": "xor", "n_samples": 60}, "train": {"epochs": 2}}),
    ...                 out_dir=None)
    >>> run.summary["epochs_run"], run.dir is None
    (2, True)
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from pathlib import Path

from neuralab.data import DataBundle
from neuralab.errors import RunError, SpecError, TrainingInterrupted
from neuralab.runs.checkpoint import Checkpoint, read_checkpoint, restore
from neuralab.runs.files import claim_folder
from neuralab.runs.keeping import CHECKPOINT_FOLDER, Checkpointing
from neuralab.runs.layout import finish_run, run_of, start_run
from neuralab.runs.run import Run
from neuralab.spec import ExperimentSpec, dump_spec, load_spec
from neuralab.training import Callback, TrainingState
from neuralab.training.callbacks.tensorboard import TensorBoardLogger, require_tensorboard
from neuralab.training.experiment import Experiment
from neuralab.training.interrupt import exit_code, stop_on_signals

log = logging.getLogger(__name__)


def train_run(spec: ExperimentSpec, *, out_dir: str | Path | None, callbacks: Iterable[Callback] = (),
              bundle: DataBundle | None = None) -> Run:
    """Train ``spec`` (on ``bundle`` when given) into a new run directory under ``out_dir`` (None: none)."""
    return _train(spec, out_dir=out_dir, callbacks=callbacks, bundle=bundle)


def resume_run(run_dir: str | Path, *, callbacks: Iterable[Callback] = ()) -> Run:
    """Continue the interrupted run in ``run_dir`` from its last checkpoint (see ``neuralab.resume``)."""
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
    experiment = Experiment.from_spec(spec, bundle=bundle)
    state = experiment.state
    fingerprint = {"spec": hashlib.sha256(dump_spec(spec).encode()).hexdigest()[:16],
                   "data": experiment.bundle.fingerprint()}
    if spec.train.tensorboard:
        require_tensorboard()
    # Ctrl-C / SIGTERM: finish the batch, checkpoint, stop. Installed before the run directory
    # exists, so a signal at any moment leaves either nothing or a resumable run.
    with stop_on_signals(state):
        if checkpoint is not None:
            _check_fingerprint(checkpoint, fingerprint, run_dir)
            with experiment.training():  # the saved global RNG state becomes the experiment's own
                restore(state, checkpoint)
        elif out_dir is not None:
            run_dir = start_run(spec, out_dir)  # after every check: a refused spec or data set writes nothing
        board = tensorboard_logger(spec, run_dir, checkpoint=checkpoint) if spec.train.tensorboard else None
        keeper = [Checkpointing(run_dir, every=spec.train.checkpoint_every, seconds=spec.train.checkpoint_seconds,
                                fingerprint=fingerprint, resume_from=checkpoint)] if run_dir is not None else []
        experiment.fit([*callbacks, *([board] if board else []), *keeper])
    if state.interrupted:
        if board is not None:
            board.close()
        raise _interrupted(state, run_dir)
    run = run_of(experiment, seconds=time.perf_counter() - started)
    if board is not None:
        board.finish(run.summary)
        run.tensorboard = board.log_dir
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
        return TensorBoardLogger(claim_folder(parent, spec.name), every=spec.diagnose.health_every)
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
