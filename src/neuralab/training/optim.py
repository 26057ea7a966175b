"""Optimisers by name, all from ``torch.optim``.

How ``train.momentum`` and ``train.l2`` enter each optimiser is the catalog's
(``neuralab.spec.catalog.OPTIMIZERS``: its ``momentum``, ``usual momentum`` and ``decay``
properties) and the rules' (:func:`neuralab.training.rules.weight_decay`): L2 is the
penalty ``l2 · Σw²`` on weights (not biases or batch-norm scales), passed as torch's
coupled ``weight_decay`` on a separate parameter group, or as AdamW's decoupled decay.
Fused kernels are used where torch has them: same maths, fewer passes over memory.

Example:
    >>> import torch
    >>> from neuralab.spec import TrainSpec
    >>> build_optimizer(torch.nn.Linear(2, 1), TrainSpec(optimizer="nesterov")).defaults["nesterov"]
    True
    >>> build_optimizer(torch.nn.Linear(2, 1), TrainSpec(optimizer="rmsprop", momentum=0.5)).defaults["momentum"]
    0.5
"""
from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import nn

from neuralab.spec import TrainSpec
from neuralab.spec.catalog import OPTIMIZERS as CATALOG
from neuralab.training.rules import weight_decay

# The torch class of each catalog optimiser and its fixed options (the lecture's values).
TORCH_OPTIMIZERS: dict[str, tuple[type[torch.optim.Optimizer], dict[str, Any]]] = {
    "sgd": (torch.optim.SGD, {}),
    "momentum": (torch.optim.SGD, {}),
    "nesterov": (torch.optim.SGD, {"nesterov": True}),
    "adagrad": (torch.optim.Adagrad, {}),
    "rmsprop": (torch.optim.RMSprop, {"alpha": 0.99}),
    "adadelta": (torch.optim.Adadelta, {"rho": 0.9}),
    "adam": (torch.optim.Adam, {}),
    "adamw": (torch.optim.AdamW, {}),
    "nadam": (torch.optim.NAdam, {}),
}


def momentum_of(train: TrainSpec) -> float:
    """The momentum (or β1) the optimiser uses: ``train.momentum``, or its usual value when null."""
    if CATALOG[train.optimizer].properties["momentum"] == "no":
        return 0.0
    if train.momentum is not None:
        return train.momentum
    return float(CATALOG[train.optimizer].properties["usual momentum"])


def optimizer_options(train: TrainSpec) -> tuple[type[torch.optim.Optimizer], dict[str, Any]]:
    """The torch class and keyword options for ``train.optimizer`` (learning rate and decay aside)."""
    cls, fixed = TORCH_OPTIMIZERS[train.optimizer]
    options = dict(fixed)
    how = CATALOG[train.optimizer].properties["momentum"]
    momentum = momentum_of(train)
    if how == "coefficient":
        options["momentum"] = momentum
        if options.get("nesterov") and momentum == 0:
            options["nesterov"] = False  # torch refuses Nesterov without momentum
    elif how == "beta1":
        options["betas"] = (momentum, 0.999)
    return cls, options


def parameter_groups(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """Split parameters into (weights of linear layers, everything else: biases, norms)."""
    weights, others = [], []
    for module in model.modules():
        for name, parameter in module.named_parameters(recurse=False):
            is_weight = isinstance(module, nn.Linear) and name == "weight"
            (weights if is_weight else others).append(parameter)
    return weights, others


def build_optimizer(model: nn.Module, train: TrainSpec, *, device: str = "cpu") -> torch.optim.Optimizer:
    """Create the ``torch.optim`` optimiser named by ``train.optimizer`` for ``model``.

    With L2, weights and the other parameters are two groups (the second without decay);
    without, one group: each step is then one fused kernel call instead of two.

    Args:
        model: the network whose parameters are optimised.
        train: the training spec (optimizer, learning_rate, momentum, l2).
        device: where the parameters live; fused kernels are used on cpu and cuda.
    """
    cls, options = optimizer_options(train)
    weights, others = parameter_groups(model)
    decay = weight_decay(train).rate
    if decay > 0:
        groups = [{"params": weights, "weight_decay": decay}, {"params": others, "weight_decay": 0.0}]
    else:
        groups = [{"params": weights + others, "weight_decay": 0.0}]
    groups = [group for group in groups if group["params"]]
    if device in ("cpu", "cuda") and "fused" in inspect.signature(cls).parameters:
        options["fused"] = True
    return cls(groups, lr=train.learning_rate, **options)


def set_weight_decay(optimizer: torch.optim.Optimizer, model: nn.Module, train: TrainSpec) -> None:
    """Apply ``train.l2`` to a running optimiser's weights (a live change), splitting off the weights'
    group first when the optimiser was built without decay. The optimiser's state is kept."""
    weights = {id(p) for p in parameter_groups(model)[0]}
    first = optimizer.param_groups[0]
    mixed = [p for p in first["params"] if id(p) not in weights]
    if mixed and len(mixed) < len(first["params"]):
        first["params"] = [p for p in first["params"] if id(p) in weights]
        optimizer.add_param_group({"params": mixed, "weight_decay": 0.0, "lr": first["lr"]})
    for group in optimizer.param_groups:
        if all(id(p) in weights for p in group["params"]):
            group["weight_decay"] = weight_decay(train).rate


def optimizer_over(parameters: list[torch.Tensor], train: TrainSpec, *, learning_rate: float,
                   device: str = "cpu") -> torch.optim.Optimizer:
    """The optimiser of ``train`` over plain tensors, without weight decay (the population's stacked leaves)."""
    cls, options = optimizer_options(train)
    if device in ("cpu", "cuda") and "fused" in inspect.signature(cls).parameters:
        options["fused"] = True
    return cls(parameters, lr=learning_rate, weight_decay=0.0, **options)
