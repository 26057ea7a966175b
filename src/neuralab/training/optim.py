"""Optimisers by name, all from ``torch.optim``.

L2 is the penalty ``l2 · Σw²`` on weights (not biases or batch-norm scales). Its gradient
``2·l2·w`` is exactly torch's coupled ``weight_decay``, so it is passed as that on a
separate parameter group; AdamW decouples decay by design and takes ``l2`` as its decay.
Fused kernels are used where torch has them: same maths, fewer passes over memory.

Example:
    >>> import torch
    >>> from neuralab.spec import TrainSpec
    >>> from neuralab.training.optim import build_optimizer
    >>> build_optimizer(torch.nn.Linear(2, 1), TrainSpec(optimizer="nesterov")).defaults["nesterov"]
    True
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from neuralab.spec import TrainSpec

_FUSED = {"sgd", "momentum", "nesterov", "adagrad", "adam", "adamw"}


def _betas(train: TrainSpec) -> dict[str, Any]:
    return {"betas": (train.momentum, 0.999)}


OPTIMIZERS: dict[str, Callable[[TrainSpec], tuple[type[torch.optim.Optimizer], dict[str, Any]]]] = {
    "sgd": lambda t: (torch.optim.SGD, {}),
    "momentum": lambda t: (torch.optim.SGD, {"momentum": t.momentum}),
    "nesterov": lambda t: (torch.optim.SGD, {"momentum": t.momentum, "nesterov": t.momentum > 0}),
    "adagrad": lambda t: (torch.optim.Adagrad, {}),
    "rmsprop": lambda t: (torch.optim.RMSprop, {"alpha": 0.99}),
    "adadelta": lambda t: (torch.optim.Adadelta, {"rho": 0.9}),
    "adam": lambda t: (torch.optim.Adam, _betas(t)),
    "adamw": lambda t: (torch.optim.AdamW, _betas(t)),
    "nadam": lambda t: (torch.optim.NAdam, _betas(t)),
}


def parameter_groups(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """Split parameters into (weights of linear layers, everything else: biases, norms)."""
    weights, others = [], []
    for module in model.modules():
        for name, parameter in module.named_parameters(recurse=False):
            is_weight = isinstance(module, nn.Linear) and name == "weight"
            (weights if is_weight else others).append(parameter)
    return weights, others


def build_optimizer(model: nn.Module, train: TrainSpec, *, device: str = "cpu",
                    split_groups: bool = False) -> torch.optim.Optimizer:
    """Create the ``torch.optim`` optimiser named by ``train.optimizer`` for ``model``.

    Args:
        model: the network whose parameters are optimised.
        train: the training spec (optimizer, learning_rate, momentum, l2).
        device: where the parameters live; fused kernels are used on cpu and cuda.
        split_groups: weights and the other parameters in two groups even without L2, so
            L2 can be switched on while training (:func:`set_l2`); the numbers are the same.
    """
    cls, options = OPTIMIZERS[train.optimizer](train)
    decay = weight_decay(train)
    weights, others = parameter_groups(model)
    if decay > 0 or split_groups:
        groups = [{"params": weights, "weight_decay": decay}, {"params": others, "weight_decay": 0.0}]
    else:  # one group: each optimiser step is one fused kernel call instead of two
        groups = [{"params": weights + others, "weight_decay": 0.0}]
    groups = [group for group in groups if group["params"]]
    if train.optimizer in _FUSED and device in ("cpu", "cuda"):
        options["fused"] = True
    return cls(groups, lr=train.learning_rate, **options)


def weight_decay(train: TrainSpec) -> float:
    """torch's ``weight_decay`` for ``train.l2``: the penalty's gradient 2·l2·w (AdamW: l2 itself).

    Example:
        >>> weight_decay(TrainSpec(l2=0.01, optimizer="sgd")), weight_decay(TrainSpec(l2=0.01, optimizer="adamw"))
        (0.02, 0.01)
    """
    return train.l2 if train.optimizer == "adamw" else 2.0 * train.l2


def set_l2(optimizer: torch.optim.Optimizer, model: nn.Module, train: TrainSpec) -> None:
    """Change L2 while training: the weights' group gets ``weight_decay(train)``.

    The optimiser must hold the weights in a group of their own (``split_groups=True``, or
    built with L2 on).

    Example:
        >>> model = torch.nn.Linear(2, 1)
        >>> optimizer = build_optimizer(model, TrainSpec(optimizer="sgd"), split_groups=True)
        >>> set_l2(optimizer, model, TrainSpec(optimizer="sgd", l2=0.05))
        >>> [group["weight_decay"] for group in optimizer.param_groups]
        [0.1, 0.0]
    """
    weight_ids = {id(p) for p in parameter_groups(model)[0]}
    for group in optimizer.param_groups:
        in_group = [id(p) in weight_ids for p in group["params"]]
        if any(in_group) and not all(in_group):
            raise ValueError("set_l2: the weights share a parameter group with biases; build with split_groups=True")
        group["weight_decay"] = weight_decay(train) if all(in_group) else 0.0
