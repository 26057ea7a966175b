"""The single-model training loop: one epoch of mini-batches, its metrics, its events.

Reads top to bottom: shuffle the training rows (a step-based run: draw a period's rows at
random), then for each batch run forward → loss → backward → (clip) → step (with
``train.accumulate``, every few micro-batches; a per-step schedule moves the rate after
it); at the end of the epoch score train and dev in eval mode and hand the metrics to the
callbacks (schedule, early stopping, progress…). Each step's loss is
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

from neuralab.training import l1_styles, rules
from neuralab.training.evaluate import evaluate_split
from neuralab.training.events import CallbackList, TrainingState
from neuralab.training.losses import Head
from neuralab.training.optim import parameter_groups
from neuralab.training.rate import write_rate
from neuralab.training.running import RunningTotals


def run_epoch(state: TrainingState, head: Head, *, train: tuple[Tensor, Tensor], dev: tuple[Tensor, Tensor],
              events: CallbackList, target_scale: float = 1.0) -> bool:
    """Run epoch ``state.epoch`` (1-based): train on every batch, score, check, fire the epoch events.

    An epoch paused between two batches (``state.pause_epoch()``) returns True unfinished
    (``state.mid_epoch``); the next call goes on from where it paused, without firing
    ``epoch_start`` again.

    Returns:
        False when training must stop (divergence, a signal, or a callback asked to stop).
    """
    started = time.perf_counter()
    if not state.mid_epoch:
        events.fire("epoch_start", state)
    trained = _train_one_epoch(state, head, train, events)
    if state.pause and not (state.diverged or state.interrupted or state.stop_at_once):
        state.pause = False  # a pause is taken once: the next call finishes the epoch
        if trained is None:
            return True
    if (state.interrupted or state.stop_at_once) and not state.diverged:
        return False
    if trained is not None:
        metrics = _epoch_metrics(state, head, train, dev, target_scale, started, *trained)
        _check_epoch(state, metrics)
    if state.diverged:
        events.fire("diverged", state)
        return not state.stop_training  # a rollback clears the stop: the epoch is retried
    state.metrics = metrics
    state.history.append(metrics)
    events.fire("epoch_end", state)
    return not state.stop_training


def _train_one_epoch(state: TrainingState, head: Head, train: tuple[Tensor, Tensor],
                     events: CallbackList) -> tuple[tuple[Tensor, Tensor, Tensor], int, int] | None:
    """One pass over the shuffled training rows (step-based: one period's random rows).

    On several processes (``state.parallel``) each takes its rows of every batch
    (:class:`~neuralab.training.rules.Shard`), DDP averages the gradients, and the batch
    loss and the stop decision come back the same on every process.

    Returns:
        ((summed batch loss, misclassified count, clipped steps), rows trained on, optimiser steps taken),
        or None when stopped mid-way.
    """
    model, optimizer, settings = state.model, state.optimizer, state.spec.train
    parallel = state.parallel
    shard = rules.ONE_PROCESS if parallel is None else parallel.shard
    inputs, targets = train
    n_rows = len(inputs)
    batch_size = rules.batch_size_of(settings, n_rows)
    noise = state.spec.data.augment_noise
    weights = parameter_groups(model)[0] if settings.l1 > 0 else []
    l1_penalty = l1_styles.l1_in_objective(settings)
    apart = l1_styles.l1_steps_apart(settings)  # TF Playground's L1: a step of its own, dead weights stay 0
    if not apart:
        state.l1_dead = None  # weights are dead only while that L1 acts
    elif state.l1_dead is None:
        state.l1_dead = l1_styles.dead_weights(weights)
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    count_errors = head.is_classifier and settings.train_metrics == "running"
    per_step_rate = state.rate.per_step
    clip = rules.clip_norm(state.spec)
    if not model.training:  # switching walks every submodule: only when needed
        model.train()
    if state.batch_index == 0 or state.epoch_order is None:  # a fresh epoch, not one resumed mid-way
        state.batch_index, state.epoch_totals = 0, None
        state.epoch_order = rules.period_order(n_rows, rules.period_rows(settings, n_rows=n_rows, steps_done=state.step),
                                               state.generator) if rules.step_based(settings) \
            else rules.epoch_order(n_rows, state.generator, shuffle=settings.shuffle)
    totals = RunningTotals(device=inputs.device, predict=head.predict if count_errors else None,
                           totals=state.epoch_totals if parallel is None else parallel.carried(state.epoch_totals))
    order = state.epoch_order
    # the epoch's rows in their order, gathered once: each batch is then a slice (a view), not two
    # gathers a step — on a small network a step costs what its operations cost to launch
    ordered_inputs, ordered_targets = inputs[order], targets[order]
    # …and the targets in the loss's form (labels ±1, one-hot rows…), converted once, not every step
    loss_targets = head.loss_targets(ordered_targets) if parallel is None else None
    bounds = rules.batch_bounds(len(order), batch_size, batch_norm=state.spec.model.batch_norm)
    accumulate = settings.accumulate  # 1 on several processes (refused otherwise)
    for index in range(state.batch_index, len(bounds)):
        start, stop = bounds[index]
        # (batch, n_inputs) or (batch, T[, d])
        batch = rules.augment(shard.rows(ordered_inputs, start, stop), noise, state.generator, shard=shard,
                              batch_rows=stop - start)
        state.inputs, state.targets = batch, shard.rows(ordered_targets, start, stop)
        ends_step = rules.step_ends(index, len(bounds), accumulate)
        batch_events = ends_step and events.batch_due(state.step)  # a step's events: on its last micro-batch
        if batch_events:
            events.fire("batch_start", state)
        with rules.autocast(settings, inputs.device):
            if parallel is None:
                scores = model(batch)  # (batch, n_outputs), or (batch, T, n_outputs) at every step
                loss = data_loss = head.loss_of(scores.float(), shard.rows(loss_targets, start, stop))
            else:
                scores, data_loss, loss = parallel.objective(batch, state.targets, head, batch_rows=stop - start)
        if l1_penalty:
            loss = loss + rules.l1_penalty(weights, l1_penalty)
        state.loss = loss
        if batch_events:
            events.fire("after_forward", state)
        if index % accumulate == 0:  # a new step: what optimizer.zero_grad(set_to_none=True) does, without its hooks
            for parameter in parameters:
                parameter.grad = None
        (loss if accumulate == 1 else loss * rules.step_share(bounds, index, accumulate)).backward()
        if parallel is not None:
            data_loss = parallel.agree(state)  # the whole batch's loss; every process stops at the same step
        state.batch_index += 1
        if ends_step:
            if batch_events:
                events.fire("after_backward", state)
            if apart:
                l1_styles.hold_dead_weights(weights, state.l1_dead)
                before = [weight.detach().clone() for weight in weights]
            totals.add_clipped(rules.clip_gradients(parameters, clip))
            optimizer.step()
            if apart:
                l1_styles.l1_playground_step(weights, before, state.l1_dead, rate=settings.l1,
                                         learning_rate=state.learning_rate)
            state.step += 1
            if per_step_rate:
                state.rate.end_step()
                write_rate(optimizer, state.rate.value)
            if batch_events:
                events.fire("after_step", state)
                events.fire("batch_end", state)
        if not totals.add(data_loss, scores, state.targets, rows=stop - start):
            _mark_diverged(state, float(totals.fold()[0]))
            return None
        if ends_step and (state.interrupted or state.stop_at_once or state.pause):  # a signal or a pause: stop
            state.epoch_totals = _folded(totals, parallel)  # here; batch_index, epoch_order and epoch_totals say
            return None                                     # where to go on
    running = _folded(totals, parallel)
    state.batch_index, state.epoch_order, state.epoch_totals = 0, None, None
    return running, len(order), -(-len(bounds) // accumulate)


def _folded(totals: RunningTotals, parallel) -> tuple[Tensor, Tensor, Tensor]:
    """The epoch's running totals so far; on several processes the error count is summed over them."""
    loss_sum, wrong, clipped = totals.fold()
    return (loss_sum, wrong, clipped) if parallel is None else (loss_sum, parallel.total(wrong), clipped)


def _mark_diverged(state: TrainingState, value: float, *, what: str = "training loss") -> None:
    state.diverged = True
    state.stop(rules.divergence_reason(value, epoch=state.epoch - 1, step=state.step,
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
                   target_scale: float, started: float, running: tuple[Tensor, Tensor, Tensor],
                   rows: int, steps: int) -> dict[str, float]:
    settings = state.spec.train
    if settings.train_metrics == "full":
        train_scores = evaluate_split(state.model, head, *_scored(train, settings, state.spec.seed),
                                      target_scale=target_scale)
    else:  # averages over the epoch's batches: free, as Keras reports them
        train_scores = rules.running_scores(float(running[0]), float(running[1]), rows, classifier=head.is_classifier,
                                            n_predictions=rows * (train[1].numel() // max(len(train[1]), 1)))
    if len(dev[0]) == 0:  # no dev split (classic playground, an estimator without early stopping): no dev scores
        dev_scores = {}
    elif rules.dev_scored_in(state.epoch - 1, settings) or not state.metrics:
        dev_scores = evaluate_split(state.model, head, *_scored(dev, settings, state.spec.seed),
                                    target_scale=target_scale)
    else:  # carry the last dev scores forward between evaluations
        dev_scores = {key.removeprefix("dev_"): value for key, value in state.metrics.items()
                      if key.startswith("dev_")}
    clip_rate = float(running[2]) / steps if rules.clip_norm(state.spec) is not None else None
    return rules.epoch_row(state.epoch - 1, train=train_scores, dev=dev_scores, learning_rate=state.learning_rate,
                           seconds=time.perf_counter() - started, clip_rate=clip_rate,
                           step=state.step if rules.step_based(settings) else None)


def _scored(split: tuple[Tensor, Tensor], settings, seed: int) -> tuple[Tensor, Tensor]:
    """The rows of a split an evaluation scores: all, or a step-based run's fixed ``eval_batches`` batches."""
    rows = rules.evaluation_rows(len(split[0]), settings, seed, device=split[0].device)
    return split if rows is None else (split[0][rows], split[1][rows])
