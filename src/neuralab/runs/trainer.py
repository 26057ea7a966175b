"""Training an experiment into a run directory, and resuming one: the run-writing path of every front end.

:func:`train_run` builds the :class:`~neuralab.training.experiment.Experiment`, claims the
run directory only after every check passed, keeps it resumable while training (signal
handlers installed first; checkpoints by :class:`~neuralab.runs.keeping.Checkpointing`),
and finishes it with :func:`~neuralab.runs.layout.finish_run`. :func:`resume_run` continues
an interrupted run from its checkpoint, bit for bit. ``neuralab.train`` and
``neuralab.resume``, the doctor's rounds and a study's final run all come here.

With ``group`` (several processes started by torchrun, see
:mod:`neuralab.training.distributed`) every process trains its rows of each batch and
process 0 alone writes the run directory, checkpoints and plots; a resumed run reads the
same checkpoint on every process. When another process dies, the survivors stop with a
:class:`~neuralab.errors.PeerLost` error and the run keeps its last checkpoint.

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
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from pathlib import Path

from neuralab.data import DataBundle, load_data
from neuralab.errors import PeerLost, RunError, SpecError, StorageError, TrainingInterrupted
from neuralab.runs.checkpoint import MANIFEST, Checkpoint, read_checkpoint, restore
from neuralab.runs.files import claim_folder, remove_temporaries
from neuralab.runs.fine_tuning import read_tokenizer, source_run, start_from, write_tokenizer
from neuralab.runs.keeping import CHECKPOINT_FOLDER, Checkpointing, Restoring
from neuralab.runs.layout import finish_run, run_of, start_run
from neuralab.runs.locking import hold_run
from neuralab.runs.run import Run
from neuralab.spec import ExperimentSpec, dump_spec, load_spec
from neuralab.training import Callback, TrainingState
from neuralab.training.callbacks.tensorboard import TensorBoardLogger, require_tensorboard
from neuralab.training.distributed import ProcessGroup, is_peer_failure, peer_lost_message, separate_dropout
from neuralab.training.experiment import Experiment
from neuralab.training.interrupt import exit_code, stop_on_signals

log = logging.getLogger(__name__)


def train_run(spec: ExperimentSpec, *, out_dir: str | Path | None, callbacks: Iterable[Callback] = (),
              bundle: DataBundle | None = None, init_from: str | Path | None = None,
              group: ProcessGroup | None = None) -> Run:
    """Train ``spec`` (on ``bundle`` when given) into a new run directory under ``out_dir`` (None: none).

    ``init_from``: a finished language-model run to fine-tune: its weights and vocabulary start
    this run (see :mod:`neuralab.runs.fine_tuning`). ``group``: train as one of several
    data-parallel processes.
    """
    return _train(spec, out_dir=out_dir, callbacks=callbacks, bundle=bundle, init_from=init_from, group=group)


def resume_run(run_dir: str | Path, *, callbacks: Iterable[Callback] = (), group: ProcessGroup | None = None) -> Run:
    """Continue the interrupted run in ``run_dir`` from its last checkpoint (see ``neuralab.resume``).

    The run's lock is held from before the checkpoint is read until the run is finished, so a
    second resume of the same run is refused (:mod:`neuralab.runs.locking`); temporary files a
    killed writer left are removed first. Of several data-parallel processes (``group``),
    process 0 alone holds the lock and tidies; every process reads the checkpoint.
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        raise RunError(f"resume: {str(folder)!r} is not a directory")
    writes = group is None or group.writes
    with hold_run(folder) if writes else nullcontext():
        if (folder / "summary.json").is_file():
            raise RunError(f"resume: {str(folder)!r} is complete (it has summary.json); nothing to resume")
        removed = remove_temporaries(folder) if writes else 0
        if removed:
            log.info("removed %d temporary file(s) a stopped writer left in %s", removed, folder)
        try:
            spec = load_spec(folder / "spec.yaml")
        except SpecError as error:
            raise RunError([f"resume spec.yaml: {line}" for line in error.problems]) from None
        checkpoint = read_checkpoint(folder / CHECKPOINT_FOLDER)
        return _train(spec, run_dir=folder, checkpoint=checkpoint, callbacks=callbacks, group=group)


def _train(spec: ExperimentSpec, *, out_dir: str | Path | None = None, run_dir: Path | None = None,
           checkpoint: Checkpoint | None = None, callbacks: Iterable[Callback] = (),
           bundle: DataBundle | None = None, init_from: str | Path | None = None,
           group: ProcessGroup | None = None) -> Run:
    started = time.perf_counter()
    source = source_run(init_from, spec) if init_from is not None else None
    vocabulary = source.preprocessor if source is not None else read_tokenizer(run_dir) if run_dir else None
    if bundle is None and vocabulary is not None:  # a fine-tuned or resumed language model keeps its tokens
        bundle = load_data(spec.data, seed=spec.seed, vocabulary=vocabulary)
    experiment = Experiment.from_spec(spec, bundle=bundle, group=group)
    if source is not None:
        start_from(experiment, source)
    state = experiment.state
    writes = group is None or group.writes  # of several processes, process 0 alone writes the run
    fingerprint = {"spec": hashlib.sha256(dump_spec(spec).encode()).hexdigest()[:16],
                   "data": experiment.bundle.fingerprint()}
    if spec.train.tensorboard:
        require_tensorboard()
    # Ctrl-C / SIGTERM: finish the batch, checkpoint, stop. Installed before the run directory
    # exists, so a signal at any moment leaves either nothing or a resumable run.
    board = None
    with stop_on_signals(state), ExitStack() as held:
        try:
            if checkpoint is not None:
                _check_fingerprint(checkpoint, fingerprint, run_dir)
                with experiment.training():  # the saved global RNG state becomes the experiment's own
                    restore(state, checkpoint, n_train=experiment.bundle.n_train)
                    separate_dropout(spec.seed, group, step=state.step)
            elif out_dir is not None and writes:
                run_dir = start_run(spec, out_dir)  # after every check: a refused spec or data set writes nothing
                held.enter_context(_removed_unless_resumable(run_dir))
                held.enter_context(hold_run(run_dir))
                write_tokenizer(run_dir, experiment.bundle.preprocessor)
            board = tensorboard_logger(spec, run_dir, checkpoint=checkpoint) if spec.train.tensorboard and writes \
                else None
            keeper = [Checkpointing(run_dir, every=spec.train.checkpoint_every, fingerprint=fingerprint,
                                    seconds=spec.train.checkpoint_seconds, resume_from=checkpoint)
                      ] if run_dir is not None and writes else [Restoring(checkpoint)] if checkpoint is not None else []
            try:
                experiment.fit([*callbacks, *([board] if board else []), *keeper])
            except RuntimeError as error:
                if group is None or not is_peer_failure(error):
                    raise
                raise PeerLost(peer_lost_message(error, group, run_dir=run_dir if writes else None)) from None
            if state.interrupted:
                if board is not None:
                    board.close()
                raise _interrupted(state, run_dir if writes else None, group=group)
            run = run_of(experiment, seconds=time.perf_counter() - started)
            if board is not None:
                board.finish(run.summary)
                run.tensorboard = board.log_dir
            if init_from is not None:
                run.summary["init_from"] = str(init_from)
            if run_dir is not None and writes:
                finish_run(run, run_dir)
                log.info("run written to %s", run.dir)
        except StorageError as error:  # disk full, read-only…: one line, and what is left of the run
            raise _storage_failure(error, run_dir) from None
    return run


@contextmanager
def _removed_unless_resumable(run_dir: Path) -> Iterator[None]:
    """Remove a new run directory that fails before its first checkpoint: it holds nothing to resume."""
    try:
        yield
    except BaseException:
        if not (run_dir / CHECKPOINT_FOLDER / MANIFEST).is_file():
            shutil.rmtree(run_dir, ignore_errors=True)
        raise


def _storage_failure(error: StorageError, run_dir: Path | None) -> StorageError:
    """The file system's refusal, and what it means for the run, in one line."""
    if run_dir is None or not (run_dir / CHECKPOINT_FOLDER / MANIFEST).is_file():
        outcome = "nothing of the run was kept"
    else:
        outcome = (f"the last checkpoint is intact: once the file system accepts writes, resume with "
                   f"`neuralab train --resume {run_dir}`")
    return StorageError([*error.problems[:-1], f"{error.problems[-1]} — {outcome}"])


def tensorboard_logger(spec: ExperimentSpec, run_dir: Path | None, *,
                       checkpoint: Checkpoint | None = None) -> TensorBoardLogger:
    """The TensorBoard writer of a run, histograms at the doctor's rate, in ``<train.tensorboard>/``:
    the run directory's name (``-2``, ``-3``… when a run of another folder took it), the folder a
    resumed run wrote to (its checkpoint says), or a fresh ``<name>-<date>-<time>`` when the run
    is not written."""
    parent = Path(spec.train.tensorboard)
    if run_dir is None:
        return TensorBoardLogger(claim_folder(parent, spec.name), every=None if spec.diagnose.health_every else 0)
    saved = checkpoint.state.get("callbacks", {}).get(TensorBoardLogger.__name__) if checkpoint else None
    if isinstance(saved, dict) and isinstance(saved.get("log_dir"), str) and Path(saved["log_dir"]).parent == parent:
        return TensorBoardLogger(saved["log_dir"], every=None if spec.diagnose.health_every else 0)
    folder, counter = parent / run_dir.name, 2
    while folder.exists():
        folder, counter = parent / f"{run_dir.name}-{counter}", counter + 1
    return TensorBoardLogger(folder, every=None if spec.diagnose.health_every else 0)


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


def _interrupted(state: TrainingState, run_dir: Path | None, *, group: ProcessGroup | None = None) -> TrainingInterrupted:
    position = (f"in epoch {state.epoch} after {state.batch_index} batches" if state.batch_index
                else f"after epoch {len(state.history)}")
    where = f"training interrupted by {state.interrupted} {position} ({state.step} steps)"
    if group is not None and not group.writes:  # silent: process 0 says where the checkpoint is
        return TrainingInterrupted([], exit_code=exit_code(state.interrupted))
    if run_dir is None:
        return TrainingInterrupted([f"{where}; nothing was saved (out_dir=None)"],
                                   exit_code=exit_code(state.interrupted))
    processes = f" --nproc {group.size}" if group is not None else ""
    return TrainingInterrupted([f"{where}; checkpoint saved in {run_dir / CHECKPOINT_FOLDER}",
                                f"resume with: neuralab train --resume {run_dir}{processes}"],
                               exit_code=exit_code(state.interrupted), run_dir=run_dir)
