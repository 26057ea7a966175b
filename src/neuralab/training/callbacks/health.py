"""Record gradient and activation health per layer every ``every`` optimiser steps, cheaply.

At each sampled step the recorder notes, per weight layer: the gradient norm (before any
clipping), the weight norm and the update-to-weight ratio ‖ΔW‖/‖W‖ of that step; per
hidden layer also the fraction of dead ReLU units (zero on the whole batch), the fraction
of saturated sigmoid/tanh outputs, the fraction of symmetric units (a twin with the same
incoming weights and bias) and the activations' mean and std. At the end of training it
adds the symmetric fractions of the final weights and histograms of the activations of
the first and the last sampled batch.
Between samples it only counts, so the default sampling costs a few per cent of training
time (``benchmarks/bench_recording.py``).
It reads the model and never draws random numbers, so training is unchanged by recording.

The doctor (``neuralab.doctor``) turns these records into verdicts; the run directory
keeps them as ``health.json`` (and ``health.csv``, one row per sample and layer).

Example:
    >>> import neuralab
    >>> from neuralab.training.callbacks.health import HealthRecorder
    >>> recorder = HealthRecorder(every=5)
    >>> spec = neuralab.load_spec({"data": {"dataset": "xor", "n_samples": 100}},
    ...                           overrides={"train.epochs": 2, "model.hidden": [4], "diagnose.health_every": 0})
    >>> run = neuralab.train(spec, out_dir=None, callbacks=[recorder])
    >>> [layer["name"] for layer in recorder.records()["layers"]]
    ['hidden1', 'output']
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from neuralab.atomic import write_text_atomic
from neuralab.errors import RunError
from neuralab.models.activations import SATURATING
from neuralab.training.events import Callback, TrainingState

FORMAT = "neuralab.health/1"
SATURATION_MARGIN = 0.02  # share of an activation's output range next to a bound that counts as saturated
HISTOGRAM_BINS = 30
MAX_SAMPLES = 1000  # beyond this, every other sample is dropped and the interval doubles
DEAD_WHEN_ZERO = ("relu",)  # activations whose unit passes no gradient while its output is 0
SERIES = ("grad_norm", "weight_norm", "update_ratio", "dead_fraction", "saturated_fraction",
          "symmetric_fraction", "activation_mean", "activation_std")


class HealthRecorder(Callback):
    """Samples per-layer gradient and activation statistics every ``every`` steps.

    Args:
        every: optimiser steps between samples (default 100); the first step is always sampled.
        max_samples: most samples kept; past it the record is thinned (default 1000).
        bins: bins of the activation histograms (default 30).
    """

    def __init__(self, *, every: int = 100, max_samples: int = MAX_SAMPLES, bins: int = HISTOGRAM_BINS):
        if every < 1:
            raise ValueError("every must be at least 1 step")
        self.every, self.max_samples, self.bins = every, max_samples, bins
        self.samples: list[dict[str, Any]] = []
        self.histograms: dict[str, dict[str, Any] | None] = {"first": None, "last": None}
        self.final: dict[str, Any] = {}
        self.diverged: dict[str, Any] | None = None
        self.layers: list[dict[str, Any]] = []
        self._sampling = False
        self._hooks: list[Any] = []
        self._outputs: dict[int, Tensor] = {}  # hidden layer index → its activations (batch, width)
        self._kept_outputs: dict[str, tuple[int, dict[int, Tensor]]] = {}  # first/last sampled batch
        self._before: list[Tensor] = []
        self._pending: dict[str, Any] = {}

    @property
    def batch_every(self) -> int:
        """The loop fires the batch events for this recorder only on sampled steps."""
        return self.every

    # ------------------------------------------------------------------ events

    def on_fit_start(self, state: TrainingState) -> None:
        self._linears, self._modules, names, activations = weight_layers(state.model)
        self.layers = [{"name": name, "activation": activation, "inputs": linear.in_features,
                        "outputs": linear.out_features}
                       for name, linear, activation in zip(names, self._linears, activations)]
        self._activation_names = activations
        # A fixed random direction per layer: units with identical incoming weights project
        # to the same number (cheap twin detection: O(width · fan_in), no pairwise distances).
        generator = torch.Generator().manual_seed(12345)
        device = self._linears[0].weight.device
        self._directions = [torch.randn(linear.in_features + 1, generator=generator).to(device)
                            for linear in self._linears]

    def on_batch_start(self, state: TrainingState) -> None:
        self._sampling = state.step % self.every == 0
        if not self._sampling:
            return
        self._outputs = {}
        for index, module in enumerate(self._modules):
            if module is not None:
                self._hooks.append(module.register_forward_hook(self._hook(index)))

    def on_after_backward(self, state: TrainingState) -> None:
        if not self._sampling:
            return
        self._remove_hooks()  # here rather than after_forward: one event fewer to listen to per step
        self._pending = {"step": state.step + 1, "epoch": state.epoch + 1,
                         "loss": state.loss.detach(), "grad_norm": self._grad_norms()}
        self._before = [linear.weight.detach().clone() for linear in self._linears]

    def on_after_step(self, state: TrainingState) -> None:
        if not self._sampling or not self._pending:
            return
        self._sampling = False
        self._append(self._finish_sample())
        self._pending, self._before = {}, []

    def on_diverged(self, state: TrainingState) -> None:
        self._remove_hooks()
        loss = state.loss.detach() if state.loss is not None else torch.tensor(float("nan"))
        self.diverged = {"step": state.step, "epoch": state.epoch + 1, "loss": _number(loss),
                         "grad_norm": _numbers(self._grad_norms().tolist())}

    def on_fit_end(self, state: TrainingState) -> None:
        # Histograms and symmetry are read once, at the end: they cost nothing during training.
        self._remove_hooks()
        for key, (step, outputs) in self._kept_outputs.items():
            self.histograms[key] = {"step": step, "layers": [
                _histogram(outputs[i], self._activation_names[i], self.bins) if i in outputs else None
                for i in range(len(self._linears))]}
        self.final = {"step": state.step, "symmetric_fraction": self.symmetric_fractions()}

    def symmetric_fractions(self) -> list[float | None]:
        """Per layer, the share of hidden units that have a twin with identical weights, now (None: output)."""
        with torch.no_grad():
            return [float(self._symmetric(i)) if self._modules[i] is not None else None
                    for i in range(len(self._linears))]

    # ------------------------------------------------------------------ checkpoints

    def checkpoint_state(self) -> dict[str, Any]:
        """What a checkpoint keeps, so a resumed run's record covers the steps before the stop too."""
        # Copies: "first" and "last" are the same tensors until a second sample, and a
        # safetensors file refuses tensors that share memory.
        kept = {key: (step, {i: t.clone() for i, t in outputs.items()})
                for key, (step, outputs) in self._kept_outputs.items()}
        return {"every": self.every, "samples": self.samples, "kept_outputs": kept, "diverged": self.diverged}

    def load_checkpoint_state(self, saved: dict[str, Any]) -> None:
        self.every, self.samples, self.diverged = int(saved["every"]), list(saved["samples"]), saved["diverged"]
        self._kept_outputs = {key: (int(step), {int(i): t for i, t in outputs.items()})
                              for key, (step, outputs) in saved["kept_outputs"].items()}

    # ------------------------------------------------------------------ results

    def records(self) -> dict[str, Any]:
        """Everything recorded, as plain JSON-ready data (non-finite numbers become None)."""
        return {"format": FORMAT, "every": self.every, "layers": self.layers, "samples": self.samples,
                "histograms": self.histograms, "final": self.final, "diverged": self.diverged}

    # ------------------------------------------------------------------ internals

    def _hook(self, index: int):
        def keep(module: nn.Module, inputs: Any, output: Tensor) -> None:
            self._outputs[index] = output.detach()
        return keep

    def _remove_hooks(self) -> None:
        for handle in self._hooks:
            handle.remove()
        self._hooks = []

    def _grad_norms(self) -> Tensor:
        norms = [torch.linalg.vector_norm(linear.weight.grad) if linear.weight.grad is not None
                 else linear.weight.new_zeros(()) for linear in self._linears]
        return torch.stack(norms).detach().float()

    def _finish_sample(self) -> dict[str, Any]:
        with torch.no_grad():
            weights = [linear.weight.detach() for linear in self._linears]
            weight_norms = torch.stack([torch.linalg.vector_norm(w) for w in weights]).float()
            changes = torch.stack([torch.linalg.vector_norm(w - before)
                                   for w, before in zip(weights, self._before)]).float()
            nan = weight_norms.new_full((4,), float("nan"))
            activations = torch.stack([  # (layers, 4): mean, std, dead, saturated
                _activation_stats(self._outputs[i], self._activation_names[i]) if i in self._outputs else nan
                for i in range(len(weights))])
            symmetric = torch.stack([self._symmetric(i) if self._modules[i] is not None else nan[0]
                                     for i in range(len(weights))])
            # One host transfer per sample: (layers, 8) numbers.
            table = torch.cat([torch.stack([self._pending["grad_norm"], weight_norms, changes], dim=1),
                               activations, symmetric[:, None]], dim=1).tolist()
        columns = list(zip(*table))
        sample = {"step": self._pending["step"], "epoch": self._pending["epoch"],
                  "loss": _number(self._pending["loss"]),
                  "grad_norm": _numbers(columns[0]), "weight_norm": _numbers(columns[1]),
                  "update_ratio": [_ratio(c, w) for c, w in zip(columns[2], columns[1])]}
        for key, column in zip(("activation_mean", "activation_std", "dead_fraction", "saturated_fraction",
                                "symmetric_fraction"), columns[3:]):
            sample[key] = _numbers(column)
        outputs = (sample["step"], self._outputs)
        self._kept_outputs.setdefault("first", outputs)
        self._kept_outputs["last"] = outputs
        return sample

    def _symmetric(self, index: int) -> Tensor:
        """Share of the layer's units with a twin (same weights and bias), as a 0-d tensor."""
        linear = self._linears[index]
        bias = linear.bias.detach() if linear.bias is not None else linear.weight.new_zeros(linear.out_features)
        rows = torch.cat([linear.weight.detach(), bias[:, None]], dim=1)  # (width, fan_in + 1)
        projection = torch.sort(rows.float() @ self._directions[index]).values  # (width,)
        twins = projection.diff().abs() <= 1e-7 * (projection.abs().max() + 1e-12)  # (width - 1,)
        has_twin = torch.cat([twins[:1], twins[1:] | twins[:-1], twins[-1:]])  # (width,)
        return has_twin.float().mean() if len(projection) > 1 else projection.new_zeros(())

    def _append(self, sample: dict[str, Any]) -> None:
        self.samples.append(sample)
        if len(self.samples) > self.max_samples:
            # Keep the record bounded on long runs: drop every other sample, sample half as often.
            self.samples = [s for s in self.samples if (s["step"] - 1) % (2 * self.every) == 0]
            self.every *= 2


def weight_layers(model: nn.Module) -> tuple[list[nn.Linear], list[nn.Module | None], list[str], list[str | None]]:
    """Linear layers in order, the activation module after each, their names and activation names."""
    if hasattr(model, "linear_layers") and hasattr(model, "hidden"):
        linears = model.linear_layers()
        modules = [block.activation for block in model.hidden] + [None]
        activations = list(model.activation_names) + [None]
        return linears, modules, model.layer_names(), activations
    named = [(name, module) for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    return ([module for _, module in named], [None] * len(named), [name or "linear" for name, _ in named],
            [None] * len(named))


def _activation_stats(output: Tensor, activation: str | None) -> Tensor:
    """(4,) tensor: mean, std, dead fraction, saturated fraction (NaN where it does not apply)."""
    values = output.float()  # (batch, width)
    std, mean = torch.std_mean(values, correction=0)
    nan = values.new_tensor(float("nan"))
    dead = (values.amax(dim=0) <= 0).float().mean() if activation in DEAD_WHEN_ZERO else nan
    if activation in SATURATING:
        low, high = SATURATING[activation]
        margin = SATURATION_MARGIN * (high - low)
        saturated = ((values <= low + margin) | (values >= high - margin)).float().mean()
    else:
        saturated = nan
    return torch.stack([mean, std, dead, saturated])


def _histogram(output: Tensor, activation: str | None, bins: int) -> dict[str, Any]:
    """Counts of one layer's activations in ``bins`` equal bins over the activation's range."""
    values = output.float().nan_to_num(0.0, 0.0, 0.0)
    if activation in SATURATING:
        low, high = SATURATING[activation]
    else:
        low, high = float(values.min()), float(values.max())
        high = max(high, low + 1e-6)
    counts = torch.histc(values, bins=bins, min=low, max=high)
    return {"range": [low, high], "counts": [int(c) for c in counts.tolist()]}


def _number(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _numbers(values: list[float]) -> list[float | None]:
    return [_number(value) for value in values]


def _ratio(change: float, weight: float) -> float | None:
    return _number(change / weight) if weight > 0 and math.isfinite(weight) else None


# --------------------------------------------------------------------------- files


def write_health(records: dict[str, Any], folder: Path) -> None:
    """Write ``health.json`` (everything) and ``health.csv`` (one row per sample and layer)."""
    write_text_atomic(folder / "health.json", json.dumps(records))
    names = [layer["name"] for layer in records["layers"]]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["step", "epoch", "layer", *SERIES])
    for sample in records["samples"]:
        for index, name in enumerate(names):
            writer.writerow([sample["step"], sample["epoch"], name,
                             *("" if sample[key][index] is None else sample[key][index] for key in SERIES)])
    write_text_atomic(folder / "health.csv", buffer.getvalue())


def read_health(folder: str | Path) -> dict[str, Any] | None:
    """Read ``health.json`` from a run directory; None when the run recorded none.

    Raises:
        RunError: the file exists but is not a readable health record.
    """
    path = Path(folder) / "health.json"
    if not path.is_file():
        return None
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunError(f"run health.json: cannot be read as JSON ({error})") from None
    if not isinstance(records, dict) or records.get("format") != FORMAT or not isinstance(records.get("samples"), list):
        found = records.get("format") if isinstance(records, dict) else None
        raise RunError(f"run health.json: not a {FORMAT} record (format {found!r})")
    return records
