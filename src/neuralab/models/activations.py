"""Hidden-layer activations by name: each is a ``torch.nn`` module factory.

The names and their properties (zero-centred, saturating, cost, differentiable) are in
``neuralab.catalog.ACTIVATIONS``; this registry maps each name to its torch module.

Example:
    >>> from neuralab.models.activations import make_activation
    >>> make_activation("leaky_relu")
    LeakyReLU(negative_slope=0.01)
"""
from __future__ import annotations

from collections.abc import Callable

from torch import nn

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
    "linear": nn.Identity,
}

# Activations whose output saturates at both ends (gradient → 0): what the doctor watches.
SATURATING = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def make_activation(name: str) -> nn.Module:
    """Return a fresh activation module for ``name`` (see ``neuralab info activations``)."""
    return ACTIVATIONS[name]()


def init_gain_name(name: str) -> str:
    """Return the ``torch.nn.init.calculate_gain`` name that matches activation ``name``."""
    return {"relu": "relu", "leaky_relu": "leaky_relu", "tanh": "tanh", "sigmoid": "sigmoid",
            "selu": "selu", "linear": "linear"}.get(name, "relu")
