"""Record gradient and activation health per layer every ``every`` optimiser steps, cheaply.

At each sampled step the recorder hands a :class:`~neuralab.training.health_record.HealthRecord`
the raw tensors of that step — per weight layer its gradient (before any clipping), its
weight before and after the step, and its activations (read by forward hooks) — and the
record turns them into numbers. At the end of training it adds the symmetric fractions of
the final weights and histograms of the activations of the first and the last sampled batch.
Between samples it only counts, so the default sampling costs a few per cent of training
time (``benchmarks/bench_recording.py``).
It reads the model and never draws random numbers, so training is unchanged by recording.

The doctor (``neuralab.doctor``) turns these records into verdicts; the run directory
keeps them as ``health.json`` (and ``health.csv``, one row per sample and layer).

Example:
    >>> import neuralab
    >>> from neuralab.training.callbacks.health_recorder import HealthRecorder
    >>> recorder = HealthRecorder(every=5)
    >>> spec = neuralab.load_spec({"data": {"dataset": "xor", "n_samples": 100}},
    ...                           overrides={"train.epochs": 2, "model.hidden": [4], "diagnose.health_every": 0})
    >>> run = neuralab.train(spec, out_dir=None, callbacks=[recorder])
    >>> [layer["name"] for layer in recorder.records()["layers"]]
    ['hidden1', 'output']
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from neuralab.training.events import Callback, TrainingState
from neuralab.training.health_record import (FORMAT, HISTOGRAM_BINS, MAX_SAMPLES, SERIES, HealthRecord,
                                             gradient_norms)
from neuralab.training.time_gradients import can_unroll, gradient_through_time

__all__ = ["FORMAT", "SERIES", "HealthRecorder", "weight_layers"]


class HealthRecorder(Callback):
    """Samples per-layer gradient and activation statistics every ``every`` steps.

    Args:
        every: optimiser steps between samples (default 100); the first step is always sampled.
        max_samples: most samples kept; past it the record is thinned (default 1000).
        bins: bins of the activation histograms (default 30).
        probe_every: a recurrent network's gradient through time is probed on the sampled steps
            that are a multiple of this many steps (the first one always); None: on every sample.
            ``Experiment`` passes :func:`~neuralab.training.rules.probe_interval`.
    """

    def __init__(self, *, every: int = 100, max_samples: int = MAX_SAMPLES, bins: int = HISTOGRAM_BINS,
                 probe_every: int | None = None):
        if every < 1 or (probe_every is not None and probe_every < 1):
            raise ValueError("every and probe_every must be at least 1 step")
        self.every, self.max_samples, self.bins = every, max_samples, bins
        self.probe_every = probe_every
        self.record: HealthRecord | None = None
        self._sampling = False
        self._hooks: list[Any] = []
        self._outputs: dict[int, Tensor] = {}  # hidden layer index → its activations (batch, width)
        self._before: list[Tensor] = []
        self._pending: dict[str, Any] = {}
        self._saved: dict[str, Any] | None = None  # a checkpoint's record, until the layers are known

    def sample_every(self, steps: int) -> None:
        """From now on, sample every ``steps`` optimiser steps (a live view adapts it to the training speed)."""
        self.every = max(1, steps)
        if self.record is not None and not self._sampling:
            self.record.every = self.every

    @property
    def batch_every(self) -> int:
        """The loop fires the batch events for this recorder only on sampled steps."""
        return self.record.every if self.record is not None else self.every

    @property
    def samples(self) -> list[dict[str, Any]]:
        return self.record.samples if self.record is not None else []

    @property
    def layers(self) -> list[dict[str, Any]]:
        return self.record.layers if self.record is not None else []

    @property
    def diverged(self) -> dict[str, Any] | None:
        return self.record.diverged if self.record is not None else None

    # ------------------------------------------------------------------ events

    def on_fit_start(self, state: TrainingState) -> None:
        self._linears, self._modules, layers = weight_layers(state.model)
        self._head = state.head
        self._through_time = can_unroll(state.model)
        self.record = HealthRecord(layers=layers, every=self.every, max_samples=self.max_samples, bins=self.bins)
        if self._saved is not None:
            self.record.load_checkpoint_state(self._saved)

    def on_batch_start(self, state: TrainingState) -> None:
        self._sampling = self.record.due(state.step)
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
        self._pending = {"step": state.step + 1, "epoch": state.epoch, "loss": state.loss.detach(),
                         "grad_norms": gradient_norms([linear.weight for linear in self._linears])}
        self._before = [linear.weight.detach().clone() for linear in self._linears]
        probe = self.probe_every is None or state.step % self.probe_every == 0
        if probe and self._through_time and self._head is not None:  # before the step: the forward pass's weights
            norms = gradient_through_time(state.model, self._head, state.inputs, state.targets)
            self.record.add_through_time(step=state.step + 1, epoch=state.epoch, norms=norms)

    def on_after_step(self, state: TrainingState) -> None:
        if not self._sampling or not self._pending:
            return
        self._sampling = False
        self.record.add(**self._pending, weights=[l.weight for l in self._linears], before=self._before,
                        biases=[l.bias for l in self._linears], outputs=self._outputs)
        self._pending, self._before = {}, []

    def on_diverged(self, state: TrainingState) -> None:
        self._remove_hooks()
        loss = state.loss.detach() if state.loss is not None else torch.tensor(float("nan"))
        self.record.note_divergence(step=state.step, epoch=state.epoch, loss=loss,
                                    grad_norms=gradient_norms([linear.weight for linear in self._linears]))

    def on_fit_end(self, state: TrainingState) -> None:
        # Histograms and symmetry are read once, at the end: they cost nothing during training.
        self._remove_hooks()
        self.record.finish(step=state.step, weights=[l.weight for l in self._linears],
                           biases=[l.bias for l in self._linears])

    # ------------------------------------------------------------------ checkpoints and results

    def checkpoint_state(self) -> dict[str, Any]:
        """What a checkpoint keeps, so a resumed run's record covers the steps before the stop too."""
        return self.record.checkpoint_state()

    def load_checkpoint_state(self, saved: dict[str, Any]) -> None:
        if self.record is None:
            self._saved = saved
        else:
            self.record.load_checkpoint_state(saved)

    def records(self) -> dict[str, Any]:
        """Everything recorded, as plain JSON-ready data (non-finite numbers become None)."""
        return self.record.records()

    # ------------------------------------------------------------------ internals

    def _hook(self, index: int):
        def keep(module: nn.Module, inputs: Any, output: Tensor | tuple) -> None:
            # a recurrent layer returns (output sequence (batch, T, hidden), state): its h_t are the activations
            self._outputs[index] = (output[0] if isinstance(output, tuple) else output).detach()
        return keep

    def _remove_hooks(self) -> None:
        for handle in self._hooks:
            handle.remove()
        self._hooks = []


def weight_layers(model: nn.Module) -> tuple[list[nn.Linear], list[nn.Module | None], list[dict[str, Any]]]:
    """Weight layers in order, the activation module after each, and their descriptions for the record.

    A recurrent network lists each layer's input and recurrent weight matrices (the recurrent
    one watching the layer's hidden states h_t) through its ``health_layers()``.
    """
    if hasattr(model, "health_layers"):
        rows = model.health_layers()
        linears, modules = [view for _, view, _, _ in rows], [module for _, _, module, _ in rows]
        names, activations = [name for name, *_ in rows], [activation for *_, activation in rows]
    elif hasattr(model, "linear_layers") and hasattr(model, "hidden"):
        linears = model.linear_layers()
        modules = [block.activation for block in model.hidden] + [None]
        activations = list(model.activation_names) + [None]
        names = model.layer_names()
    else:
        named = [(name, module) for name, module in model.named_modules() if isinstance(module, nn.Linear)]
        linears, modules = [module for _, module in named], [None] * len(named)
        names, activations = [name or "linear" for name, _ in named], [None] * len(named)
    layers = [{"name": name, "activation": activation, "inputs": linear.in_features, "outputs": linear.out_features}
              for name, linear, activation in zip(names, linears, activations)]
    return linears, modules, layers
