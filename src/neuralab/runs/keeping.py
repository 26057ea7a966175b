"""Keep a run directory resumable while it trains: checkpoints and metrics.csv, written atomically.

A checkpoint of the whole training state goes into ``<run>/checkpoint/``
(:mod:`neuralab.runs.checkpoint`) before the first epoch, every ``train.checkpoint_every``
epochs — or, when that is null (the default), after the first epoch that ends
``train.checkpoint_seconds`` (30) after the last checkpoint — at the last epoch (or the
one where training stops early) and when a signal interrupts training. Between
checkpoints each finished epoch's row is appended to ``metrics.csv`` and to the
checkpoint's history, so a run killed at any moment resumes from its last checkpoint and
still ends bit-identical to one never stopped. This callback runs last, so the state it
saves includes every other callback's work for the epoch.

Example:
    >>> import tempfile
    >>> Checkpointing(tempfile.mkdtemp(), every=5, fingerprint={"spec": "s", "data": "d"}).every
    5
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from neuralab.runs.checkpoint import Checkpoint, CheckpointWriter, restore_callbacks, truncate_history
from neuralab.runs.files import append_text, csv_text, write_text_atomic
from neuralab.training.events import Callback, TrainingState
from neuralab.training.rules import finished

CHECKPOINT_FOLDER = "checkpoint"
METRICS = "metrics.csv"


class Checkpointing(Callback):
    """Saves checkpoints into ``run_dir/checkpoint`` and keeps ``run_dir/metrics.csv`` current.

    Args:
        run_dir: the run directory (it exists already).
        every: epochs between checkpoints (``train.checkpoint_every``); None: by time.
        seconds: with ``every`` None, seconds of training between checkpoints.
        fingerprint: identifies the spec and data the run trains on; a resume checks it.
        resume_from: the checkpoint a resumed run continues from; its callback states are
            restored when training starts.
    """

    runs_last = True  # the experiment fires it after every other callback

    def __init__(self, run_dir: str | Path, *, every: int | None, fingerprint: dict[str, str],
                 seconds: float = 30.0, resume_from: Checkpoint | None = None):
        self.run_dir = Path(run_dir)
        self.every, self.seconds = every, seconds
        self.fingerprint = fingerprint
        self.resume_from = resume_from
        folder = self.run_dir / CHECKPOINT_FOLDER
        self.writer = CheckpointWriter(folder, history_lines=resume_from.epochs_done if resume_from else 0)
        self.metrics = MetricsFile(self.run_dir / METRICS)
        if resume_from is not None:  # rows written after the checkpoint belong to lost work: drop them
            truncate_history(folder, resume_from.history)
        self.metrics.rewrite(resume_from.history if resume_from else [])
        self.last_save = time.monotonic()

    def on_fit_start(self, state: TrainingState) -> None:
        if self.resume_from is not None:
            restore_callbacks(state, self.resume_from.state.get("callbacks", {}))
        else:  # a run killed in its first epoch can still be resumed
            self._save(state)

    def on_epoch_end(self, state: TrainingState) -> None:
        self.metrics.append(state.history)
        done = len(state.history)
        due = (done % self.every == 0) if self.every else time.monotonic() - self.last_save >= self.seconds
        if due or state.stop_training or finished(state.spec.train, periods_done=done, steps_done=state.step):
            self._save(state)
        else:
            self.writer.append_history(state.history)

    def on_fit_end(self, state: TrainingState) -> None:
        if state.interrupted and not state.diverged:
            self._save(state)

    def _save(self, state: TrainingState) -> None:
        self.writer.save(state, fingerprint=self.fingerprint)
        self.last_save = time.monotonic()


class Restoring(Callback):
    """Gives the callbacks their state from a checkpoint when training starts, writing nothing.

    What a resumed data-parallel process other than process 0 needs: the same early-stopping,
    schedule and recorder state as process 0, whose :class:`Checkpointing` does the writing.
    """

    runs_last = True

    def __init__(self, checkpoint: Checkpoint):
        self.checkpoint = checkpoint

    def on_fit_start(self, state: TrainingState) -> None:
        restore_callbacks(state, self.checkpoint.state.get("callbacks", {}))


class MetricsFile:
    """``metrics.csv`` kept current: rows are appended; the file is rewritten atomically when columns change."""

    def __init__(self, path: Path):
        self.path = path
        self.rows = 0
        self.columns: list[str] = []

    def rewrite(self, history: list[dict[str, Any]]) -> None:
        self.columns = list(dict.fromkeys(key for row in history for key in row)) or ["epoch"]
        write_text_atomic(self.path, csv_text(history, self.columns))
        self.rows = len(history)

    def append(self, history: list[dict[str, Any]]) -> None:
        new = history[self.rows:]
        if any(key not in self.columns for row in new for key in row):
            self.rewrite(history)  # a new column: the header changes
            return
        if new:
            append_text(self.path, csv_text(new, self.columns, header=False))  # one write: no torn row on a kill
            self.rows = len(history)
