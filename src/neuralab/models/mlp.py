"""The multi-layer perceptron: ``z = Wx + b``, ``a = g(z)``, layer after layer.

Each hidden layer is a block ``linear → [batch norm] → activation → [dropout]`` named
``hidden1``, ``hidden2``, …; the last layer, ``output``, returns raw scores (logits) and
the output activation is applied by the head (see ``neuralab.training.losses``).

It is the ``mlp`` model kind (:mod:`neuralab.models.kinds`), the one the population engine
may train (:mod:`neuralab.models.stacked`).

Example:
    >>> from neuralab.spec import ModelSpec
    >>> from neuralab.models import ModelShape, build_model, layer_summary
    >>> model = build_model(ModelSpec(hidden=[4, 3]), ModelShape(n_inputs=2, n_outputs=1))
    >>> [row["parameters"] for row in layer_summary(model)]
    [12, 15, 4]
"""
from __future__ import annotations

from torch import Tensor, nn

from neuralab.models.activations import make_activation
from neuralab.models.init import initialize
from neuralab.models.kinds import ModelKind, ModelShape, register
from neuralab.spec import ModelSpec


class MLP(nn.Module):
    """A fully connected network built from a :class:`~neuralab.spec.ModelSpec`.

    Args:
        spec: layers, activations, init, dropout and batch-norm settings.
        n_inputs: number of input features.
        n_outputs: number of output scores (1 for regression/binary, K for K classes).
    """

    def __init__(self, spec: ModelSpec, *, n_inputs: int, n_outputs: int):
        super().__init__()
        self.activation_names = spec.layer_activations()
        # no dropout and no batch norm: the network computes the same in training and evaluation,
        # so evaluation_mode need not switch (a switch walks every submodule, as costly as a small layer)
        self.mode_matters = spec.dropout > 0 or spec.batch_norm
        self.hidden = nn.ModuleList()
        width = n_inputs
        for size, activation in zip(spec.hidden, self.activation_names):
            self.hidden.append(_block(width, size, activation, spec))
            width = size
        self.output = nn.Linear(width, n_outputs)
        last_activation = self.activation_names[-1] if self.activation_names else "linear"
        initialize(self.output, spec.init, std=spec.init_std, activation=last_activation)

    def forward(self, inputs: Tensor) -> Tensor:
        # inputs: (batch, n_inputs) → scores: (batch, n_outputs)
        hidden = inputs
        for layer in self._flat():  # linear, [norm], activation, [dropout] of each block, then output
            hidden = layer(hidden)
        return hidden

    def _flat(self) -> tuple[nn.Module, ...]:
        # Calling the blocks' parts directly skips one nn.Sequential call per block and step:
        # a few per cent of a small network's step. Hooks on the parts still fire.
        if self.__dict__.get("_flat_layers") is None:
            self.__dict__["_flat_layers"] = (*(part for block in self.hidden for part in block), self.output)
        return self.__dict__["_flat_layers"]

    def layer_names(self) -> list[str]:
        """Names of the weight layers in order: hidden1 … hiddenN, output."""
        return [f"hidden{i + 1}" for i in range(len(self.hidden))] + ["output"]

    def linear_layers(self) -> list[nn.Linear]:
        """The weight layers in the order of :meth:`layer_names`."""
        return [block.linear for block in self.hidden] + [self.output]


def _block(n_in: int, n_out: int, activation: str, spec: ModelSpec) -> nn.Sequential:
    block = nn.Sequential()
    block.add_module("linear", nn.Linear(n_in, n_out))
    initialize(block.linear, spec.init, std=spec.init_std, activation=activation)
    if spec.batch_norm:
        block.add_module("norm", nn.BatchNorm1d(n_out))
    block.add_module("activation", make_activation(activation))
    if spec.dropout > 0:
        block.add_module("dropout", nn.Dropout(spec.dropout))
    return block


def count_parameters(spec: ModelSpec, shape: ModelShape) -> int:
    """Parameters the network of ``spec`` would have, computed without building it.

    Example:
        >>> count_parameters(ModelSpec(hidden=[4, 3]), ModelShape(n_inputs=2, n_outputs=1))
        31
    """
    widths = [shape.n_inputs, *spec.hidden, shape.n_outputs]
    total = sum(a * b + b for a, b in zip(widths, widths[1:]))
    return total + (2 * sum(spec.hidden) if spec.batch_norm else 0)


def _short_list(values: list[int]) -> str:
    return str(values) if len(values) <= 6 else f"[{', '.join(map(str, values[:5]))}, ... ({len(values)} layers)]"


def layer_summary(model: MLP) -> list[dict[str, object]]:
    """One row per layer: name, shape (inputs → outputs), activation and parameter count.

    Parameters are what training learns (weights and biases, batch-norm scales and
    shifts); everything in the spec is a hyperparameter.
    """
    rows = []
    blocks = list(model.hidden) + [model.output]
    activations = model.activation_names + ["(output head)"]
    for name, block, activation in zip(model.layer_names(), blocks, activations):
        linear = block if isinstance(block, nn.Linear) else block.linear
        rows.append({
            "layer": name,
            "inputs": linear.in_features,
            "outputs": linear.out_features,
            "activation": activation,
            "parameters": sum(p.numel() for p in block.parameters()),
        })
    return rows


register(ModelKind(
    name="mlp",
    build=lambda spec, shape: MLP(spec, n_inputs=shape.n_inputs, n_outputs=shape.n_outputs),
    count_parameters=count_parameters,
    data_kinds=("tabular",),
    describe=layer_summary,
    size_of=lambda spec: f"model.hidden: {_short_list(spec.hidden)}",
    population=True,
))
