"""Save and restore a whole training state as safetensors + JSON — never a pickle.

A checkpoint folder holds three kinds of file:

* ``state-e<epochs>-s<step>.safetensors`` — every tensor: weights, optimiser moments,
  RNG states (the global torch generator that dropout uses, the loop's shuffling and
  augmentation generator), the current epoch's row order, callback snapshots;
* ``checkpoint.json`` — everything else (optimiser hyperparameters, schedule state,
  epoch, step, position inside the epoch, stop reason, callback state), with each tensor
  replaced by ``{"__tensor__": key}``, plus the tensor file's name and SHA-256;
* ``history.jsonl`` — one metrics row per finished epoch, appended as epochs end.

Commit protocol: the tensor file is written under a new name, then ``checkpoint.json`` is
replaced atomically, then older tensor files are removed. A process killed at any moment
leaves ``checkpoint.json`` naming a complete tensor file with a matching digest.

Example:
    >>> import tempfile, torch
    >>> from neuralab.spec import load_spec
    >>> from neuralab.training.experiment import Experiment
    >>> experiment = Experiment.from_spec(load_spec({"data": {"dataset": "xor", "n_samples": 40}}))
    >>> folder = tempfile.mkdtemp()
    >>> CheckpointWriter(folder).save(experiment.state, fingerprint={"spec": "s", "data": "d"})
    >>> read_checkpoint(folder).epochs_done
    0
"""
from __future__ import annotations

import hashlib
import json
import logging
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from neuralab.runs.files import append_text, make_folder, write_bytes_atomic, write_text_atomic
from neuralab.errors import RunError
from neuralab.training.events import TrainingState
from neuralab.training.rules import batch_bounds, batch_size_of, step_based

log = logging.getLogger(__name__)

FORMAT = "neuralab.checkpoint/2"  # 2: the learning rate is its owner's state
MANIFEST = "checkpoint.json"
HISTORY = "history.jsonl"
_MARKERS = ("__tensor__", "__tuple__", "__items__")


# --------------------------------------------------------------------------- tensors ⇄ JSON


def encode(value: Any, tensors: dict[str, torch.Tensor], path: str) -> Any:
    """Return ``value`` as plain JSON data, moving each tensor into ``tensors`` under a dotted key.

    Tuples and dicts with non-string keys (an optimiser's per-parameter state) are kept
    exactly, so :func:`decode` gives back what torch's ``load_state_dict`` expects.
    """
    if isinstance(value, torch.Tensor):
        tensors[path] = value.detach().cpu().contiguous()
        return {"__tensor__": path}
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value) and not set(_MARKERS) & set(value):
            return {key: encode(item, tensors, f"{path}.{key}") for key, item in value.items()}
        return {"__items__": [[encode(key, tensors, f"{path}.k{i}"), encode(item, tensors, f"{path}.{i}")]
                              for i, (key, item) in enumerate(value.items())]}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(item, tensors, f"{path}.{i}") for i, item in enumerate(value)]}
    if isinstance(value, list):
        return [encode(item, tensors, f"{path}.{i}") for i, item in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"checkpoint: cannot store {type(value).__name__} at {path!r} (only tensors and JSON data)")


def decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Invert :func:`encode`."""
    if isinstance(value, dict):
        if "__tensor__" in value:
            key = value["__tensor__"]
            if key not in tensors:
                raise RunError(f"checkpoint: tensor {key!r} named in {MANIFEST} is not in the tensor file")
            return tensors[key]
        if "__tuple__" in value:
            return tuple(decode(item, tensors) for item in value["__tuple__"])
        if "__items__" in value:
            return {decode(key, tensors): decode(item, tensors) for key, item in value["__items__"]}
        return {key: decode(item, tensors) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item, tensors) for item in value]
    return value


# --------------------------------------------------------------------------- capture / restore


def capture(state: TrainingState) -> dict[str, Any]:
    """Everything needed to continue ``state`` bit for bit (tensors included, not yet encoded)."""
    generator = state.generator
    rng = {"torch": torch.get_rng_state(), "generator": generator.get_state() if generator is not None else None}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return {
        "model": state.model.state_dict(),
        "optimizer": state.optimizer.state_dict(),
        "rate": state.rate.state_dict(),
        "rng": rng,
        "progress": {
            "epoch": state.epoch, "step": state.step, "batch_index": state.batch_index,
            "epoch_order": state.epoch_order, "epoch_totals": state.epoch_totals,
            "stop_training": state.stop_training,
            "stop_reason": state.stop_reason, "diverged": state.diverged, "best_epoch": state.best_epoch,
            "kept_epoch": state.kept_epoch, "interrupted": state.interrupted, "rollbacks": state.rollbacks,
            "l1_dead": state.l1_dead,
        },
        "callbacks": {_callback_key(callback): callback.checkpoint_state()
                      for callback in state.callbacks if hasattr(callback, "checkpoint_state")},
    }


def _callback_key(callback: Any) -> str:
    return type(callback).__name__


class _Progress(BaseModel):
    """Where training stood: validated like user input before it steers the loop."""

    model_config = ConfigDict(extra="forbid", strict=True, arbitrary_types_allowed=True)
    epoch: int = Field(ge=0)
    step: int = Field(ge=0)
    batch_index: int = Field(ge=0)
    epoch_order: torch.Tensor | None
    epoch_totals: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None  # loss sum, errors, clipped steps
    stop_training: bool
    stop_reason: str
    diverged: bool
    best_epoch: int | None = Field(ge=0)
    kept_epoch: int | None = Field(ge=0)
    interrupted: str
    rollbacks: int = Field(ge=0)
    l1_dead: list[torch.Tensor] | None = None  # TF Playground's L1: the weights it has set to 0 for good


def restore(state: TrainingState, checkpoint: "Checkpoint", *, n_train: int | None = None) -> None:
    """Load a checkpoint into ``state``: weights, optimiser, schedule, RNG, progress and history.

    Callback state is restored separately, once the loop has made its callbacks
    (see :func:`restore_callbacks`).

    Args:
        n_train: rows of the training split; when given, a position inside an epoch is
            checked against it (the row order is a permutation, the batch exists).

    Raises:
        RunError: the saved state does not fit this model, optimiser or schedule, or its
            progress is not a position training can reach.
    """
    saved = checkpoint.state
    _check_progress(saved.get("progress") if isinstance(saved, dict) else None, state, n_train=n_train)
    state.history = [dict(row) for row in checkpoint.history]
    state.metrics = dict(state.history[-1]) if state.history else {}
    try:
        state.model.load_state_dict(saved["model"])
        state.optimizer.load_state_dict(saved["optimizer"])
        state.rate.load_state_dict(saved["rate"])
        _restore_rng(state, saved["rng"])
        progress = saved["progress"]
        state.epoch, state.step, state.batch_index = progress["epoch"], progress["step"], progress["batch_index"]
        state.epoch_order = progress["epoch_order"]
        state.epoch_totals = tuple(progress["epoch_totals"]) if progress["epoch_totals"] is not None else None
        state.stop_training, state.stop_reason = progress["stop_training"], progress["stop_reason"]
        state.diverged, state.best_epoch = progress["diverged"], progress["best_epoch"]
        state.kept_epoch, state.rollbacks = progress["kept_epoch"], int(progress["rollbacks"])
        state.l1_dead = progress.get("l1_dead")  # absent from checkpoints written before l1_style existed
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as error:
        raise RunError(f"checkpoint: does not fit the run's network or optimiser ({_first_line(error)})") from None
    device = next(state.model.parameters()).device
    if state.l1_dead is not None:
        state.l1_dead = [mask.to(device) for mask in state.l1_dead]
    if state.epoch_order is not None:
        state.epoch_order = state.epoch_order.to(device)
        state.epoch_totals = tuple(total.to(device) for total in state.epoch_totals)
    if progress["interrupted"]:  # an interrupted run continues; the stop was not the run's own
        state.stop_training, state.stop_reason = False, ""


def _check_progress(progress: Any, state: TrainingState, *, n_train: int | None) -> None:
    try:
        checked = _Progress.model_validate(progress)
    except ValidationError as error:
        raise RunError([f"checkpoint {MANIFEST}: state.progress.{'.'.join(map(str, e['loc'])) or ''}: {e['msg']}"
                        for e in error.errors()[:10]]) from None
    if checked.batch_index == 0 or n_train is None:
        return
    order = checked.epoch_order
    if order is None or checked.epoch_totals is None or order.dtype != torch.int64 or order.dim() != 1:
        raise RunError(f"checkpoint {MANIFEST}: state.progress.epoch_order is not an order of training rows")
    size = batch_size_of(state.spec.train, n_train)
    batches = len(batch_bounds(len(order), size, batch_norm=state.spec.model.batch_norm))
    if checked.batch_index > batches:  # == batches: stopped after the last batch, before the epoch's scoring
        raise RunError(f"checkpoint {MANIFEST}: state.progress.batch_index {checked.batch_index} is beyond the "
                       f"epoch's {batches} batches")
    if step_based(state.spec.train):  # a period's rows are drawn at random: any rows of the split
        fits = len(order) > 0 and int(order.min()) >= 0 and int(order.max()) < n_train
    else:  # an epoch visits every row once
        fits = order.shape == (n_train,) and torch.equal(order.sort().values, torch.arange(n_train))
    if not fits:
        raise RunError(f"checkpoint {MANIFEST}: state.progress.epoch_order is not an order of the "
                       f"{n_train} training rows")


def _restore_rng(state: TrainingState, rng: dict[str, Any]) -> None:
    torch.set_rng_state(rng["torch"])
    if rng.get("generator") is not None:
        state.generator.set_state(rng["generator"])
    if rng.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


def restore_callbacks(state: TrainingState, saved: dict[str, Any]) -> None:
    """Give each callback with ``load_checkpoint_state`` its saved state (by class name)."""
    for callback in state.callbacks:
        key = _callback_key(callback)
        if key in saved and hasattr(callback, "load_checkpoint_state"):
            try:
                callback.load_checkpoint_state(saved[key])
            except (KeyError, TypeError, ValueError, RuntimeError) as error:
                raise RunError(f"checkpoint: the state of {key} does not fit ({_first_line(error)})") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


# --------------------------------------------------------------------------- files


class _Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    format: Literal["neuralab.checkpoint/2"]
    tensors: str = Field(pattern=r"^state-e\d+-s\d+\.safetensors$")  # a bare name: no path can escape the folder
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    epochs_done: int = Field(ge=0)
    fingerprint: dict[str, str]
    state: dict[str, Any]
    digest: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")  # of the rest (manifest_digest); absent before


def manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of a manifest's fields but ``digest``, as canonical JSON: a changed byte shows."""
    fields = {key: value for key, value in manifest.items() if key != "digest"}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass
class Checkpoint:
    """A checkpoint read back: the decoded state, the finished epochs' history, fingerprints."""

    folder: Path
    epochs_done: int
    state: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    fingerprint: dict[str, str] = field(default_factory=dict)


class CheckpointWriter:
    """Writes checkpoints of one run into ``folder`` (created if needed).

    Args:
        folder: the run's ``checkpoint/`` folder.
        history_lines: rows already in ``history.jsonl`` that are kept (0 starts it afresh).
    """

    def __init__(self, folder: str | Path, *, history_lines: int = 0):
        self.folder = make_folder(folder)
        self.history_lines = history_lines
        if history_lines == 0:
            write_text_atomic(self.folder / HISTORY, "")

    def append_history(self, history: list[dict[str, Any]]) -> None:
        """Append the rows of ``history`` not yet in ``history.jsonl`` (one JSON object a line)."""
        rows = history[self.history_lines:]
        if rows:  # one write: no torn line on a kill
            append_text(self.folder / HISTORY, "".join(json.dumps(row) + "\n" for row in rows))
            self.history_lines = len(history)

    def save(self, state: TrainingState, *, fingerprint: dict[str, str]) -> None:
        """Write a checkpoint of ``state``; the previous one stays valid until this one is complete."""
        self.append_history(state.history)
        tensors: dict[str, torch.Tensor] = {}
        encoded = encode(capture(state), tensors, "state")
        data = save_tensors(tensors, metadata={"format": FORMAT})
        name = f"state-e{len(state.history):06d}-s{state.step:09d}.safetensors"
        write_bytes_atomic(self.folder / name, data)
        manifest = {"format": FORMAT, "tensors": name, "sha256": hashlib.sha256(data).hexdigest(),
                    "epochs_done": len(state.history), "fingerprint": fingerprint, "state": encoded}
        manifest["digest"] = manifest_digest(manifest)
        write_text_atomic(self.folder / MANIFEST, json.dumps(manifest))
        for old in self.folder.glob("state-*.safetensors"):
            if old.name != name:
                with suppress(OSError):  # a stale file costs space, not correctness
                    old.unlink(missing_ok=True)
        log.debug("checkpoint after %d epochs, step %d", len(state.history), state.step)


def read_checkpoint(folder: str | Path) -> Checkpoint:
    """Read and verify the checkpoint in ``folder``: manifest schema, tensor digest, history rows.

    Raises:
        RunError: no checkpoint, a file that does not parse, a digest mismatch, missing history rows.
    """
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise RunError(f"checkpoint: {str(folder)!r} holds no {MANIFEST} — nothing to resume from")
    try:
        raw = json.loads(manifest_path.read_bytes())
    except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise RunError(f"checkpoint {MANIFEST}: cannot be read as JSON ({_first_line(error)})") from None
    try:
        manifest = _Manifest.model_validate(raw)
    except ValidationError as error:
        raise RunError([f"checkpoint {MANIFEST}: {'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}"
                        for e in error.errors()[:10]]) from None
    if manifest.digest is not None and manifest_digest(raw) != manifest.digest:
        raise RunError(f"checkpoint: {MANIFEST} does not match its own digest (corrupt or altered)")
    tensor_path = folder / manifest.tensors
    try:
        data = tensor_path.read_bytes()
    except OSError as error:
        raise RunError(f"checkpoint: cannot read {manifest.tensors} ({error.strerror})") from None
    if hashlib.sha256(data).hexdigest() != manifest.sha256:
        raise RunError(f"checkpoint: {manifest.tensors} does not match the digest in {MANIFEST} (corrupt or altered)")
    try:
        tensors = load_tensors(data)
    except Exception as error:  # safetensors raises its own error types for corrupt files
        raise RunError(f"checkpoint: {manifest.tensors} cannot be read ({_first_line(error)})") from None
    history = _read_history(folder / HISTORY, manifest.epochs_done)
    return Checkpoint(folder=folder, epochs_done=manifest.epochs_done, state=decode(manifest.state, tensors),
                      history=history, fingerprint=manifest.fingerprint)


def _read_history(path: Path, rows: int) -> list[dict[str, Any]]:
    history = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line, _ in zip(handle, range(rows)):
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("a row is not a JSON object")
                history.append(row)
    except (OSError, ValueError) as error:
        raise RunError(f"checkpoint {HISTORY}: cannot be read ({_first_line(error)})") from None
    if len(history) != rows:
        raise RunError(f"checkpoint {HISTORY}: holds {len(history)} rows but the checkpoint is after {rows} epochs")
    return history


def truncate_history(folder: str | Path, history: list[dict[str, Any]]) -> None:
    """Rewrite ``history.jsonl`` with exactly ``history`` (rows written after the checkpoint are dropped)."""
    write_text_atomic(Path(folder) / HISTORY, "".join(json.dumps(row) + "\n" for row in history))
