"""The training loop: mini-batches by index slicing of in-memory tensors, events for callbacks.

Reads top to bottom: for each epoch, shuffle the training rows, then for each batch run
forward → loss → backward → (clip) → step; at the end of the epoch score train and dev
in eval mode and hand the metrics to the callbacks (schedules, early stopping, progress).
Each step's loss is checked (on a GPU, every few steps, where a check is a device sync):
a NaN/inf loss stops the run with a diagnosis. Running train metrics are gathered by
:class:`~neuralab.training.running.RunningTotals` at almost no cost per step.

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
from neuralab.training.running import RunningTotals
from neuralab.training.schedules import build_schedule


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
        state = new_state(model, spec)
    events = CallbackList([*default_callbacks(spec), *callbacks])
    state.callbacks = events.callbacks
    generator = torch.Generator(device=device).manual_seed(spec.seed + 1)
    state.extras.setdefault("generator", generator)
    events.fire("fit_start", state)
    # A while loop: a resumed state starts at its own epoch, and a rolled-back epoch is retried.
    while len(state.history) < spec.train.epochs and not (state.stop_training or state.interrupted):
        state.epoch = len(state.history)
        if not run_epoch(state, head, train=train, dev=dev, events=events, target_scale=target_scale):
            break
    events.fire("fit_end", state)
    return state


def new_state(model: nn.Module, spec, *, device: str | None = None, split_groups: bool = False) -> TrainingState:
    """A fresh :class:`TrainingState`: the spec's optimiser and schedule over ``model``'s parameters.

    Args:
        model: the network, already on its device.
        spec: the ExperimentSpec.
        device: device type for fused optimiser kernels (default: where the model lives).
        split_groups: weights in a parameter group of their own, so L2 can change while training.
    """
    device = device or next(model.parameters()).device.type
    optimizer = build_optimizer(model, spec.train, device=device, split_groups=split_groups)
    return TrainingState(model=model, optimizer=optimizer, schedule=build_schedule(optimizer, spec.train), spec=spec)


def run_epoch(state: TrainingState, head: Head, *, train: tuple[Tensor, Tensor], dev: tuple[Tensor, Tensor],
              events: CallbackList, target_scale: float = 1.0) -> bool:
    """Run epoch ``state.epoch`` exactly as :func:`fit` does: train, score, fire the epoch events.

    The playground drives training one epoch at a time through this function, so its
    numbers are the CLI's. ``state.extras["generator"]`` must hold the shuffling generator.

    Returns:
        False when training must stop (divergence, or a callback asked to stop).
    """
    started = time.perf_counter()
    events.fire("epoch_start", state)
    running = _train_one_epoch(state, head, train, events, state.extras["generator"])
    if state.diverged:
        events.fire("diverged", state)
        return not state.stop_training  # a rollback clears the stop: the epoch is retried
    if state.interrupted:
        return False
    metrics = _epoch_metrics(state, head, train, dev, target_scale, started, running)
    if not math.isfinite(metrics["train_loss"]):
        _mark_diverged(state, metrics["train_loss"])
        events.fire("diverged", state)
        return not state.stop_training
    state.metrics = metrics
    state.history.append(metrics)
    events.fire("epoch_end", state)
    return not state.stop_training


def _train_one_epoch(state: TrainingState, head: Head, train: tuple[Tensor, Tensor],
                     events: CallbackList, generator: torch.Generator) -> tuple[Tensor, Tensor] | None:
    """One pass over the shuffled training rows; returns (summed batch loss, misclassified count)."""
    model, optimizer, settings = state.model, state.optimizer, state.spec.train
    inputs, targets = train
    n_rows = len(inputs)
    batch_size = n_rows if settings.batch_size == "full" else min(settings.batch_size, n_rows)
    noise = state.spec.data.augment_noise
    weights = parameter_groups(model)[0] if settings.l1 > 0 else []
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    count_errors = head.is_classifier and settings.train_metrics == "running"
    model.train()
    if state.batch_index == 0 or state.epoch_order is None:  # a fresh epoch, not one resumed mid-way
        state.batch_index, state.epoch_totals = 0, None
        state.epoch_order = torch.randperm(n_rows, device=inputs.device, generator=generator)
    totals = RunningTotals(device=inputs.device, predict=head.predict if count_errors else None,
                           totals=state.epoch_totals)
    order = state.epoch_order
    for start in range(state.batch_index * batch_size, n_rows, batch_size):
        rows = order[start:start + batch_size]
        batch = inputs[rows]  # (batch, n_inputs)
        if noise > 0:
            batch = batch + noise * torch.randn(batch.shape, device=batch.device, generator=generator)
        state.inputs, state.targets = batch, targets[rows]
        batch_events = events.batch_due(state.step)
        if batch_events:
            events.fire("batch_start", state)
        scores = model(batch)  # (batch, n_outputs)
        loss = data_loss = head.compute_loss(scores, state.targets)
        if weights:
            loss = loss + settings.l1 * sum(w.abs().sum() for w in weights)
        state.loss = loss
        if batch_events:
            events.fire("after_forward", state)
        for parameter in parameters:  # what optimizer.zero_grad(set_to_none=True) does, without its hooks' cost
            parameter.grad = None
        loss.backward()
        if batch_events:
            events.fire("after_backward", state)
        if settings.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
        optimizer.step()
        state.step += 1
        state.batch_index += 1
        if batch_events:
            events.fire("after_step", state)
            events.fire("batch_end", state)
        if not totals.add(data_loss, scores, state.targets):
            _mark_diverged(state, float(totals.fold()[0]))
            return None
        if state.interrupted:  # a signal: stop here; batch_index, epoch_order and epoch_totals say where to resume
            state.epoch_totals = totals.fold()
            return None
    loss_sum, wrong = totals.fold()
    state.batch_index, state.epoch_order, state.epoch_totals = 0, None, None
    if not torch.isfinite(loss_sum):
        _mark_diverged(state, float(loss_sum))
        return None
    return loss_sum, wrong


def dev_scored_in(epoch: int, train) -> bool:
    """True when epoch ``epoch`` (0-based) scores the dev split: every ``train.eval_every``
    epochs and the last one (callers also score it when no dev scores exist yet)."""
    number = epoch + 1
    return number % train.eval_every == 0 or number == train.epochs


def _mark_diverged(state: TrainingState, loss: float) -> None:
    kind = "NaN" if math.isnan(loss) else "inf"
    state.diverged = True
    state.stop(f"diverged: the training loss became {kind} in epoch {state.epoch + 1} "
               f"(step {state.step}, learning rate {state.learning_rate:g})")


def _epoch_metrics(state: TrainingState, head: Head, train: tuple[Tensor, Tensor], dev: tuple[Tensor, Tensor],
                   target_scale: float, started: float, running: tuple[Tensor, Tensor]) -> dict[str, float]:
    settings = state.spec.train
    metrics: dict[str, float] = {"epoch": state.epoch + 1}
    if settings.train_metrics == "full":
        train_scores = evaluate_split(state.model, head, *train, target_scale=target_scale)
    else:  # averages over the epoch's batches: free, as Keras reports them
        loss = float(running[0]) / len(train[0])
        train_scores = {"loss": loss, "error": float(running[1]) / len(train[0]) if head.is_classifier else loss}
    metrics.update({f"train_{key}": value for key, value in train_scores.items()})
    if dev_scored_in(state.epoch, settings) or not state.metrics:
        dev_scores = evaluate_split(state.model, head, *dev, target_scale=target_scale)
        metrics.update({f"dev_{key}": value for key, value in dev_scores.items()})
    else:  # carry the last dev scores forward between evaluations
        metrics.update({key: value for key, value in state.metrics.items() if key.startswith("dev_")})
    metrics["learning_rate"] = state.learning_rate
    metrics["seconds"] = time.perf_counter() - started
    return metrics
