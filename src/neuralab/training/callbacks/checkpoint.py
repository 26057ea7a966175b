"""Keep a run directory resumable while it trains: checkpoints and metrics.csv, written atomically.

Every ``train.checkpoint_every`` epochs, at the last epoch (or the one where training
stops early) and when a signal interrupts training, the whole training state is saved
into ``<run>/checkpoint/`` (see :mod:`neuralab.training.state_io`); ``metrics.csv`` gets
each finished epoch's row. Add this callback last, so the state it saves includes every
other callback's work for the epoch.

Example:
    >>> import tempfile
    >>> from neuralab.training.callbacks.checkpoint import Checkpointing
    >>> run_dir = tempfile.mkdtemp()
    >>> Checkpointing(run_dir, every=5, fingerprint={"spec": "s", "data": "d"}).every
    5
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from neuralab.atomic import write_text_atomic
from neuralab.training.events import Callback, TrainingState
from neuralab.training.state_io import Checkpoint, CheckpointWriter, restore_callbacks, truncate_history

CHECKPOINT_FOLDER = "checkpoint"
METRICS = "metrics.csv"


class Checkpointing(Callback):
    """Saves checkpoints into ``run_dir/checkpoint`` and keeps ``run_dir/metrics.csv`` current.

    Args:
        run_dir: the run directory (it exists already).
        every: epochs between checkpoints (``train.checkpoint_every``).
        fingerprint: identifies the spec and data the run trains on; a resume checks it.
        resume_from: the checkpoint a resumed run continues from; its callback states are
            restored when training starts.
    """

    def __init__(self, run_dir: str | Path, *, every: int, fingerprint: dict[str, str],
                 resume_from: Checkpoint | None = None):
        self.run_dir = Path(run_dir)
        self.every = every
        self.fingerprint = fingerprint
        self.resume_from = resume_from
        folder = self.run_dir / CHECKPOINT_FOLDER
        self.writer = CheckpointWriter(folder, history_lines=resume_from.epochs_done if resume_from else 0)
        self.metrics = MetricsFile(self.run_dir / METRICS)
        if resume_from is not None:  # rows written after the checkpoint belong to lost work: drop them
            truncate_history(folder, resume_from.history)
        self.metrics.rewrite(resume_from.history if resume_from else [])

    def on_fit_start(self, state: TrainingState) -> None:
        if self.resume_from is not None:
            restore_callbacks(state, self.resume_from.state.get("callbacks", {}))

    def on_epoch_end(self, state: TrainingState) -> None:
        self.metrics.append(state.history)
        done = len(state.history)
        if done % self.every == 0 or state.stop_training or done >= state.spec.train.epochs:
            self.writer.save(state, fingerprint=self.fingerprint)
        else:
            self.writer.append_history(state.history)

    def on_fit_end(self, state: TrainingState) -> None:
        if state.interrupted and not state.diverged:
            self.writer.save(state, fingerprint=self.fingerprint)


class MetricsFile:
    """``metrics.csv`` kept current: rows are appended; the file is rewritten atomically when columns change."""

    def __init__(self, path: Path):
        self.path = path
        self.rows = 0
        self.columns: list[str] = []

    def rewrite(self, history: list[dict[str, Any]]) -> None:
        self.columns = _columns(history)
        write_text_atomic(self.path, _csv_text(history, self.columns, header=True))
        self.rows = len(history)

    def append(self, history: list[dict[str, Any]]) -> None:
        new = history[self.rows:]
        if any(key not in self.columns for row in new for key in row):
            self.rewrite(history)  # a new column: the header changes
            return
        if new:
            with open(self.path, "a", newline="", encoding="utf-8") as handle:
                handle.write(_csv_text(new, self.columns, header=False))  # one write: no torn row on a kill
            self.rows = len(history)


def _columns(history: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(key for row in history for key in row)) or ["epoch"]


def _csv_text(rows: list[dict[str, Any]], columns: list[str], *, header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
