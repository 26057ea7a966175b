"""A finished experiment (:class:`Run`) and its directory on disk.

A run directory holds ``spec.yaml`` (fully resolved), ``metrics.csv`` (one row per
epoch), ``summary.json``, ``model.safetensors`` + ``model.json`` (weights and what is
needed to rebuild and feed the model — never a pickle), PNG plots and ``checkpoint/``.
Training creates it at the start (:func:`start_run`) and keeps ``metrics.csv`` and the
checkpoint current; every file is replaced atomically, and ``summary.json`` is written
last, so a run without it is incomplete — resumable, and refused by :func:`load_run`.
Loading validates ``model.json`` and ``spec.yaml`` like user input.

Example:
    >>> import neuralab, tempfile
    >>> spec = neuralab.load_spec({"data": {"dataset": "xor", "n_samples": 100}, "train": {"epochs": 2}})
    >>> run = neuralab.train(spec, out_dir=tempfile.mkdtemp())
    >>> neuralab.load_run(run.dir).summary["epochs_run"]
    2
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from safetensors.torch import load_file, save

from neuralab.atomic import write_bytes_atomic, write_text_atomic
from neuralab.data import Preprocessor
from neuralab.errors import RunError, SpecError
from neuralab.models import MLP, build_model
from neuralab.spec import ExperimentSpec, dump_spec, load_spec
from neuralab.training.callbacks.health import write_health
from neuralab.training.losses import Head

FORMAT = "neuralab.run/1"
FILES = ("spec.yaml", "metrics.csv", "summary.json", "model.safetensors", "model.json")
# What a run directory's files say about how training ended (see :func:`run_status`).
STATUSES = ("finished", "diverged", "interrupted", "incomplete")


@dataclass
class Run:
    """A trained experiment: spec, summary, per-epoch history, model, and where it lives.

    Attributes:
        spec: the fully resolved ExperimentSpec.
        summary: task, sizes, epochs, errors and losses per split, seconds, ...
        history: one metrics dict per epoch (the rows of metrics.csv).
        model: the trained ``torch.nn.Module`` (the best epoch's weights when restored).
        head: task, output activation, loss and number of outputs.
        preprocessor: turns raw input columns into model inputs.
        dir: the run directory, or None when the run was not written.
    """

    spec: ExperimentSpec
    summary: dict[str, Any]
    history: list[dict[str, float]]
    model: MLP
    head: Head
    preprocessor: Preprocessor
    dir: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class _HeadMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task: Literal["regression", "binary", "multiclass"]
    output_activation: Literal["linear", "sigmoid", "softmax"]
    loss: Literal["mse", "mae", "huber", "bce", "cross_entropy", "hinge"]
    n_outputs: int = Field(ge=1, le=100_000)


class _ModelMeta(BaseModel):
    model_config = ConfigDict(extra="allow")
    format: Literal["neuralab.run/1"]
    n_inputs: int = Field(ge=1)
    head: _HeadMeta
    preprocessor: dict[str, Any]
    tensors: dict[str, list[int]]


# --------------------------------------------------------------------------- writing


def write_run(run: Run, out_dir: str | Path) -> Path:
    """Write ``run`` into a new directory under ``out_dir`` and return its path.

    The files are written to a hidden temporary folder first and renamed into place.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = fresh_name(out_dir, run.spec.name)
    partial = out_dir / f".{final.name}.partial-{os.getpid()}"
    partial.mkdir()
    try:
        _write_files(run, partial)
        os.rename(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    run.dir = final
    return final


def start_run(spec: ExperimentSpec, out_dir: str | Path) -> Path:
    """Create a new run directory under ``out_dir`` holding ``spec.yaml``, before training starts.

    Training then keeps ``metrics.csv`` and ``checkpoint/`` current in it, and
    :func:`finish_run` adds the model, plots and — last, as the mark of a complete run —
    ``summary.json``. A run killed before that can be resumed from its checkpoint.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    while True:  # mkdir is the claim: two runs started in the same second get different names
        folder = fresh_name(out_dir, spec.name)
        try:
            folder.mkdir()
            break
        except FileExistsError:
            continue
    write_text_atomic(folder / "spec.yaml", dump_spec(spec))
    return folder


def finish_run(run: Run, folder: str | Path) -> Path:
    """Write the finished run's files into its directory (made by :func:`start_run`), summary.json last."""
    folder = Path(folder)
    _write_files(run, folder)
    run.dir = folder
    return folder


def fresh_name(out_dir: Path, name: str) -> Path:
    """``out_dir/<name>-<date>-<time>``, with ``-2``, ``-3``… when that exists already."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate, counter = out_dir / f"{name}-{stamp}", 2
    while candidate.exists():
        candidate, counter = out_dir / f"{name}-{stamp}-{counter}", counter + 1
    return candidate


def _write_files(run: Run, folder: Path) -> None:
    from neuralab.viz.plots import plot_curves, plot_learning_rate

    # Every file is replaced atomically, and summary.json comes last: it marks a complete run.
    write_text_atomic(folder / "spec.yaml", dump_spec(run.spec))
    write_metrics_csv(run.history, folder / "metrics.csv")
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in run.model.state_dict().items()}
    write_bytes_atomic(folder / "model.safetensors", save(state, metadata={"format": FORMAT}))
    meta = {
        "format": FORMAT,
        "n_inputs": run.model.linear_layers()[0].in_features,
        "head": vars(run.head),
        "preprocessor": run.preprocessor.to_dict(),
        "tensors": {name: list(tensor.shape) for name, tensor in state.items()},
        "layers": run.summary.get("layers", []),
    }
    write_text_atomic(folder / "model.json", json.dumps(meta, indent=2, default=_json_value))
    if run.history:
        best = run.summary.get("best_epoch")
        error_label = "loss (regression error)" if run.head.task == "regression" else "error (misclassification rate)"
        _save_figure(plot_curves(run.history, title=run.spec.name, best_epoch=best, error_label=error_label),
                     folder / "curves.png")
        _save_figure(plot_learning_rate(run.history), folder / "learning_rate.png")
    if run.extras.get("health"):
        write_health(run.extras["health"], folder)  # health.json + health.csv, read by `neuralab diagnose`
    write_text_atomic(folder / "summary.json", json.dumps(run.summary, indent=2, default=_json_value))


def _save_figure(figure: Any, path: Path) -> None:
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=100, format="png")
    write_bytes_atomic(path, buffer.getvalue())


def write_metrics_csv(history: list[dict[str, float]], path: Path) -> None:
    """Write one row per epoch; columns are the union of the rows' keys, in first-seen order."""
    columns = list(dict.fromkeys(key for row in history for key in row)) or ["epoch"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(history)
    write_text_atomic(path, buffer.getvalue())


def _json_value(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


# --------------------------------------------------------------------------- reading


def load_run(run_dir: str | Path) -> Run:
    """Load a run directory written by :func:`write_run`, validating every file.

    Raises:
        RunError: a file is missing, unreadable, tampered with or does not fit the spec.
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        raise RunError(f"run: {str(folder)!r} is not a directory")
    if not (folder / "summary.json").is_file() and (folder / "checkpoint" / "checkpoint.json").is_file():
        raise RunError(incomplete_message(folder))
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise RunError(f"run: {str(folder)!r} lacks {', '.join(missing)} — is it a neuralab run directory?")
    try:
        spec = load_spec(folder / "spec.yaml")
    except SpecError as error:
        raise RunError([f"run spec.yaml: {line}" for line in error.problems]) from None
    meta = _read_meta(folder / "model.json")
    head = Head(**meta.head.model_dump())
    preprocessor = Preprocessor.from_dict(meta.preprocessor)
    model = _rebuild_model(folder / "model.safetensors", spec, meta, head)
    summary = _read_summary(folder)
    history = read_metrics_csv(folder / "metrics.csv")
    return Run(spec=spec, summary=summary, history=history, model=model, head=head,
               preprocessor=preprocessor, dir=folder)


@dataclass
class RunRecord:
    """What a run directory says about itself, read without loading the weights.

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
        return "diverged" if _read_summary(folder).get("diverged") else "finished"
    return "interrupted" if (folder / "checkpoint" / "checkpoint.json").is_file() else "incomplete"


def read_run_record(run_dir: str | Path) -> RunRecord:
    """Read a run directory's spec, status, summary and per-epoch metrics (finished or not).

    Raises:
        RunError: the folder holds no (valid) ``spec.yaml``, or a file cannot be read.

    Example:
        >>> import neuralab, tempfile
        >>> run = neuralab.train({"data": {"dataset": "xor", "n_samples": 60}, "train": {"epochs": 2}},
        ...                      out_dir=tempfile.mkdtemp())
        >>> record = read_run_record(run.dir)
        >>> record.status, len(record.history)
        ('finished', 2)
    """
    folder = Path(run_dir)
    if not (folder / "spec.yaml").is_file():
        raise RunError(f"run: {str(folder)!r} holds no spec.yaml — is it a neuralab run directory?")
    try:
        spec = load_spec(folder / "spec.yaml")
    except SpecError as error:
        raise RunError([f"run {folder.name}/spec.yaml: {line}" for line in error.problems]) from None
    status = run_status(folder)
    summary = _read_summary(folder) if status in ("finished", "diverged") else None
    history = read_metrics_csv(folder / "metrics.csv") if (folder / "metrics.csv").is_file() else []
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


def incomplete_message(folder: Path) -> str:
    """The line that says a run did not finish, how far its checkpoint got, and how to resume it."""
    try:
        epochs = f"after epoch {int(json.loads((folder / 'checkpoint' / 'checkpoint.json').read_text())['epochs_done'])}"
    except (OSError, ValueError, KeyError, TypeError):
        epochs = "at its last checkpoint"
    return (f"run: {str(folder)!r} is incomplete — training stopped {epochs} before the run was finished; "
            f"resume it with `neuralab train --resume {folder}` (Python: neuralab.resume(run_dir))")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunError(f"run {path.name}: cannot be read as JSON ({error})") from None


def _read_summary(folder: Path) -> dict[str, Any]:
    summary = _read_json(folder / "summary.json")
    if not isinstance(summary, dict):
        raise RunError(f"run {folder.name}/summary.json: expected a mapping, got {type(summary).__name__}")
    return summary


def _read_meta(path: Path) -> _ModelMeta:
    raw = _read_json(path)
    try:
        return _ModelMeta.model_validate(raw)
    except ValidationError as error:
        raise RunError([f"run model.json: {'.'.join(map(str, e['loc']))}: {e['msg']}"
                        for e in error.errors()]) from None


def _rebuild_model(path: Path, spec: ExperimentSpec, meta: _ModelMeta, head: Head) -> MLP:
    try:
        model = build_model(spec.model, n_inputs=meta.n_inputs, n_outputs=head.n_outputs)
    except SpecError as error:  # model.json asks for a network too large to build
        raise RunError([f"run model.json: {line}" for line in error.problems]) from None
    try:
        state = load_file(str(path))
    except Exception as error:  # safetensors raises its own error types for corrupt files
        raise RunError(f"run model.safetensors: cannot be read ({error})") from None
    expected = {name: list(tensor.shape) for name, tensor in model.state_dict().items()}
    found = {name: list(tensor.shape) for name, tensor in state.items()}
    if expected != found:
        raise RunError("run model.safetensors: tensors do not match the spec's network "
                       f"(expected {len(expected)} tensors {_shapes(expected)}, found {_shapes(found)})")
    model.load_state_dict(state)
    model.eval()
    return model


def _shapes(shapes: dict[str, list[int]]) -> str:
    return ", ".join(f"{name}{tuple(shape)}" for name, shape in list(shapes.items())[:6])


def read_metrics_csv(path: Path) -> list[dict[str, float]]:
    """Read metrics.csv back into one dict of floats per epoch."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return [{key: float(value) for key, value in row.items() if value not in ("", None)}
                    for row in csv.DictReader(handle)]
    except (OSError, ValueError) as error:
        raise RunError(f"run metrics.csv: cannot be read ({error})") from None


def to_tensor(array, *, device: torch.device | str = "cpu") -> torch.Tensor:
    """A numpy array as a torch tensor on ``device`` (no copy on CPU when possible)."""
    return torch.from_numpy(array).to(device)
