"""A network's gradient and activation health over training, one sample every ``every`` steps.

A :class:`HealthRecord` holds the samples and turns the raw tensors of one sampled step —
per weight layer the gradient, the weight before and after the step, and the layer's
activations — into numbers: gradient norm, weight norm, update-to-weight ratio
‖ΔW‖/‖W‖, activation mean and std, the fraction of dead ReLU units (zero on the whole
batch), of saturated sigmoid/tanh outputs and of symmetric units (a twin with the same
incoming weights and bias). It keeps the activations of the first and last sample for
histograms. The single-model recorder (:mod:`neuralab.training.callbacks.health_recorder`) and the
population engine both fill one, so a population run diagnoses like a run trained alone.

Example:
    >>> import torch
    >>> record = HealthRecord(layers=[{"name": "hidden1", "activation": "relu", "inputs": 2, "outputs": 3},
    ...                               {"name": "output", "activation": None, "inputs": 3, "outputs": 1}], every=1)
    >>> w1, w2 = torch.ones(3, 2), torch.ones(1, 3)
    >>> record.add(step=1, epoch=1, loss=0.5, grad_norms=torch.ones(2), weights=[w1, w2], before=[w1 * 0.9, w2],
    ...            biases=[torch.zeros(3), torch.zeros(1)], outputs={0: torch.zeros(4, 3)})
    >>> record.samples[0]["dead_fraction"], record.samples[0]["symmetric_fraction"][0]
    ([1.0, None], 1.0)
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from neuralab.models.activations import SATURATING

FORMAT = "neuralab.health/1"
SATURATION_MARGIN = 0.02  # share of an activation's output range next to a bound that counts as saturated
HISTOGRAM_BINS = 30
MAX_SAMPLES = 1000  # beyond this, every other sample is dropped and the interval doubles
MAX_TIME_SAMPLES = 100  # gradient-through-time probes kept (each holds layers × T numbers)
DEAD_WHEN_ZERO = ("relu",)  # activations whose unit passes no gradient while its output is 0
SERIES = ("grad_norm", "weight_norm", "update_ratio", "dead_fraction", "saturated_fraction",
          "symmetric_fraction", "activation_mean", "activation_std")


class HealthRecord:
    """Samples of per-layer health of one network.

    Args:
        layers: one dict per weight layer: name, activation (None for the output), inputs, outputs.
        every: optimiser steps between samples.
        max_samples: most samples kept; past it the record is thinned (default 1000).
        bins: bins of the activation histograms (default 30).
    """

    def __init__(self, *, layers: list[dict[str, Any]], every: int, max_samples: int = MAX_SAMPLES,
                 bins: int = HISTOGRAM_BINS):
        self.layers, self.every, self.max_samples, self.bins = layers, every, max_samples, bins
        self.samples: list[dict[str, Any]] = []
        self.histograms: dict[str, dict[str, Any] | None] = {"first": None, "last": None}
        self.final: dict[str, Any] = {}
        self.diverged: dict[str, Any] | None = None
        self.kept_outputs: dict[str, tuple[int, dict[int, Tensor]]] = {}  # first/last sampled batch
        self.through_time: list[dict[str, Any]] = []  # recurrent networks: ‖∂L/∂h_t‖ per layer and step
        # A fixed random direction per layer: units with identical incoming weights project
        # to the same number (cheap twin detection: O(width · fan_in), no pairwise distances).
        generator = torch.Generator().manual_seed(12345)
        self._directions = [torch.randn(layer["inputs"] + 1, generator=generator) for layer in layers]

    @property
    def activations(self) -> list[str | None]:
        return [layer["activation"] for layer in self.layers]

    def due(self, step: int) -> bool:
        """True when optimiser step ``step`` (0-based, before it is taken) is sampled."""
        return step % self.every == 0

    @torch.no_grad()
    def add(self, *, step: int, epoch: int, loss: float | Tensor, grad_norms: Tensor,
            weights: Sequence[Tensor], before: Sequence[Tensor], biases: Sequence[Tensor | None],
            outputs: dict[int, Tensor]) -> None:
        """Record one sampled step from its raw tensors.

        Args:
            step, epoch: 1-based step (after it was taken) and epoch.
            loss: the batch loss.
            grad_norms: (layers,) norms of each weight's gradient before clipping (see :func:`gradient_norms`).
            weights, before: per layer, the weight (out, in) after and before the step.
            biases: per layer, the bias (out,) or None.
            outputs: hidden layer index → its activations (batch, width).
        """
        grad_norms = grad_norms.float()
        weight_norms = torch.stack([torch.linalg.vector_norm(w) for w in weights]).float()
        changes = torch.stack([torch.linalg.vector_norm(w - b) for w, b in zip(weights, before)]).float()
        nan = weight_norms.new_full((4,), float("nan"))
        activations = torch.stack([  # (layers, 4): mean, std, dead, saturated
            _activation_stats(outputs[i], self.activations[i]) if i in outputs else nan
            for i in range(len(weights))])
        symmetric = torch.stack([self._symmetric(i, weights[i], biases[i]) if self.activations[i] is not None
                                 else nan[0] for i in range(len(weights))])
        # One host transfer per sample: (layers, 8) numbers.
        table = torch.cat([torch.stack([grad_norms, weight_norms, changes], dim=1), activations,
                           symmetric[:, None]], dim=1).tolist()
        columns = list(zip(*table))
        sample = {"step": step, "epoch": epoch, "loss": _number(loss),
                  "grad_norm": _numbers(columns[0]), "weight_norm": _numbers(columns[1]),
                  "update_ratio": [_ratio(c, w) for c, w in zip(columns[2], columns[1])]}
        for key, column in zip(("activation_mean", "activation_std", "dead_fraction", "saturated_fraction",
                                "symmetric_fraction"), columns[3:]):
            sample[key] = _numbers(column)
        kept = (step, {i: output.detach() for i, output in outputs.items()})
        self.kept_outputs.setdefault("first", kept)
        self.kept_outputs["last"] = kept
        self._append(sample)

    def add_through_time(self, *, step: int, epoch: int, norms: Tensor) -> None:
        """Record one probe of the gradient through time: ``norms`` (recurrent layers, T) of ‖∂L/∂h_t‖."""
        self.through_time.append({"step": step, "epoch": epoch, "norms": [_numbers(row) for row in norms.tolist()]})
        if len(self.through_time) > MAX_TIME_SAMPLES:  # keep the first, thin the rest
            self.through_time = self.through_time[:1] + self.through_time[2::2]

    def note_divergence(self, *, step: int, epoch: int, loss: float | Tensor, grad_norms: Tensor) -> None:
        """Record the step where training diverged: its loss and gradient norms."""
        self.diverged = {"step": step, "epoch": epoch, "loss": _number(loss),
                         "grad_norm": _numbers(grad_norms.tolist())}

    @torch.no_grad()
    def finish(self, *, step: int, weights: Sequence[Tensor], biases: Sequence[Tensor | None]) -> None:
        """At the end of training: histograms of the first and last sample, symmetry of the final weights."""
        for key, (at, outputs) in self.kept_outputs.items():
            self.histograms[key] = {"step": at, "layers": [
                _histogram(outputs[i], self.activations[i], self.bins) if i in outputs else None
                for i in range(len(self.layers))]}
        self.final = {"step": step, "symmetric_fraction": [
            float(self._symmetric(i, w, b)) if self.activations[i] is not None else None
            for i, (w, b) in enumerate(zip(weights, biases))]}

    def records(self) -> dict[str, Any]:
        """Everything recorded, as plain JSON-ready data (non-finite numbers become None)."""
        record = {"format": FORMAT, "every": self.every, "layers": self.layers, "samples": self.samples,
                  "histograms": self.histograms, "final": self.final, "diverged": self.diverged}
        return {**record, "through_time": self.through_time} if self.through_time else record

    def checkpoint_state(self) -> dict[str, Any]:
        """What a checkpoint keeps, so a resumed run's record covers the steps before the stop too."""
        # Copies: "first" and "last" are the same tensors until a second sample, and a
        # safetensors file refuses tensors that share memory.
        kept = {key: (step, {i: t.clone() for i, t in outputs.items()})
                for key, (step, outputs) in self.kept_outputs.items()}
        return {"every": self.every, "samples": self.samples, "kept_outputs": kept, "diverged": self.diverged,
                "through_time": self.through_time}

    def load_checkpoint_state(self, saved: dict[str, Any]) -> None:
        self.every, self.samples, self.diverged = int(saved["every"]), list(saved["samples"]), saved["diverged"]
        self.through_time = list(saved.get("through_time", []))
        self.kept_outputs = {key: (int(step), {int(i): t for i, t in outputs.items()})
                             for key, (step, outputs) in saved["kept_outputs"].items()}

    def _symmetric(self, index: int, weight: Tensor, bias: Tensor | None) -> Tensor:
        """Share of the layer's units with a twin (same weights and bias), as a 0-d tensor."""
        bias = bias if bias is not None else weight.new_zeros(weight.shape[0])
        rows = torch.cat([weight.detach(), bias.detach()[:, None]], dim=1).float()  # (width, fan_in + 1)
        projection = torch.sort(rows @ self._directions[index].to(rows.device)).values  # (width,)
        twins = projection.diff().abs() <= 1e-7 * (projection.abs().max() + 1e-12)  # (width - 1,)
        has_twin = torch.cat([twins[:1], twins[1:] | twins[:-1], twins[-1:]])  # (width,)
        return has_twin.float().mean() if len(projection) > 1 else projection.new_zeros(())

    def _append(self, sample: dict[str, Any]) -> None:
        self.samples.append(sample)
        if len(self.samples) > self.max_samples:
            # Keep the record bounded on long runs: drop every other sample, sample half as often.
            self.samples = [s for s in self.samples if (s["step"] - 1) % (2 * self.every) == 0]
            self.every *= 2


def gradient_norms(weights: Sequence[Tensor]) -> Tensor:
    """(layers,) norms of each weight's ``.grad`` (0 where there is none)."""
    return torch.stack([torch.linalg.vector_norm(w.grad) if w.grad is not None else w.new_zeros(())
                        for w in weights]).detach().float()


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
