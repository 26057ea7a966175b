"""Model kinds: ``model.kind`` picks a builder from this registry; a new family registers here.

A kind says how to build its network from the spec and the data's shape, how many
parameters that would be (checked before anything is allocated), which data kinds it can
learn from, how to describe its layers, and whether the population engine may train it
(only where a parity test covers it). Every front end builds models through
:func:`build_model`, so a new kind works in the CLI, the Python API, tuning and the doctor
without any change to them. The names are the catalog's (``neuralab.spec.catalog.MODEL_KINDS``).

Example:
    >>> from neuralab.spec import ModelSpec
    >>> model = build_model(ModelSpec(hidden=[4]), ModelShape(n_inputs=2, n_outputs=1))
    >>> [row["parameters"] for row in describe_layers(model, kind="mlp")]
    [12, 5]
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from neuralab.errors import SpecError
from neuralab.spec import MAX_PARAMETERS, ModelSpec


@dataclass(frozen=True)
class ModelShape:
    """What the data tell a builder: sizes of the input and the output, and for sequences more.

    Attributes:
        n_inputs: features per row (tabular data) or per time step (numeric sequences).
        n_outputs: output scores per prediction (the head's ``n_outputs``).
        vocab_size: number of distinct tokens when the inputs are token ids (text), else None.
        sequence_length: time steps per example (sequences), else None.
        output_steps: ``"last"`` (one prediction per sequence) or ``"every"`` (one per step).
    """

    n_inputs: int
    n_outputs: int
    vocab_size: int | None = None
    sequence_length: int | None = None
    output_steps: str = "last"

    def to_dict(self) -> dict[str, object]:
        return dict(vars(self))


@dataclass(frozen=True)
class ModelKind:
    """One family of networks, as the registry knows it.

    Attributes:
        name: the catalog name (``model.kind``).
        build: (model spec, shape) → the network, weights drawn from torch's global RNG.
        count_parameters: (model spec, shape) → parameters it would have, without building it.
        data_kinds: the data kinds it learns from (``tabular``, ``sequence``, ``text``).
        describe: network → one row per layer (layer, inputs, outputs, activation, parameters).
        size_of: the spec's fields that set the network's size, as a message names them.
        population: True when the population engine may train it (parity-tested).
        threads_from: parameters from which a second CPU thread pays (None: the engine's general rule).
    """

    name: str
    build: Callable[[ModelSpec, ModelShape], nn.Module]
    count_parameters: Callable[[ModelSpec, ModelShape], int]
    data_kinds: tuple[str, ...]
    describe: Callable[[nn.Module], list[dict[str, object]]]
    size_of: Callable[[ModelSpec], str]
    population: bool = False
    threads_from: int | None = None


MODEL_KINDS: dict[str, ModelKind] = {}


def register(kind: ModelKind) -> ModelKind:
    """Add a model kind to the registry (its name must be in the catalog)."""
    from neuralab.spec.catalog import names

    if kind.name not in names("model_kinds"):
        raise ValueError(f"model kind {kind.name!r} is not in neuralab.spec.catalog.MODEL_KINDS")
    MODEL_KINDS[kind.name] = kind
    return kind


def kind_of(spec: ModelSpec) -> ModelKind:
    """The registered kind of ``spec.kind``."""
    _load_builtin_kinds()
    return MODEL_KINDS[spec.kind]


def kinds_for(data_kind: str) -> list[str]:
    """The model kinds that learn from ``data_kind`` data, in catalog order.

    Example:
        >>> kinds_for("text")
        ['rnn', 'lstm', 'gru', 'transformer']
    """
    from neuralab.spec.catalog import names

    _load_builtin_kinds()
    return [name for name in names("model_kinds") if name in MODEL_KINDS and data_kind in MODEL_KINDS[name].data_kinds]


def build_model(spec: ModelSpec, shape: ModelShape) -> nn.Module:
    """Build the network of ``spec.kind`` for data of ``shape`` (seed torch's global RNG first).

    Raises:
        SpecError: the network would have more than ``MAX_PARAMETERS`` parameters
            (checked before anything is allocated).
    """
    kind = kind_of(spec)
    total = kind.count_parameters(spec, shape)
    if total > MAX_PARAMETERS:
        raise SpecError(f"{kind.size_of(spec)} with {shape.n_inputs:,} inputs and {shape.n_outputs:,} outputs gives "
                        f"{total:,} parameters; the limit is {MAX_PARAMETERS:,} — use fewer or narrower layers")
    return kind.build(spec, shape)


def describe_layers(model: nn.Module, *, kind: str) -> list[dict[str, object]]:
    """One row per layer of ``model`` (a network of kind ``kind``): name, inputs, outputs, activation, parameters."""
    _load_builtin_kinds()
    return MODEL_KINDS[kind].describe(model)


def _load_builtin_kinds() -> None:
    # The built-in kinds register themselves when their module is imported.
    from neuralab.models import mlp, recurrent, transformer  # noqa: F401
