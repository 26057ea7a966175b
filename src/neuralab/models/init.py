"""Weight initialisation by name, from ``torch.nn.init``.

Biases start at the value the catalog gives the scheme (its ``bias`` property): zero for
every scheme but TF Playground's (0.1). A ``zeros`` init makes every hidden unit of a
layer identical — and they stay identical through training (the symmetry problem).

Example:
    >>> import torch
    >>> from neuralab.models.init import initialize
    >>> layer = torch.nn.Linear(4, 3)
    >>> initialize(layer, "zeros")
    >>> float(layer.weight.detach().abs().sum())
    0.0
"""
from __future__ import annotations

import math
from collections.abc import Callable

from torch import Tensor, nn

from neuralab.spec.catalog import INITS as CATALOG


def _normal(weight: Tensor, std: float, activation: str) -> None:
    nn.init.normal_(weight, 0.0, std)


def _uniform(weight: Tensor, std: float, activation: str) -> None:
    bound = math.sqrt(3.0) * std  # same variance as normal(0, std²)
    nn.init.uniform_(weight, -bound, bound)


def _he(kind: str) -> Callable[[Tensor, float, str], None]:
    def init(weight: Tensor, std: float, activation: str) -> None:
        slope_name = "leaky_relu" if activation == "leaky_relu" else "relu"
        fn = nn.init.kaiming_normal_ if kind == "normal" else nn.init.kaiming_uniform_
        fn(weight, a=0.01 if slope_name == "leaky_relu" else 0.0, nonlinearity=slope_name)
    return init


def _lecun_normal(weight: Tensor, std: float, activation: str) -> None:
    nn.init.kaiming_normal_(weight, nonlinearity="linear")  # variance 1 / fan_in


INITS: dict[str, Callable[[Tensor, float, str], None]] = {
    "zeros": lambda weight, std, activation: nn.init.zeros_(weight),
    "normal": _normal,
    "uniform": _uniform,
    "xavier_uniform": lambda weight, std, activation: nn.init.xavier_uniform_(weight),
    "xavier_normal": lambda weight, std, activation: nn.init.xavier_normal_(weight),
    "he_uniform": _he("uniform"),
    "he_normal": _he("normal"),
    "lecun_normal": _lecun_normal,
    "orthogonal": lambda weight, std, activation: nn.init.orthogonal_(weight),
    "playground": lambda weight, std, activation: nn.init.uniform_(weight, -0.5, 0.5),  # TFP's Math.random() − 0.5
}


def initialize(layer: nn.Linear, name: str, *, std: float = 0.05, activation: str = "relu") -> None:
    """Initialise ``layer.weight`` with scheme ``name`` and set its bias to the scheme's (catalog) value.

    Args:
        layer: the linear layer to initialise in place.
        name: a key of ``INITS`` (see ``neuralab info inits``).
        std: standard deviation for ``normal`` and ``uniform`` (default 0.05).
        activation: the activation that follows, for He's gain (default ``relu``).
    """
    INITS[name](layer.weight, std, activation)
    if layer.bias is not None:
        nn.init.constant_(layer.bias, float(CATALOG[name].properties["bias"]))
