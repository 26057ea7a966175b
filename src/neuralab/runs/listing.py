"""Run directories as they are on disk — finished or not — read without loading their weights.

:func:`read_run_record` reads a run directory's spec, status, summary and the per-epoch
metrics written so far; :func:`find_runs` lists the run directories of a folder. The runs
table and the comparison of runs (:mod:`neuralab.comparison`) read through them.

Example:
    >>> import neuralab, tempfile
    >>> run = neuralab.train({"data": {"dataset": "xor", "n_samples": 60}, "train": {"epochs": 2}},
    ...                      out_dir=tempfile.mkdtemp())
    >>> record = read_run_record(run.dir)
    >>> record.status, len(record.history)
    ('finished', 2)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuralab.errors import RunError, SpecError
from neuralab.runs.keeping import CHECKPOINT_FOLDER, METRICS
from neuralab.runs.run import read_metrics_csv, read_summary
from neuralab.spec import ExperimentSpec, load_spec

# What a run directory's files say about how its training ended (see :func:`run_status`).
STATUSES = ("finished", "diverged", "interrupted", "incomplete")


@dataclass
class RunRecord:
    """What a run directory says about itself.

    Attributes:
        dir: the run directory.
        spec: its ``spec.yaml``.
        status: one of :data:`STATUSES` (see :func:`run_status`).
        summary: ``summary.json``, or None for a run that did not finish.
        history: the rows of ``metrics.csv`` written so far.
        started: when training started (the time ``spec.yaml`` was written), seconds since the epoch.
    """

    dir: Path
    spec: ExperimentSpec
    status: str
    summary: dict[str, Any] | None
    history: list[dict[str, float]]
    started: float


def run_status(folder: str | Path) -> str:
    """How a run directory's training ended, from the files it holds.

    ``finished``: ``summary.json`` is there; ``diverged``: it is, and says the loss became
    NaN/inf; ``interrupted``: no summary but a checkpoint to resume from; ``incomplete``:
    neither (stopped before its first checkpoint).
    """
    folder = Path(folder)
    if (folder / "summary.json").is_file():
        return "diverged" if read_summary(folder).get("diverged") else "finished"
    return "interrupted" if (folder / CHECKPOINT_FOLDER / "checkpoint.json").is_file() else "incomplete"


def read_run_record(run_dir: str | Path) -> RunRecord:
    """Read a run directory's spec, status, summary and per-epoch metrics (finished or not).

    Raises:
        RunError: the folder holds no (valid) ``spec.yaml``, or a file cannot be read.
    """
    folder = Path(run_dir)
    if not (folder / "spec.yaml").is_file():
        raise RunError(f"run: {str(folder)!r} holds no spec.yaml — is it a neuralab run directory?")
    try:
        spec = load_spec(folder / "spec.yaml")
    except SpecError as error:
        raise RunError([f"run {folder.name}/spec.yaml: {line}" for line in error.problems]) from None
    status = run_status(folder)
    summary = read_summary(folder) if status in ("finished", "diverged") else None
    history = read_metrics_csv(folder / METRICS) if (folder / METRICS).is_file() else []
    return RunRecord(dir=folder, spec=spec, status=status, summary=summary, history=history,
                     started=(folder / "spec.yaml").stat().st_mtime)


def find_runs(folder: str | Path) -> list[Path]:
    """The run directories (folders holding ``spec.yaml``) directly inside ``folder``, by name.

    Raises:
        RunError: ``folder`` is not a directory.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RunError(f"runs: {str(folder)!r} is not a directory")
    return sorted(child for child in folder.iterdir()
                  if child.is_dir() and not child.name.startswith(".") and (child / "spec.yaml").is_file())
