"""K networks of one shape as one computation: stacked weights, batched products, one optimiser.

Layer ``l`` of all ``K`` models is one ``(K, out, in)`` tensor, so ``K`` small matrix
products become one ``torch.baddbmm`` and ``K`` optimiser calls one. Each model keeps its
own hyperparameters, batches (its own seeded shuffle), dropout masks (its own generator),
metrics, early stopping and divergence guard, so its numbers match training it alone
(within float rounding; dropout masks are drawn differently from ``nn.Dropout``).

How the per-model settings reach one ``torch.optim`` optimiser:
  * learning rate: every update of the optimisers neuralab offers is linear in the rate,
    so the optimiser steps with rate 1 and each model's update is scaled by its own rate
    (``w ← w_old + lr_k · (w_stepped − w_old)``);
  * L2: the gradient of ``l2_k · Σw²`` is added to each model's gradient slice;
  * momentum: one group per distinct momentum value (the caller splits them);
  * schedules: each model keeps its rate on its own :class:`RateKeeper`, stepped with its
    own metrics.

:func:`neuralab.training.population.train_population` is the public entry point.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from neuralab.data import DataBundle
from neuralab.models import MLP
from neuralab.models.activations import make_activation
from neuralab.spec import ExperimentSpec, TrainSpec
from neuralab.training.callbacks.early_stopping import EarlyStopping
from neuralab.training.loop import dev_scored_in
from neuralab.training.losses import Head
from neuralab.training.optim import build_optimizer
from neuralab.training.schedules import build_schedule


@dataclass
class MemberResult:
    """One model's outcome: what :func:`neuralab.training.fit` would have returned for it."""

    spec: ExperimentSpec
    model: MLP
    head: Head
    bundle: DataBundle
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    stop_reason: str = ""
    diverged: bool = False


class RateKeeper:
    """One model's learning rate and schedule, stepped with that model's own epoch metrics.

    The population's optimiser steps with rate 1 and scales each model's update by its
    rate (see above), so each model's rate lives here, on a parameter-less optimiser that
    ``torch.optim.lr_scheduler`` can drive — metric-driven schedules (plateau, bold driver)
    and absolute floors (``min_lr``) included.
    """

    def __init__(self, train: TrainSpec):
        self.optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=train.learning_rate)
        self.schedule = build_schedule(self.optimizer, train)

    @property
    def rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def step(self, metrics: dict[str, float]) -> None:
        """End of an epoch: advance the schedule with the model's metrics."""
        self.optimizer.step()  # a no-op (no gradients): torch's schedulers expect an optimiser step first
        self.schedule.step(metrics)


class StackedGroup:
    """K models with one shape and one momentum, trained in lock-step."""

    def __init__(self, members: list[MemberResult], device: torch.device):
        self.members, self.device, self.size = members, device, len(members)
        self.specs = specs = [m.spec for m in members]
        first = self.members[0]
        # Stacked leaves: weights[l] (K, out, in), as nn.Linear keeps them, and biases[l] (K, out).
        layers = [m.model.linear_layers() for m in self.members]
        self.weights = [torch.stack([ls[i].weight.detach() for ls in layers]).to(device)
                        for i in range(len(layers[0]))]
        self.biases = [torch.stack([ls[i].bias.detach() for ls in layers]).to(device)
                       for i in range(len(layers[0]))]
        self._stack_norms(device)
        self.activations = [make_activation(name) for name in first.model.activation_names]
        # Members with one seed share one data bundle: then the split is kept once, (n, d),
        # else stacked, (K, n, d); rows are picked by flat indexing either way.
        self.shared_data = len({id(m.bundle) for m in self.members}) == 1
        pick = (lambda arrays: arrays[0]) if self.shared_data else torch.stack
        self.x = {s: pick([torch.from_numpy(getattr(m.bundle, f"x_{s}")) for m in self.members]).to(device)
                  for s in ("train", "dev")}
        self.y = {s: pick([torch.from_numpy(getattr(m.bundle, f"y_{s}")) for m in self.members]).to(device)
                  for s in ("train", "dev")}
        self.n_rows = {s: self.y[s].shape[-1] for s in ("train", "dev")}
        self.column = lambda values: torch.tensor(values, dtype=self.weights[0].dtype, device=device)
        self.l2 = self.column([s.train.l2 for s in specs])
        self.dropout = self.column([s.model.dropout for s in specs])
        # Decided once, as Python bools: a tensor test per step would be a device sync on a GPU.
        self.any_dropout = any(s.model.dropout > 0 for s in specs)
        self.any_l2 = any(s.train.l2 > 0 for s in specs)
        self.optimizer = self._optimizer()
        self.rate_keepers = [RateKeeper(s.train) for s in specs]
        self.generators = [torch.Generator(device=device).manual_seed(s.seed + 1) for s in specs]
        # Each model draws its dropout masks from its own generator, so its numbers do not
        # depend on which other models (or how many workers) it was trained with.
        self.mask_generators = [torch.Generator(device=device).manual_seed(s.seed + 2) for s in specs]
        self.active = torch.ones(self.size, dtype=torch.bool, device=device)

    def _stack_norms(self, device: torch.device) -> None:
        """Batch norm, when the spec has it: scales and shifts (K, width) per hidden layer, and
        running statistics (K·width,) — each (model, unit) pair is one channel of ``F.batch_norm``."""
        blocks = [[block.norm for block in m.model.hidden if hasattr(block, "norm")] for m in self.members]
        self.norm_weights = [torch.stack([b[i].weight.detach() for b in blocks]).to(device) for i in range(len(blocks[0]))]
        self.norm_biases = [torch.stack([b[i].bias.detach() for b in blocks]).to(device) for i in range(len(blocks[0]))]
        self.running = [torch.stack([b[i].running_mean for b in blocks]).reshape(-1).to(device).clone()
                        for i in range(len(blocks[0]))] + \
                       [torch.stack([b[i].running_var for b in blocks]).reshape(-1).to(device).clone()
                        for i in range(len(blocks[0]))]  # means, then variances
        first = blocks[0][0] if blocks[0] else None
        self.norm_momentum, self.norm_eps = (first.momentum, first.eps) if first is not None else (0.1, 1e-5)
        self.norm_steps = [0] * self.size  # batches each model's statistics have seen

    @property
    def parameters(self) -> list[Tensor]:
        """Every trained leaf: linear weights, biases, then batch-norm scales and shifts."""
        return [*self.weights, *self.biases, *self.norm_weights, *self.norm_biases]

    def _optimizer(self) -> torch.optim.Optimizer:
        settings = self.specs[0].train.model_copy(update={"learning_rate": 1.0, "l2": 0.0})
        holder = torch.nn.Module()
        holder.params = torch.nn.ParameterList([torch.nn.Parameter(t, requires_grad=True) for t in self.parameters])
        leaves, sizes = list(holder.params), [len(self.weights), len(self.biases), len(self.norm_weights)]
        self.weights, leaves = leaves[:sizes[0]], leaves[sizes[0]:]
        self.biases, leaves = leaves[:sizes[1]], leaves[sizes[1]:]
        self.norm_weights, self.norm_biases = leaves[:sizes[2]], leaves[sizes[2]:]
        return build_optimizer(holder, settings, device=self.device.type)


    # ------------------------------------------------------------------ forward

    def forward(self, inputs: Tensor, *, training: bool) -> Tensor:
        # inputs: (K, batch, n_inputs) → scores (K, batch, n_outputs).
        # Activations run feature-major, (K, width, batch): every product W @ H then has the
        # batch as its long output side, which keeps the matrix kernels efficient even for a
        # 10-unit output layer (row-major, its 10 output columns ran at a tenth of the speed).
        hidden = inputs.transpose(1, 2)  # (K, n_inputs, batch), a view
        for index, (weight, bias, activation) in enumerate(zip(self.weights, self.biases, self.activations)):
            hidden = torch.baddbmm(bias.unsqueeze(2), weight, hidden)  # (K, width, batch)
            if self.norm_weights:
                hidden = self._normalise(index, hidden, training=training)
            hidden = activation(hidden)
            if training and self.any_dropout:
                uniform = torch.stack([torch.rand(hidden.shape[1:], device=hidden.device, generator=g)
                                       for g in self.mask_generators])  # (K, width, batch)
                keep = uniform >= self.dropout[:, None, None]
                hidden = hidden * keep / (1 - self.dropout)[:, None, None]
        scores = torch.baddbmm(self.biases[-1].unsqueeze(2), self.weights[-1], hidden)  # (K, n_outputs, batch)
        return scores.transpose(1, 2).contiguous()  # a small copy; the loss and argmax then read rows

    def _normalise(self, index: int, hidden: Tensor, *, training: bool) -> Tensor:
        size, width, batch = hidden.shape
        channels = hidden.reshape(1, size * width, batch)  # (1, K·width, batch): statistics over the batch
        normed = F.batch_norm(channels, self.running[index], self.running[len(self.norm_weights) + index],
                              self.norm_weights[index].reshape(-1), self.norm_biases[index].reshape(-1),
                              training=training, momentum=self.norm_momentum, eps=self.norm_eps)
        return normed.view(size, width, batch)

    def losses(self, scores: Tensor, targets: Tensor) -> Tensor:
        """Per-model mean loss (K,): one call for the cross-entropies, a loop over models otherwise."""
        head = self.members[0].head
        size, batch = targets.shape
        if head.loss in ("cross_entropy", "bce") and head.output_activation == "softmax":
            return F.cross_entropy(scores.reshape(size * batch, -1), targets.reshape(-1),
                                   reduction="none").view(size, batch).mean(dim=1)
        if head.loss in ("cross_entropy", "bce"):
            return F.binary_cross_entropy_with_logits(scores[..., 0], targets.to(scores.dtype),
                                                      reduction="none").mean(dim=1)
        return torch.stack([head.compute_loss(scores[k], targets[k]) for k in range(size)])

    def predictions(self, scores: Tensor) -> Tensor:
        """Class indices (K, batch) from scores (K, batch, n_outputs)."""
        if self.members[0].head.output_activation == "softmax":
            return scores.argmax(dim=-1)
        return (scores[..., 0] > 0).long()

    # ------------------------------------------------------------------ training

    def train(self) -> list[MemberResult]:
        settings = self.specs[0].train
        snapshots = self._snapshot()
        self.stoppers = [EarlyStopping(s.train.early_stopping) if s.train.early_stopping.patience is not None
                         else None for s in self.specs]
        self.best_state: list[Any] = [None] * self.size  # early stopping's best weights (restore_best)
        self.final_state: list[Any] = [None] * self.size  # a stopped model's state when it stopped
        for epoch in range(settings.epochs):
            started = time.perf_counter()
            rates = [keeper.rate for keeper in self.rate_keepers]  # this epoch's rate of each model
            running = self._train_epoch(rates)
            number = epoch + 1
            # As the single-model loop: dev scored on its schedule (and first), carried between.
            dev = self._score("dev") if dev_scored_in(epoch, settings) or epoch == 0 else None
            full = self._score("train") if settings.train_metrics == "full" else None
            active, loss_sums, wrongs = (t.tolist() for t in (self.active, *running))  # one host read each
            seconds = (time.perf_counter() - started) / max(sum(active), 1)
            for k, member in enumerate(self.members):
                if not active[k]:
                    continue
                if full is not None:
                    train = {"train_loss": full["loss"][k], "train_error": full["error"][k]}
                else:
                    loss = loss_sums[k] / self.n_rows["train"]
                    train = {"train_loss": loss,
                             "train_error": wrongs[k] / self.n_rows["train"] if member.head.is_classifier else loss}
                if not (math.isfinite(loss_sums[k]) and math.isfinite(train["train_loss"])):
                    self._diverge(k, member, snapshots, epoch, rates[k])
                    continue
                scores = {f"dev_{key}": value[k] for key, value in dev.items()} if dev is not None else \
                    {key: value for key, value in member.history[-1].items() if key.startswith("dev_")}
                row = {"epoch": number, **train, **scores, "learning_rate": rates[k], "seconds": seconds}
                member.history.append(row)
                self.rate_keepers[k].step(row)
                self._early_stopping(k, member, row)
            snapshots = self._snapshot()
            if not bool(self.active.any()):
                break
        for k, member in enumerate(self.members):
            if self.best_state[k] is not None and not member.diverged:
                self._load_member(k, self.best_state[k])
                member.best_epoch = self.stoppers[k].best_epoch
            elif self.final_state[k] is not None:  # what it held when it stopped, not what later steps made of it
                self._load_member(k, self.final_state[k])
            self._unstack(k, member)
        return self.members

    def _early_stopping(self, k: int, member: MemberResult, row: dict[str, float]) -> None:
        stopper = self.stoppers[k]
        if stopper is None:
            return
        verdict = stopper.judge(row, int(row["epoch"]))
        if verdict == "improved" and stopper.restore_best:
            self.best_state[k] = self._member_state(k)
        elif verdict == "stop":
            member.stop_reason = stopper.reason()
            self.active[k] = False
            self.final_state[k] = self._member_state(k)

    def _train_epoch(self, rate_list: list[float]) -> tuple[Tensor, Tensor]:
        settings = self.specs[0].train
        x = self.x["train"]
        n_rows = self.n_rows["train"]
        batch = n_rows if settings.batch_size == "full" else min(settings.batch_size, n_rows)
        orders = torch.stack([torch.randperm(n_rows, device=x.device, generator=g) for g in self.generators])
        noise = self.specs[0].data.augment_noise
        rates = self.column(rate_list) * self.active  # (K,); a stopped model stays where it is
        loss_sum = torch.zeros(self.size, device=x.device)
        wrong = torch.zeros(self.size, dtype=torch.long, device=x.device)
        head = self.members[0].head
        params = self.parameters
        rate_columns = [rates.view(-1, *([1] * (p.dim() - 1))) for p in params]  # broadcast over each leaf
        before = [torch.empty_like(p, requires_grad=False) for p in params]  # each step's weights before the update
        for start in range(0, n_rows, batch):
            rows = orders[:, start:start + batch]  # (K, batch)
            inputs, targets = self._rows("train", rows)  # (K, batch, d), (K, batch)
            if noise > 0:
                inputs = inputs + noise * torch.stack([torch.randn(inputs.shape[1:], device=x.device, generator=g)
                                                       for g in self.generators])
            scores = self.forward(inputs, training=True)
            per_model = self.losses(scores, targets)  # (K,)
            loss = per_model.sum()  # models are independent: each gets its own gradient
            if settings.l1 > 0:
                loss = loss + settings.l1 * sum(w.abs().sum() for w in self.weights)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self._regularise_and_clip(settings)
            for old, p in zip(before, params):  # reused buffers: no fresh allocation per step
                old.copy_(p.detach())
            self.optimizer.step()
            with torch.no_grad():  # scale each model's update by its own learning rate, in place
                for p, old, weight in zip(params, before, rate_columns):
                    torch.lerp(old, p, weight, out=p)
            loss_sum += per_model.detach() * rows.shape[1]
            if head.is_classifier:
                wrong += (self.predictions(scores.detach()) != targets).sum(dim=1)
        steps = -(-n_rows // batch)
        self.norm_steps = [count + steps * on for count, on in zip(self.norm_steps, self.active.tolist())]
        return loss_sum, wrong

    def _regularise_and_clip(self, settings) -> None:
        with torch.no_grad():
            if self.any_l2:
                for w in self.weights:
                    w.grad.add_(w * (2 * self.l2).view(-1, 1, 1))
            if settings.grad_clip is not None:
                params = self.parameters
                norms = torch.sqrt(sum((p.grad.reshape(self.size, -1) ** 2).sum(dim=1) for p in params))
                scale = torch.clamp(settings.grad_clip / (norms + 1e-6), max=1.0)
                for p in params:
                    p.grad.mul_(scale.view(-1, *([1] * (p.dim() - 1))))

    def _rows(self, split: str, rows: Tensor) -> tuple[Tensor, Tensor]:
        """Each model's rows (K, batch) of a split → inputs (K, batch, d), targets (K, batch)."""
        x, y = self.x[split], self.y[split]
        if self.shared_data:
            return x[rows], y[rows]
        flat = rows + self.n_rows[split] * torch.arange(self.size, device=rows.device)[:, None]
        return x.flatten(0, 1)[flat], y.flatten()[flat]

    @torch.no_grad()
    def _score(self, split: str) -> dict[str, list[float]]:
        x, targets = self.x[split], self.y[split]
        if self.shared_data:  # every model scores the same rows: a stride-0 batch, no copy
            x, targets = x.expand(self.size, *x.shape), targets.expand(self.size, -1)
        scores = self.forward(x, training=False)
        head = self.members[0].head
        losses = self.losses(scores, targets).tolist()
        if head.is_classifier:
            errors = (self.predictions(scores) != targets).double().mean(dim=1).tolist()
            return {"loss": losses, "error": errors}
        return {"loss": losses, "error": losses}

    # ------------------------------------------------------------------ per-model state

    def _member_state(self, k: int) -> dict[str, Any]:
        """Model ``k``'s parameters, batch-norm statistics and batch count (copies)."""
        return {"tensors": [t.detach().view(self.size, -1)[k].clone() for t in (*self.parameters, *self.running)],
                "norm_steps": self.norm_steps[k]}

    def _load_member(self, k: int, state: dict[str, Any]) -> None:
        with torch.no_grad():
            for t, saved in zip((*self.parameters, *self.running), state["tensors"]):
                t.view(self.size, -1)[k] = saved
        self.norm_steps[k] = state["norm_steps"]

    def _snapshot(self) -> dict[str, Any]:
        return {"tensors": [t.detach().clone() for t in (*self.parameters, *self.running)],
                "norm_steps": list(self.norm_steps)}

    def _diverge(self, k: int, member: MemberResult, snapshots: dict[str, Any], epoch: int, rate: float) -> None:
        self._load_member(k, {"tensors": [t.view(self.size, -1)[k] for t in snapshots["tensors"]],
                              "norm_steps": snapshots["norm_steps"][k]})
        self.final_state[k] = self._member_state(k)
        self.active[k] = False
        member.diverged = True
        member.best_epoch = len(member.history) or None
        member.stop_reason = (f"diverged: the training loss became NaN/inf in epoch {epoch + 1} "
                              f"(learning rate {rate:g}); kept the weights of epoch {len(member.history)}")

    def _unstack(self, k: int, member: MemberResult) -> None:
        with torch.no_grad():
            for layer, weight, bias in zip(member.model.linear_layers(), self.weights, self.biases):
                layer.weight.copy_(weight[k].cpu())
                layer.bias.copy_(bias[k].cpu())
            norms = [block.norm for block in member.model.hidden if hasattr(block, "norm")]
            count = len(norms)
            for index, norm in enumerate(norms):
                norm.weight.copy_(self.norm_weights[index][k].cpu())
                norm.bias.copy_(self.norm_biases[index][k].cpu())
                norm.running_mean.copy_(self.running[index].view(self.size, -1)[k].cpu())
                norm.running_var.copy_(self.running[count + index].view(self.size, -1)[k].cpu())
                norm.num_batches_tracked.fill_(self.norm_steps[k])
        member.model.eval()
