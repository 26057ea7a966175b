"""The training loop: mini-batches by index slicing of in-memory tensors, events for callbacks.

Reads top to bottom: for each epoch, shuffle the training rows, then for each batch run
forward → loss → backward → (clip) → step; at the end of the epoch score train and dev
in eval mode and hand the metrics to the callbacks (schedules, early stopping, progress).
The loss is checked every step (every ``cuda_check_every`` steps on a GPU, where a check
costs a host round-trip): a NaN/inf loss stops the run at once.

Example:
    >>> import torch
    >>> from neuralab.spec import ExperimentSpec
    >>> from neuralab.training.losses import make_head
    >>> from neuralab.training.loop import fit
    >>> spec = ExperimentSpec(train={"epochs": 3, "batch_size": 8})
    >>> x, y = torch.randn(32, 2), (torch.rand(32) > 0.5).long()
    >>> head = make_head(task="binary", n_classes=2)
    >>> state = fit(torch.nn.Linear(2, 1), head, spec, train=(x, y), dev=(x, y))
    >>> len(state.history)
    3
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterable

import torch
from torch import Tensor, nn

from neuralab.training.callbacks import default_callbacks
from neuralab.training.evaluate import evaluate_split
from neuralab.training.events import Callback, CallbackList, TrainingState
from neuralab.training.losses import Head
from neuralab.training.optim import build_optimizer, parameter_groups
from neuralab.training.schedules import build_schedule

CUDA_CHECK_EVERY = 50


def fit(model: nn.Module, head: Head, spec, *, train: tuple[Tensor, Tensor], dev: tuple[Tensor, Tensor],
        callbacks: Iterable[Callback] = (), target_scale: float = 1.0,
        state: TrainingState | None = None) -> TrainingState:
    """Train ``model`` on ``train`` for ``spec.train.epochs`` epochs, scoring ``dev`` each epoch.

    Args:
        model: the network, already on the tensors' device.
        head: output activation and loss (see :func:`neuralab.training.losses.make_head`).
        spec: the ExperimentSpec (train settings, seed, data.augment_noise).
        train: (inputs (n, d), targets (n,)) of the training split, on the device.
        dev: the same for the dev split.
        callbacks: extra callbacks (progress, recording…), run after the built-in ones
            (divergence guard, learning-rate schedule, early stopping).
        target_scale: std of a regression target, for RMSE in original units.
        state: a state to continue from (resume); a fresh one is made when None.

    Returns:
        The final :class:`TrainingState`, with ``history`` (one metrics dict per epoch).
    """
    device = train[0].device
    if state is None:
        optimizer = build_optimizer(model, spec.train, device=device.type)
        state = TrainingState(model=model, optimizer=optimizer,
                              schedule=build_schedule(optimizer, spec.train), spec=spec)
    events = CallbackList([*default_callbacks(spec), *callbacks])
    generator = torch.Generator(device=device).manual_seed(spec.seed + 1)
    state.extras.setdefault("generator", generator)
    events.fire("fit_start", state)
    for epoch in range(len(state.history), spec.train.epochs):
        state.epoch = epoch
        started = time.perf_counter()
        events.fire("epoch_start", state)
        _train_one_epoch(state, head, train, events, state.extras["generator"])
        if state.diverged:
            events.fire("diverged", state)
            break
        metrics = _epoch_metrics(state, head, train, dev, target_scale, started)
        if not math.isfinite(metrics["train_loss"]):
            _mark_diverged(state, metrics["train_loss"])
            events.fire("diverged", state)
            break
        state.metrics = metrics
        state.history.append(metrics)
        events.fire("epoch_end", state)
        if state.stop_training:
            break
    events.fire("fit_end", state)
    return state


def _train_one_epoch(state: TrainingState, head: Head, train: tuple[Tensor, Tensor],
                     events: CallbackList, generator: torch.Generator) -> None:
    model, optimizer, settings = state.model, state.optimizer, state.spec.train
    inputs, targets = train
    n_rows = len(inputs)
    batch_size = n_rows if settings.batch_size == "full" else min(settings.batch_size, n_rows)
    noise = state.spec.data.augment_noise
    weights = parameter_groups(model)[0] if settings.l1 > 0 else []
    check_every = 1 if inputs.device.type == "cpu" else CUDA_CHECK_EVERY
    batch_events = any(events.listens(e) for e in ("batch_start", "after_forward", "after_backward",
                                                    "after_step", "batch_end"))
    model.train()
    order = torch.randperm(n_rows, device=inputs.device, generator=generator)
    for start in range(0, n_rows, batch_size):
        rows = order[start:start + batch_size]
        batch = inputs[rows]  # (batch, n_inputs)
        if noise > 0:
            batch = batch + noise * torch.randn(batch.shape, device=batch.device, generator=generator)
        state.inputs, state.targets = batch, targets[rows]
        if batch_events:
            events.fire("batch_start", state)
        loss = head.compute_loss(model(batch), state.targets)
        if weights:
            loss = loss + settings.l1 * sum(w.abs().sum() for w in weights)
        state.loss = loss
        if batch_events:
            events.fire("after_forward", state)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if batch_events:
            events.fire("after_backward", state)
        if settings.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
        optimizer.step()
        state.step += 1
        if batch_events:
            events.fire("after_step", state)
            events.fire("batch_end", state)
        if state.step % check_every == 0 and not torch.isfinite(loss.detach()):
            _mark_diverged(state, float(loss.detach()))
            return


def _mark_diverged(state: TrainingState, loss: float) -> None:
    kind = "NaN" if math.isnan(loss) else "inf"
    state.diverged = True
    state.stop(f"diverged: the training loss became {kind} in epoch {state.epoch + 1} "
               f"(step {state.step}, learning rate {state.learning_rate:g})")


def _epoch_metrics(state: TrainingState, head: Head, train: tuple[Tensor, Tensor], dev: tuple[Tensor, Tensor],
                   target_scale: float, started: float) -> dict[str, float]:
    metrics: dict[str, float] = {"epoch": state.epoch + 1}
    for split, (inputs, targets) in (("train", train), ("dev", dev)):
        scores = evaluate_split(state.model, head, inputs, targets, target_scale=target_scale)
        for key, value in scores.items():
            metrics[f"{split}_{key}"] = value
    metrics["learning_rate"] = state.learning_rate
    metrics["seconds"] = time.perf_counter() - started
    return metrics
