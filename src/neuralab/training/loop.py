"""The single-model training loop: one epoch of mini-batches, its metrics, its events.

Reads top to bottom: shuffle the training rows, then for each batch run forward → loss →
backward → (clip) → step; at the end of the epoch score train and dev in eval mode and hand
the metrics to the callbacks (schedule, early stopping, progress…). Each step's loss is
checked (on a GPU, every few steps, where a check is a device sync); after the epoch every
scored loss and the weights are checked too, so a NaN/inf anywhere stops the run with a
diagnosis. The rules of a step (batches, noise, L1, clipping, the metrics row, divergence)
are :mod:`neuralab.training.rules`', shared with the population engine.
:class:`~neuralab.training.experiment.Experiment` assembles what this loop needs and drives it.

Example:
    >>> import neuralab
    >>> from neuralab.training.experiment import Experiment
    >>> experiment = Experiment.from_spec(neuralab.load_spec(
    ...     {"data": {"dataset": "xor", "n_samples": 80}, "model": {"hidden": [4]}, "train": {"epochs": 3}}))
    >>> len(experiment.fit().history)
    3
"""
from __future__ import annotations

import time

from torch import Tensor

from neuralab.training import rules
from neuralab.training.evaluate import evaluate_split
from neuralab.training.events import CallbackList, TrainingState
from neuralab.training.losses import Head
from neuralab.training.optim import parameter_groups
from neuralab.training.running import RunningTotals


def run_epoch(state: TrainingState, head: Head, *, train: tuple[Tensor, Tensor], dev: tuple[Tensor, Tensor],
              events: CallbackList, target_scale: float = 1.0) -> bool:
    """Run epoch ``state.epoch``: train on every batch, score, check, fire the epoch events.

    An epoch paused between two batches (``state.pause_epoch()``) returns True unfinished
    (``state.mid_epoch``); the next call goes on from where it paused, without firing
    ``epoch_start`` again.

    Returns:
        False when training must stop (divergence, a signal, or a callback asked to stop).
    """
    started = time.perf_counter()
    if not state.mid_epoch:
        events.fire("epoch_start", state)
    running = _train_one_epoch(state, head, train, events)
    if state.pause and not (state.diverged or state.interrupted or state.stop_at_once):
        state.pause = False  # a pause is taken once: the next call finishes the epoch
        if running is None:
            return True
    if (state.interrupted or state.stop_at_once) and not state.diverged:
        return False
    if running is not None:
        metrics = _epoch_metrics(state, head, train, dev, target_scale, started, running)
        _check_epoch(state, metrics)
    if state.diverged:
        events.fire("diverged", state)
        return not state.stop_training  # a rollback clears the stop: the epoch is retried
    state.metrics = metrics
    state.history.append(metrics)
    events.fire("epoch_end", state)
    return not state.stop_training


def _train_one_epoch(state: TrainingState, head: Head, train: tuple[Tensor, Tensor],
                     events: CallbackList) -> tuple[Tensor, Tensor] | None:
    """One pass over the shuffled training rows; returns (summed batch loss, misclassified count)."""
    model, optimizer, settings = state.model, state.optimizer, state.spec.train
    inputs, targets = train
    n_rows = len(inputs)
    bounds = rules.batch_bounds(n_rows, rules.batch_size_of(settings, n_rows), batch_norm=state.spec.model.batch_norm)
    noise = state.spec.data.augment_noise
    weights = parameter_groups(model)[0] if settings.l1 > 0 else []
    l1_penalty = rules.l1_in_objective(settings)
    apart = rules.l1_steps_apart(settings)  # TF Playground's L1: a step of its own, dead weights stay 0
    if not apart:
        state.l1_dead = None  # weights are dead only while that L1 acts
    elif state.l1_dead is None:
        state.l1_dead = rules.dead_weights(weights)
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    count_errors = head.is_classifier and settings.train_metrics == "running"
    model.train()
    if state.batch_index == 0 or state.epoch_order is None:  # a fresh epoch, not one resumed mid-way
        state.batch_index, state.epoch_totals = 0, None
        state.epoch_order = rules.epoch_order(n_rows, state.generator, shuffle=settings.shuffle)
    totals = RunningTotals(device=inputs.device, predict=head.predict if count_errors else None,
                           totals=state.epoch_totals)
    order = state.epoch_order
    for start, stop in bounds[state.batch_index:]:
        rows = order[start:stop]
        batch = rules.augment(inputs[rows], noise, state.generator)  # (batch, n_inputs)
        state.inputs, state.targets = batch, targets[rows]
        batch_events = events.batch_due(state.step)
        if batch_events:
            events.fire("batch_start", state)
        scores = model(batch)  # (batch, n_outputs)
        loss = data_loss = head.compute_loss(scores, state.targets)
        if l1_penalty:
            loss = loss + rules.l1_penalty(weights, l1_penalty)
        state.loss = loss
        if batch_events:
            events.fire("after_forward", state)
        for parameter in parameters:  # what optimizer.zero_grad(set_to_none=True) does, without its hooks' cost
            parameter.grad = None
        loss.backward()
        if batch_events:
            events.fire("after_backward", state)
        if apart:
            rules.hold_dead_weights(weights, state.l1_dead)
            before = [weight.detach().clone() for weight in weights]
        rules.clip_gradients(parameters, settings.grad_clip)
        optimizer.step()
        if apart:
            rules.l1_playground_step(weights, before, state.l1_dead, rate=settings.l1,
                                     learning_rate=state.learning_rate)
        state.step += 1
        state.batch_index += 1
        if batch_events:
            events.fire("after_step", state)
            events.fire("batch_end", state)
        if not totals.add(data_loss, scores, state.targets):
            _mark_diverged(state, float(totals.fold()[0]))
            return None
        if state.interrupted or state.stop_at_once or state.pause:  # a signal or a pause: stop here;
            state.epoch_totals = totals.fold()  # batch_index, epoch_order and epoch_totals say where to go on
            return None
    loss_sum, wrong = totals.fold()
    state.batch_index, state.epoch_order, state.epoch_totals = 0, None, None
    return loss_sum, wrong


def _mark_diverged(state: TrainingState, value: float, *, what: str = "training loss") -> None:
    state.diverged = True
    state.stop(rules.divergence_reason(value, epoch=state.epoch, step=state.step,
                                       learning_rate=state.learning_rate, what=what))


def _check_epoch(state: TrainingState, metrics: dict[str, float]) -> None:
    """Divergence after the steps: a non-finite scored loss, or non-finite weights."""
    problem = rules.non_finite_score(metrics)
    if problem is not None:
        key, value = problem
        _mark_diverged(state, value, what=key.replace("_", " "))
        return
    if not rules.weights_finite(state.model.parameters()):
        _mark_diverged(state, float("nan"), what="weights")


def _epoch_metrics(state: TrainingState, head: Head, train: tuple[Tensor, Tensor], dev: tuple[Tensor, Tensor],
                   target_scale: float, started: float, running: tuple[Tensor, Tensor]) -> dict[str, float]:
    settings = state.spec.train
    if settings.train_metrics == "full":
        train_scores = evaluate_split(state.model, head, *train, target_scale=target_scale)
    else:  # averages over the epoch's batches: free, as Keras reports them
        train_scores = rules.running_scores(float(running[0]), float(running[1]), len(train[0]),
                                            classifier=head.is_classifier)
    if len(dev[0]) == 0:  # no dev split (classic playground, an estimator without early stopping): no dev scores
        dev_scores = {}
    elif rules.dev_scored_in(state.epoch, settings) or not state.metrics:
        dev_scores = evaluate_split(state.model, head, *dev, target_scale=target_scale)
    else:  # carry the last dev scores forward between evaluations
        dev_scores = {key.removeprefix("dev_"): value for key, value in state.metrics.items()
                      if key.startswith("dev_")}
    return rules.epoch_row(state.epoch, train=train_scores, dev=dev_scores, learning_rate=state.learning_rate,
                           seconds=time.perf_counter() - started)
