"""A finished experiment (:class:`Run`) and reading it back from its directory.

A run directory holds ``spec.yaml`` (fully resolved), ``metrics.csv`` (one row per
epoch), ``summary.json``, ``model.safetensors`` + ``model.json`` (weights and what is
needed to rebuild and feed the model — never a pickle), PNG plots, ``health.json`` and
``checkpoint/``; :mod:`neuralab.runs.layout` writes it. A run without ``summary.json``
is incomplete — resumable, and refused by :func:`load_run` (:func:`~neuralab.runs.listing.run_status`
says where a run stands). Loading validates ``model.json``, ``summary.json`` and
``spec.yaml`` like user input and checks the weights against the SHA-256 in ``model.json``.

Example:
    >>> import neuralab, tempfile
    >>> spec = neuralab.load_spec({"data": {"dataset": "xor", "n_samples": 100}, "train": {"epochs": 2}})
    >>> run = neuralab.train(spec, out_dir=tempfile.mkdtemp())
    >>> neuralab.load_run(run.dir).summary["epochs_run"]
    2
"""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from safetensors.torch import load as load_tensors
from torch import nn

from neuralab.data import BytePairTokenizer, DataBundle, Vocabulary, load_data, preprocessor_from_dict
from neuralab.errors import RunError, SpecError
from neuralab.models import ModelShape, build_model
from neuralab.runs.files import remove_temporaries
from neuralab.runs.locking import is_training
from neuralab.spec import ExperimentSpec, load_spec
from neuralab.spec.catalog import names
from neuralab.training.losses import Head

FORMAT = "neuralab.run/1"
FILES = ("spec.yaml", "metrics.csv", "summary.json", "model.safetensors", "model.json")


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
        shape: the data's shape as the model kind saw it (inputs, outputs, vocabulary…).
        dir: the run directory, or None when the run was not written.
        health: the gradient/activation health record (``health.json``), or None.
        tensorboard: the folder of its TensorBoard event files (``train.tensorboard``), or None.
        samples: language models: text generated at a few epochs (``samples.json``), or None.
    """

    spec: ExperimentSpec
    summary: dict[str, Any]
    history: list[dict[str, float]]
    model: nn.Module
    head: Head
    preprocessor: Any
    shape: ModelShape
    dir: Path | None = None
    health: dict[str, Any] | None = None
    tensorboard: Path | None = None
    samples: list[dict[str, Any]] | None = None


def _catalog_name(table: str):
    def check(cls, value: str) -> str:
        if value not in names(table):
            raise ValueError(f"{value!r} is not one of {', '.join(names(table))}")
        return value
    return field_validator("output_activation" if table == "output_activations" else "loss")(check)


class _HeadMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task: Literal["regression", "binary", "multiclass"]
    output_activation: str
    loss: str
    n_outputs: int = Field(ge=1, le=100_000)

    _output = _catalog_name("output_activations")
    _loss = _catalog_name("losses")


class _ShapeMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_inputs: int = Field(ge=1)
    n_outputs: int = Field(ge=1, le=100_000)
    vocab_size: int | None = Field(None, ge=1, le=10_000_000)
    sequence_length: int | None = Field(None, ge=1, le=10_000_000)
    output_steps: Literal["last", "every"] = "last"


class _ModelMeta(BaseModel):
    model_config = ConfigDict(extra="allow")
    format: Literal["neuralab.run/1"]
    n_inputs: int = Field(ge=1)
    head: _HeadMeta
    preprocessor: dict[str, Any]
    tensors: dict[str, list[int]]
    shape: _ShapeMeta | None = None  # absent in runs written before model kinds
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")  # of model.safetensors; absent in older runs


class _SummaryMeta(BaseModel):
    """The fields of summary.json that readers rely on (the others are kept as written)."""

    model_config = ConfigDict(extra="allow", strict=True)
    task: Literal["regression", "binary", "multiclass"]
    classes: list[str | int | float | bool] = Field(max_length=100_000)
    epochs_run: int = Field(ge=0)
    stop_reason: str
    diverged: bool
    kept_epoch: int | None = Field(None, ge=0)
    best_epoch: int | None = Field(None, ge=0)
    warnings: list[str] = []  # absent in runs written before it


def run_data(run: Run) -> DataBundle:
    """The run's data regenerated from its spec; a language model's text encoded with its own vocabulary
    (a BPE tokenizer trained again could differ)."""
    vocabulary = run.preprocessor if isinstance(run.preprocessor, (Vocabulary, BytePairTokenizer)) else None
    return load_data(run.spec.data, seed=run.spec.seed, vocabulary=vocabulary)


def load_run(run_dir: str | Path) -> Run:
    """Load a run directory written by :func:`write_run`, validating every file.

    Raises:
        RunError: a file is missing, unreadable, tampered with or does not fit the spec.
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        raise RunError(f"run: {str(folder)!r} is not a directory")
    if not (folder / "summary.json").is_file() and is_training(folder):
        raise RunError(f"run: {str(folder)!r} is incomplete — a process is training it right now")
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
    preprocessor = preprocessor_from_dict(meta.preprocessor)
    shape = _shape(meta, head)
    model = _rebuild_model(folder / "model.safetensors", spec, shape, sha256=meta.sha256)
    summary = _checked_summary(read_summary(folder), head=head, classes=preprocessor.classes)
    history = read_metrics_csv(folder / "metrics.csv")
    from neuralab.runs.records import read_health

    if not is_training(folder):  # a complete run nobody writes to: leftovers of a killed writer can go
        remove_temporaries(folder)

    return Run(spec=spec, summary=summary, history=history, model=model, head=head,
               preprocessor=preprocessor, shape=shape, dir=folder, health=read_health(folder),
               samples=_read_samples(folder / "samples.json"))


def _read_samples(path: Path) -> list[dict[str, Any]] | None:
    if not path.is_file():
        return None
    samples = _read_json(path)
    if not isinstance(samples, list) or not all(isinstance(s, dict) and isinstance(s.get("text"), str)
                                                and isinstance(s.get("epoch"), int) for s in samples):
        raise RunError("run samples.json: expected a list of {epoch, text, ...} samples")
    return samples


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunError(f"run {path.name}: cannot be read as JSON ({error})") from None


def read_summary(folder: str | Path) -> dict[str, Any]:
    """Read a run directory's ``summary.json`` (a mapping), or raise :class:`RunError`."""
    folder = Path(folder)
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


def incomplete_message(folder: Path) -> str:
    """The line that says a run did not finish, how far its checkpoint got, and how to resume it."""
    try:
        epochs = f"after epoch {int(json.loads((folder / 'checkpoint' / 'checkpoint.json').read_text())['epochs_done'])}"
    except (OSError, ValueError, KeyError, TypeError):
        epochs = "at its last checkpoint"
    return (f"run: {str(folder)!r} is incomplete — training stopped {epochs} before the run was finished; "
            f"resume it with `neuralab train --resume {folder}` (Python: neuralab.resume(run_dir))")


def _checked_summary(raw: dict[str, Any], *, head: Head, classes: list) -> dict[str, Any]:
    """summary.json validated like user input, and agreeing with model.json's task and classes."""
    try:
        summary = _SummaryMeta.model_validate(raw)
    except ValidationError as error:
        raise RunError([f"run summary.json: {'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}"
                        for e in error.errors()[:10]]) from None
    if summary.task != head.task:
        raise RunError(f"run summary.json: task {summary.task!r} disagrees with model.json's {head.task!r}")
    if summary.classes != list(classes):
        raise RunError(f"run summary.json: classes {summary.classes[:10]} disagree with the model's "
                       f"{list(classes)[:10]} (model.json)")
    return raw


def _shape(meta: _ModelMeta, head: Head) -> ModelShape:
    if meta.shape is None:
        return ModelShape(n_inputs=meta.n_inputs, n_outputs=head.n_outputs)
    shape = ModelShape(**meta.shape.model_dump())
    if shape.n_inputs != meta.n_inputs or shape.n_outputs != head.n_outputs:
        raise RunError(f"run model.json: n_inputs {meta.n_inputs} disagrees with shape {shape.to_dict()} "
                       f"(or head.n_outputs {head.n_outputs} does)")
    return shape


def _rebuild_model(path: Path, spec: ExperimentSpec, shape: ModelShape, *, sha256: str | None) -> nn.Module:
    try:
        model = build_model(spec.model, shape)
    except SpecError as error:  # model.json asks for a network too large to build
        raise RunError([f"run model.json: {line}" for line in error.problems]) from None
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RunError(f"run model.safetensors: cannot be read ({error.strerror})") from None
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise RunError("run model.safetensors: does not match the SHA-256 in model.json (corrupt or altered)")
    try:
        state = load_tensors(data)
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
