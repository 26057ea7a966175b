"""The search space: which spec fields a study varies, over which ranges or choices.

A space file is YAML with ``params`` (any dotted spec field → a float, int or categorical
range) and an optional ``architecture`` — the NAS preset: number of hidden layers, a width
per layer (a conditional parameter: ``width_3`` exists only when there are 3 layers) and
the hidden activation. Every range is checked against the spec before any trial runs, so a
typo or an out-of-range bound fails at once with one line per problem.

Example:
    >>> from neuralab.spec import load_spec
    >>> space = load_space({"params": {"train.learning_rate": {"low": 1e-4, "high": 1e-1, "log": True},
    ...                                "train.optimizer": ["sgd", "adam"]}})
    >>> check_space(space, load_spec(None))
    >>> sorted(space.params), space.params["train.optimizer"].kind
    (['train.learning_rate', 'train.optimizer'], 'categorical')
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from neuralab.errors import SpecError
from neuralab.spec import ExperimentSpec, load_spec, parse_yaml, set_dotted

Primitive = bool | int | float | str | None
DEFAULT_GRID_POINTS = 5


class Trial(Protocol):
    """What :func:`suggest` needs from an ``optuna.Trial`` (kept abstract: optuna loads lazily)."""

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float: ...

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int: ...

    def suggest_categorical(self, name: str, choices: list[Primitive]) -> Primitive: ...


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParamSpace(_Strict):
    """One varied field: ``choices`` (categorical), or ``low``/``high`` (int or float)."""

    type: Literal["float", "int", "categorical"] | None = Field(None, description="inferred when left out")
    low: float | None = None
    high: float | None = None
    log: bool = Field(False, description="sample on a log scale (low must be > 0)")
    step: float | None = Field(None, gt=0, description="quantisation step (not with log)")
    choices: list[Any] | None = Field(None, min_length=1, description="values of a categorical parameter")
    points: int = Field(DEFAULT_GRID_POINTS, ge=2, le=1000, description="grid sampler: values of a float range")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"choices": value} if isinstance(value, list) else value

    @model_validator(mode="after")
    def _consistent(self) -> "ParamSpace":
        if self.choices is not None:
            if self.type not in (None, "categorical") or self.low is not None or self.high is not None:
                raise ValueError("give either choices (categorical) or low/high (a range), not both")
            return self
        if self.low is None or self.high is None:
            raise ValueError("needs low and high (a range) or choices (a list)")
        if self.type == "categorical":
            raise ValueError("a categorical parameter needs choices")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError(f"log scale needs low > 0 (low is {self.low:g})")
        if self.log and self.step is not None:
            raise ValueError("step and log cannot be combined")
        if self.type == "int" and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError("an int range needs whole-number low and high")
        return self

    @property
    def kind(self) -> str:
        """``categorical``, ``int`` (both bounds whole and type not float) or ``float``."""
        if self.choices is not None:
            return "categorical"
        if self.type:
            return self.type
        whole = self.low == int(self.low) and self.high == int(self.high)
        return "int" if whole and not self.log and (self.step is None or self.step == int(self.step)) else "float"

    def grid(self) -> list[Any]:
        """The values the grid sampler visits: the choices, every int, or ``points`` floats."""
        if self.kind == "categorical":
            return list(self.choices)
        if self.kind == "int":
            return list(range(int(self.low), int(self.high) + 1, int(self.step or 1)))
        if self.step is not None:
            return [float(v) for v in np.arange(self.low, self.high + self.step / 2, self.step)]
        spaced = np.geomspace if self.log else np.linspace
        return [float(v) for v in spaced(self.low, self.high, self.points)]


class WidthSpace(_Strict):
    """Neurons per hidden layer: an int range, log-scaled by default (8, 16, 32… equally likely)."""

    low: int = Field(8, ge=1, le=4096)
    high: int = Field(128, ge=1, le=4096)
    log: bool = True
    points: int = Field(DEFAULT_GRID_POINTS, ge=2, le=100, description="grid sampler: widths visited")

    @model_validator(mode="after")
    def _ordered(self) -> "WidthSpace":
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self

    def grid(self) -> list[int]:
        spaced = np.geomspace if self.log else np.linspace
        return sorted({int(round(v)) for v in spaced(self.low, self.high, self.points)})


class LayersSpace(_Strict):
    """How many hidden layers."""

    low: int = Field(1, ge=0, le=64)
    high: int = Field(3, ge=0, le=64)

    @model_validator(mode="after")
    def _ordered(self) -> "LayersSpace":
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self


class ArchitectureSpace(_Strict):
    """The NAS preset: depth, width per layer (conditional on depth) and hidden activation."""

    layers: LayersSpace = Field(default_factory=LayersSpace)
    width: WidthSpace = Field(default_factory=WidthSpace)
    per_layer_width: bool = Field(True, description="a width per layer; false: one width for all (the grid's way)")
    activation: list[str] | None = Field(None, min_length=1, description="hidden activations to choose from")


class SearchSpace(_Strict):
    """A whole search space: ``params`` over dotted spec fields plus an optional ``architecture``."""

    params: dict[str, ParamSpace] = Field(default_factory=dict)
    architecture: ArchitectureSpace | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> "SearchSpace":
        if not self.params and self.architecture is None:
            raise ValueError("is empty: give params and/or architecture")
        return self


# --------------------------------------------------------------------------- loading and checking


def load_space(source: str | Path | Mapping[str, Any] | SearchSpace) -> SearchSpace:
    """Read and validate a search space from a YAML/JSON file or a mapping.

    Raises:
        SpecError: one line per problem, naming the space field (``space.params.<field>...``).
    """
    if isinstance(source, SearchSpace):
        return source
    raw = _read(source) if isinstance(source, (str, Path)) else dict(source)
    try:
        return SearchSpace.model_validate(raw)
    except ValidationError as error:
        raise SpecError([_problem(e) for e in error.errors()]) from None


def _read(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"space file: {str(path)!r} does not exist")
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))  # YAML is a superset of JSON; no aliases or repeated keys
    except yaml.YAMLError as error:
        raise SpecError(f"space file: {str(path)!r} cannot be parsed: {' '.join(str(error).split())[:300]}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"space file: {str(path)!r} must hold a mapping with params and/or architecture")
    return raw


def _problem(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in ("space", *error["loc"]))
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown field"
    value = error.get("input")
    shown = "" if isinstance(value, dict) else f"{json.dumps(value, default=str)[:60]} — "
    return f"{where}: {shown}{message[0].lower() + message[1:]}"


def check_space(space: SearchSpace, spec: ExperimentSpec) -> None:
    """Check that every field exists in the spec and every bound or choice is a valid value.

    Raises:
        SpecError: one line per problem, e.g. ``space.params.train.lerning_rate: unknown field ...``.
    """
    problems: list[str] = []
    for name, param in space.params.items():
        problems += _field_problems(spec, name, _probe_values(param))
    arch = space.architecture
    if arch is not None:
        if "model.hidden" in space.params or (arch.activation and "model.activation" in space.params):
            problems.append("space.architecture: also set in space.params (model.hidden / model.activation); keep one")
        probe = [[arch.width.low] * max(arch.layers.low, 1), [arch.width.high] * max(arch.layers.high, 1)]
        problems += _field_problems(spec, "model.hidden", probe, label="space.architecture.width")
        problems += _field_problems(spec, "model.activation", arch.activation or [], label="space.architecture.activation")
    if problems:
        raise SpecError(problems)


def _probe_values(param: ParamSpace) -> list[Any]:
    if param.kind == "categorical":
        return list(param.choices)
    cast = int if param.kind == "int" else float
    return [cast(param.low), cast(param.high)]


def _field_problems(spec: ExperimentSpec, field: str, values: list[Any], *, label: str | None = None) -> list[str]:
    label = label or f"space.params.{field}"
    raw = spec.model_dump(mode="json")
    try:
        set_dotted(raw, field, None)
    except SpecError as error:
        return [f"space.params.{line}" for line in error.problems]
    problems = []
    for value in values:
        try:
            load_spec(spec, overrides={field: value})
        except SpecError as error:
            problems += [f"{label}: value {json.dumps(value, default=str)} is not allowed ({line})"
                         for line in error.problems]
    return problems


# --------------------------------------------------------------------------- suggesting


def suggest(space: SearchSpace, trial: Trial, *, uniform_width: bool = False) -> dict[str, Any]:
    """Ask ``trial`` for one point of ``space``; return it as dotted spec overrides.

    Args:
        space: the validated search space.
        trial: an ``optuna.Trial`` (anything with ``suggest_float/int/categorical``).
        uniform_width: one width for all hidden layers even when the space asks for one per
            layer (the grid sampler needs a fixed set of parameters).
    """
    overrides: dict[str, Any] = {}
    for name, param in space.params.items():
        overrides[name] = _suggest_one(trial, name, param)
    if space.architecture is not None:
        overrides.update(_suggest_architecture(space.architecture, trial, uniform_width=uniform_width))
    return overrides


def _suggest_one(trial: Trial, name: str, param: ParamSpace) -> Any:
    if param.kind == "categorical":
        labels = [encode_choice(choice) for choice in param.choices]
        return decode_choice(trial.suggest_categorical(name, labels))
    if param.kind == "int":
        return trial.suggest_int(name, int(param.low), int(param.high), step=int(param.step or 1), log=param.log)
    return trial.suggest_float(name, param.low, param.high, step=param.step, log=param.log)


def _suggest_architecture(arch: ArchitectureSpace, trial: Trial, *, uniform_width: bool) -> dict[str, Any]:
    depth = trial.suggest_int("architecture.layers", arch.layers.low, arch.layers.high)
    width = arch.width
    if uniform_width or not arch.per_layer_width:
        shared = trial.suggest_int("architecture.width", width.low, width.high, log=width.log) if depth else 0
        hidden = [shared] * depth
    else:  # conditional: width_3 only exists in trials with three or more layers
        hidden = [trial.suggest_int(f"architecture.width_{i + 1}", width.low, width.high, log=width.log)
                  for i in range(depth)]
    overrides: dict[str, Any] = {"model.hidden": hidden}
    if arch.activation:
        overrides["model.activation"] = trial.suggest_categorical("model.activation", list(arch.activation))
    return overrides


def grid_space(space: SearchSpace) -> dict[str, list[Primitive]]:
    """The grid sampler's table: parameter name → the values it visits (architecture: one width)."""
    table = {name: [encode_choice(value) for value in param.grid()] for name, param in space.params.items()}
    arch = space.architecture
    if arch is not None:
        table["architecture.layers"] = list(range(arch.layers.low, arch.layers.high + 1))
        table["architecture.width"] = arch.width.grid()
        if arch.activation:
            table["model.activation"] = list(arch.activation)
    return table


def grid_size(space: SearchSpace) -> int:
    """How many points the full grid has."""
    return math.prod(len(values) for values in grid_space(space).values())


def encode_choice(value: Any) -> Primitive:
    """Optuna stores only None/bool/int/float/str: a list choice (``[64, 64]``) becomes its JSON text."""
    return value if value is None or isinstance(value, (bool, int, float, str)) else json.dumps(value)


def decode_choice(value: Primitive) -> Any:
    """Undo :func:`encode_choice` (a JSON list or mapping text back to the value)."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def space_to_dict(space: SearchSpace) -> dict[str, Any]:
    """The space as plain data (what a study stores to check a resume uses the same space)."""
    return space.model_dump(mode="json", exclude_none=True)
