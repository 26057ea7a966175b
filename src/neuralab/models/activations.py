"""Hidden-layer activations by name: each is a ``torch.nn`` module factory.

The names and their properties (zero-centred, saturating, cost, differentiable) are in
``neuralab.spec.catalog.ACTIVATIONS``; this registry maps each name to its torch module.

Example:
    >>> from neuralab.models.activations import make_activation
    >>> make_activation("leaky_relu")
    LeakyReLU(negative_slope=0.01)
"""
from __future__ import annotations

from collections.abc import Callable

from torch import nn

from neuralab.spec.catalog import ACTIVATIONS as ACTIVATIONS_CATALOG
from neuralab.spec.catalog import family

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

def _bounds(text: str) -> tuple[float, float]:
    low, high = text.strip("()[]").split(",")
    return float(low), float(high)


# Activations whose output saturates at both ends (gradient → 0), with their output range: what the doctor watches.
SATURATING = {name: _bounds(ACTIVATIONS_CATALOG[name].properties["range"])
              for name in family("activations", "saturating", "both sides")}


def make_activation(name: str) -> nn.Module:
    """Return a fresh activation module for ``name`` (see ``neuralab info activations``)."""
    return ACTIVATIONS[name]()


def init_gain_name(name: str) -> str:
    """Return the ``torch.nn.init.calculate_gain`` name that matches activation ``name``."""
    return {"relu": "relu", "leaky_relu": "leaky_relu", "tanh": "tanh", "sigmoid": "sigmoid",
            "selu": "selu", "linear": "linear"}.get(name, "relu")
