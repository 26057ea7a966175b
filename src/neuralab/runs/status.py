"""A run directory's status in one word, read without loading the model: for listings and re-scoring.

* ``finished`` — ``summary.json`` is written and training did not diverge;
* ``diverged`` — finished, but the loss or the weights became NaN/inf (the summary's
  ``stop_reason`` says when; the model holds the last finite weights);
* ``training`` — a process holds the run's lock (:mod:`neuralab.runs.locking`) right now;
* ``interrupted`` — no ``summary.json`` but a checkpoint: stopped by a signal, a kill or a
  full disk, and resumable with ``neuralab train --resume``;
* ``damaged`` — neither: files are missing or do not parse (not a run, or tampered with).

Example:
    >>> import neuralab, tempfile
    >>> run = neuralab.train({"data": {"dataset": "xor", "n_samples": 60}, "train": {"epochs": 2}},
    ...                      out_dir=tempfile.mkdtemp())
    >>> status = run_status(run.dir)
    >>> status.state, status.epochs
    ('finished', 2)
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from neuralab.runs.keeping import CHECKPOINT_FOLDER
from neuralab.runs.checkpoint import MANIFEST
from neuralab.runs.locking import is_training

State = Literal["finished", "diverged", "training", "interrupted", "damaged"]
STATES: tuple[State, ...] = ("finished", "diverged", "training", "interrupted", "damaged")


@dataclass(frozen=True)
class RunStatus:
    """Where a run directory stands.

    Attributes:
        state: one of :data:`STATES`.
        epochs: epochs finished (the summary's ``epochs_run``, or the checkpoint's), None when unknown.
        detail: one line: the stop reason, how to resume, or what is wrong.
    """

    state: State
    epochs: int | None
    detail: str


def run_status(run_dir: str | Path) -> RunStatus:
    """Read ``run_dir``'s status from its summary, checkpoint manifest and lock (cheap: no tensors)."""
    folder = Path(run_dir)
    if (folder / "summary.json").exists():
        summary = _read_object(folder / "summary.json") or {}
        epochs, reason = summary.get("epochs_run"), summary.get("stop_reason")
        if not isinstance(epochs, int) or isinstance(epochs, bool) or not isinstance(reason, str):
            return RunStatus("damaged", None, "summary.json is not a run summary (no epochs_run or stop_reason)")
        return RunStatus("diverged" if summary.get("diverged") is True else "finished", epochs, reason)
    if is_training(folder):
        return RunStatus("training", _checkpoint_epochs(folder), "a process is training this run now")
    epochs = _checkpoint_epochs(folder)
    if epochs is None:
        what = "summary.json and a checkpoint" if (folder / "spec.yaml").is_file() else "spec.yaml"
        return RunStatus("damaged", None, f"no {what}: not a complete or resumable neuralab run")
    return RunStatus("interrupted", epochs, f"training stopped after epoch {epochs} before the run was finished; "
                                            f"resume it with `neuralab train --resume {folder}` "
                                            "(Python: neuralab.resume(run_dir))")


def _checkpoint_epochs(folder: Path) -> int | None:
    manifest = _read_object(folder / CHECKPOINT_FOLDER / MANIFEST)
    epochs = manifest.get("epochs_done") if manifest is not None else None
    return epochs if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 0 else None


def _read_object(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
