"""K experiments of one shape trained in lock-step as one stacked computation, each with its own outcome.

The members are ordinary :class:`~neuralab.training.experiment.Experiment` objects, built
exactly as for training alone (same initial weights, same batches stream, same learning-rate
owner). Every rule of a step is :mod:`neuralab.training.rules`' — batch bounds, row order and
noise from each member's own stream, L1, clipping, L2 or decoupled decay, the metrics row,
what counts as divergence — so each member's numbers match training it alone within float
rounding (parity tests in ``tests/training/test_population.py``).

How the per-member settings reach one ``torch.optim`` optimiser:
  * learning rate: every update of the optimisers neuralab offers is linear in the rate, so
    the optimiser steps with rate 1 and each member's update is scaled by its own rate
    (``w ← w_old + lr_k · (w_stepped − w_old)``); a stopped member's rate is 0;
  * L2: the gradient of ``l2_k · Σw²`` is added to each member's gradient slice after
    clipping (where torch applies ``weight_decay``); AdamW's decoupled decay
    ``w ← w − lr_k · l2_k · w_old`` is applied after the scaled step, as torch does;
  * momentum: one group per momentum value (the caller splits them);
  * schedules and early stopping: each member's own LearningRate and EarlyStopping.

Example:
    >>> import neuralab
    >>> from neuralab.training.experiment import Experiment
    >>> base = {"data": {"dataset": "xor", "n_samples": 100}, "model": {"hidden": [4]}, "train": {"epochs": 2}}
    >>> members = [Experiment.from_spec(neuralab.load_spec(base, overrides={"train.learning_rate": lr}))
    ...            for lr in (0.01, 0.1)]
    >>> [len(outcome["history"]) for outcome in Lockstep(members).train()]
    [2, 2]
"""
from __future__ import annotations

import time
from typing import Any

import torch
from torch import Tensor

from neuralab.models.stacked import StackedMLP
from neuralab.training import l1_styles, rules
from neuralab.training.callbacks.early_stopping import EarlyStopping
from neuralab.training.evaluate import score_metrics
from neuralab.training.experiment import Experiment
from neuralab.training.health_record import HealthRecord
from neuralab.training.callbacks.health_recorder import weight_layers
from neuralab.training.optim import optimizer_over


class Lockstep:
    """Trains K same-shape experiments (same momentum) together; :meth:`train` returns their outcomes.

    Args:
        members: the experiments; they may differ in seed, learning rate, L2 and momentum only.
        record_health: keep each member's health record (``diagnose.health_every`` steps apart).
    """

    def __init__(self, members: list[Experiment], *, record_health: bool = False):
        first = members[0]
        self.members, self.size, self.device = members, len(members), first.device
        self.settings, self.head = first.spec.train, first.head
        self.clip = rules.clip_norm(first.spec)
        self.net = StackedMLP([m.model for m in members], device=self.device)
        # Members with one data bundle share it, (n, d); else their splits are stacked, (K, n, d).
        self.shared_data = len({id(m.bundle) for m in members}) == 1
        pick = (lambda arrays: arrays[0]) if self.shared_data else torch.stack
        self.x = {s: pick([m.splits[s][0] for m in members]) for s in ("train", "dev")}
        self.y = {s: pick([m.splits[s][1] for m in members]) for s in ("train", "dev")}
        self.n_rows = {s: self.y[s].shape[-1] for s in ("train", "dev")}
        self.decay = [rules.weight_decay(m.spec.train) for m in members]
        self.optimizer = optimizer_over(self.net.parameters, self.settings, learning_rate=1.0,
                                        device=self.device.type)
        self.stoppers = [EarlyStopping(m.spec.train.early_stopping) if m.spec.train.early_stopping.patience
                         else None for m in members]
        every = rules.health_interval(first.spec, self.n_rows["train"])  # as Experiment.begin samples
        self.records = [HealthRecord(layers=weight_layers(m.model)[2], every=every) for m in members] \
            if record_health and first.spec.diagnose.health_every else None
        self.active = [True] * self.size
        self.steps = [0] * self.size  # each member's optimiser steps while it trained
        self.outcomes: list[dict[str, Any]] = [{"history": [], "best_epoch": None, "kept_epoch": None,
                                                "stop_reason": "", "diverged": False} for _ in members]
        self.best: list[Any] = [None] * self.size  # early stopping's best state (restore_best)
        self.final: list[Any] = [None] * self.size  # a stopped member's state when it stopped
        self.step = 0

    def column(self, values: list[float]) -> Tensor:
        return torch.tensor(values, dtype=self.net.weights[0].dtype, device=self.device)

    # ------------------------------------------------------------------ training

    def train(self) -> list[dict[str, Any]]:
        """Train every member until its epochs are done or it stops; unstack into each member's model."""
        snapshot = (self.net.snapshot(), list(self.steps))
        for epoch in range(self.settings.epochs):
            started = time.perf_counter()
            rates = [m.state.rate.value if on else 0.0 for m, on in zip(self.members, self.active)]
            loss_sum, wrong, clip_rates = self._train_epoch(epoch, rates, snapshot)
            self._end_epoch(epoch, rates, loss_sum, wrong, clip_rates, snapshot, started)
            snapshot = (self.net.snapshot(), list(self.steps))
            if not any(self.active):
                break
        return [self._finish(k) for k in range(self.size)]

    def _train_epoch(self, epoch: int, rate_list: list[float],
                     snapshot) -> tuple[list[float], list[float], list[float]]:
        settings, size, net = self.settings, self.size, self.net
        n_rows = self.n_rows["train"]
        bounds = rules.batch_bounds(n_rows, rules.batch_size_of(settings, n_rows),
                                    batch_norm=self.members[0].spec.model.batch_norm)
        orders = torch.stack([rules.epoch_order(n_rows, m.state.generator, shuffle=settings.shuffle)
                              for m in self.members])  # (K, n)
        noise = self.members[0].spec.data.augment_noise
        rates = self.column(rate_list)  # (K,); a stopped member's 0 keeps it where it is
        coupled = self.column([0.0 if d.decoupled else d.rate for d in self.decay])
        decoupled = self.column([d.rate if d.decoupled else 0.0 for d in self.decay])
        params = net.parameters
        columns = [rates.view(-1, *([1] * (p.dim() - 1))) for p in params]  # broadcast over each leaf
        before = [torch.empty_like(p, requires_grad=False) for p in params]  # reused: each step's old weights
        loss_sum = torch.zeros(size, dtype=torch.float64, device=self.device)
        wrong = torch.zeros(size, dtype=torch.long, device=self.device)
        clipped = torch.zeros(size, dtype=torch.long, device=self.device)
        for start, stop in bounds:
            rows = orders[:, start:stop]  # (K, batch)
            inputs, targets = self._rows("train", rows)  # (K, batch, d), (K, batch)
            if noise > 0:
                inputs = torch.stack([rules.augment(inputs[k], noise, m.state.generator)
                                      for k, m in enumerate(self.members)])
            sample = self.records is not None and self.records[0].due(self.step)
            scores, hidden = net.forward(inputs, training=True, keep_hidden=sample)
            per_member = self.head.member_losses(scores, targets)  # (K,)
            loss = per_member.sum() + rules.l1_penalty(net.weights, l1_styles.l1_in_objective(settings))  # independent
            for p in params:
                p.grad = None
            loss.backward()
            if sample:
                grad_norms = torch.stack([torch.linalg.vector_norm(w.grad.reshape(size, -1), dim=1)
                                          for w in net.weights], dim=1)  # (K, layers), before clipping
            was_clipped = rules.clip_member_gradients(params, self.clip, size=size)
            if was_clipped is not None:
                clipped += was_clipped
            with torch.no_grad():
                for weight in net.weights:  # coupled L2, where torch's weight_decay enters: after clipping
                    weight.grad.add_(weight * coupled.view(-1, 1, 1))
                for old, p in zip(before, params):
                    old.copy_(p.detach())
            self.optimizer.step()
            with torch.no_grad():  # scale each member's update by its own rate, in place
                for p, old, weight in zip(params, before, columns):
                    torch.lerp(old, p, weight, out=p)
                for weight, old in zip(net.weights, before):  # AdamW: w ← w − lr·l2·w_old, beside the step
                    weight.sub_(old * (rates * decoupled).view(-1, 1, 1))
            self.step += 1
            values = per_member.detach().tolist()
            for k in range(size):
                if self.active[k]:
                    self.steps[k] += 1
                    if rules.non_finite([values[k]]) is not None:
                        self._diverge(k, values[k], epoch, rate_list[k], snapshot, what="training loss")
                        rates[k] = 0.0
            loss_sum += per_member.detach().double() * rows.shape[1]
            if self.head.is_classifier and settings.train_metrics == "running":
                wrong += (self.head.predict(scores.detach()) != targets).sum(dim=1)
            if sample:
                self._sample(epoch, per_member, grad_norms, before, hidden)
        return loss_sum.tolist(), wrong.tolist(), (clipped.double() / len(bounds)).tolist()

    def _sample(self, epoch: int, per_member: Tensor, grad_norms: Tensor, before: list[Tensor],
                hidden: list[Tensor]) -> None:
        net, count = self.net, len(self.net.weights)
        for k in range(self.size):
            if self.active[k]:
                l1 = rules.l1_penalty([w[k] for w in net.weights], l1_styles.l1_in_objective(self.settings))
                self.records[k].add(step=self.steps[k], epoch=epoch + 1, loss=per_member[k].detach() + l1,
                                    grad_norms=grad_norms[k], weights=[w[k] for w in net.weights],
                                    before=[b[k] for b in before[:count]], biases=[b[k] for b in net.biases],
                                    outputs={i: h[k] for i, h in enumerate(hidden)})

    def _end_epoch(self, epoch: int, rates: list[float], loss_sum: list[float], wrong: list[float],
                   clip_rates: list[float], snapshot, started: float) -> None:
        settings = self.settings
        dev = self._score("dev") if self.n_rows["dev"] and (rules.dev_scored_in(epoch, settings) or epoch == 0) \
            else None  # between scorings (and without a dev split) the last dev scores carry forward
        full = self._score("train") if settings.train_metrics == "full" else None
        finite = self._finite_members()
        seconds = (time.perf_counter() - started) / max(sum(self.active), 1)
        for k, member in enumerate(self.members):
            if not self.active[k]:
                continue
            history = self.outcomes[k]["history"]
            train = full[k] if full is not None else rules.running_scores(
                loss_sum[k], wrong[k], self.n_rows["train"], classifier=self.head.is_classifier)
            carried = {key.removeprefix("dev_"): value for key, value in (history[-1] if history else {}).items()
                       if key.startswith("dev_")}
            row = rules.epoch_row(epoch, train=train, dev=dev[k] if dev is not None else carried,
                                  learning_rate=rates[k], seconds=seconds,
                                  clip_rate=clip_rates[k] if self.clip is not None else None)
            problem = rules.non_finite_score(row)
            if problem is not None or not finite[k]:
                what, value = problem if problem else ("weights", float("nan"))
                self._diverge(k, value, epoch, rates[k], snapshot, what=what.replace("_", " "))
                continue
            history.append(row)
            member.state.rate.end_epoch(row)
            self._early_stopping(k, row)

    def _early_stopping(self, k: int, row: dict[str, float]) -> None:
        stopper = self.stoppers[k]
        if stopper is None:
            return
        verdict = stopper.judge(row, int(row["epoch"]))
        if verdict == "improved" and stopper.restore_best:
            self.best[k] = (self.net.member_state(k), self.steps[k])
        elif verdict == "stop":
            self.outcomes[k]["stop_reason"] = stopper.reason()
            self.active[k] = False
            self.final[k] = (self.net.member_state(k), self.steps[k])

    def _diverge(self, k: int, value: float, epoch: int, rate: float, snapshot, *, what: str) -> None:
        """Member ``k`` diverged: back to its state at the start of this epoch, as the divergence guard does."""
        tensors, steps = snapshot
        outcome = self.outcomes[k]
        kept = len(outcome["history"])
        if self.records is not None:
            norms = torch.stack([torch.linalg.vector_norm(w.grad[k]) if w.grad is not None else w.new_zeros(())
                                 for w in self.net.weights])
            self.records[k].note_divergence(step=self.steps[k], epoch=epoch + 1, loss=value, grad_norms=norms)
        reason = rules.divergence_reason(value, epoch=epoch, step=self.steps[k], learning_rate=rate, what=what)
        outcome.update(diverged=True, kept_epoch=kept or None,
                       stop_reason=f"{reason}; " + (f"kept the weights of epoch {kept}" if kept
                                                    else "kept the initial weights"))
        self.final[k] = ([t.clone() for t in self.net.member_of(tensors, k)], steps[k])
        self.active[k] = False

    def _finish(self, k: int) -> dict[str, Any]:
        member, outcome, stopper = self.members[k], self.outcomes[k], self.stoppers[k]
        if stopper is not None and stopper.best_epoch:
            outcome["best_epoch"] = stopper.best_epoch
        if self.best[k] is not None and not outcome["diverged"]:
            saved, steps = self.best[k]
            outcome["kept_epoch"] = stopper.best_epoch
        elif self.final[k] is not None:
            saved, steps = self.final[k]
        else:
            saved, steps = None, self.steps[k]
        if saved is not None:
            self.net.load_member(k, saved)
        self.net.unstack(k, member.model, batches_seen=steps)
        member.model.eval()
        outcome["kept_epoch"] = outcome["kept_epoch"] or len(outcome["history"]) or None
        outcome["step"] = self.steps[k]
        if self.records is not None:
            linears = member.model.linear_layers()
            self.records[k].finish(step=self.steps[k], weights=[l.weight for l in linears],
                                   biases=[l.bias for l in linears])
            outcome["health"] = self.records[k].records()
        return outcome

    # ------------------------------------------------------------------ data and scores

    def _rows(self, split: str, rows: Tensor) -> tuple[Tensor, Tensor]:
        """Each member's rows (K, batch) of a split → inputs (K, batch, d), targets (K, batch)."""
        x, y = self.x[split], self.y[split]
        if self.shared_data:
            return x[rows], y[rows]
        flat = rows + self.n_rows[split] * torch.arange(self.size, device=rows.device)[:, None]
        return x.flatten(0, 1)[flat], y.flatten()[flat]

    @torch.no_grad()
    def _score(self, split: str) -> list[dict[str, float]]:
        x, targets = self.x[split], self.y[split]
        if self.shared_data:  # every member scores the same rows: a stride-0 batch, no copy
            x, targets = x.expand(self.size, *x.shape), targets.expand(self.size, -1)
        scores, _ = self.net.forward(x, training=False)
        return [score_metrics(self.head, scores[k], targets[k], target_scale=m.target_scale)
                for k, m in enumerate(self.members)]

    @torch.no_grad()
    def _finite_members(self) -> list[bool]:
        finite = torch.ones(self.size, dtype=torch.bool, device=self.device)
        for t in self.net.parameters:
            finite &= torch.isfinite(t.reshape(self.size, -1)).all(dim=1)
        return finite.tolist()
