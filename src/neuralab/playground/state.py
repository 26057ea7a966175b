"""The playground's one declared state table, like TensorFlow Playground's ``State``.

Every control of the page is a field of :class:`PlaygroundState`, with its default, its
limits (enforced here, on the server) and how a change acts: ``live`` fields apply to the
running network, the others rebuild it (``data`` fields also reload the data). Values
must have their own type (``true`` is not a learning rate). The page receives this table
(:func:`state_table`) and serialises the state to the URL from it, so a link reproduces
the experiment, seed included; :func:`apply_changes` keeps every valid key of a link and
names the refused ones. :func:`to_spec` turns a state into the neuralab spec the CLI
trains, and :func:`from_spec` goes back.

It opens in the ``classic`` mode (TensorFlow Playground's numbers; see
:mod:`neuralab.playground.modes`), ``mode: modern`` is neuralab's choices.

Example:
    >>> state = PlaygroundState(dataset="spiral", hidden=[8, 8])
    >>> spec = to_spec(state, epochs=10)
    >>> spec.data.dataset, spec.model.hidden, spec.data.split, spec.model.output_activation
    ('spiral', [8, 8], [0.5, 0.0, 0.5], 'tanh')
    >>> to_spec(state.model_copy(update={"mode": "modern"})).data.split
    [0.5, 0.25, 0.25]
    >>> from_spec(spec).hidden, from_spec(spec).mode
    ([8, 8], 'classic')
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from neuralab.data.synthetic import MULTICLASS_DATASETS, REGRESSION_DATASETS as SYNTHETIC_REGRESSION
from neuralab.playground import modes
from neuralab.spec.catalog import DATASETS, FEATURES, MOMENTUM_OPTIMIZERS, SYNTHETIC_DATASETS, names
from neuralab.training.losses import NEEDS_CLASSES
from neuralab.training.optim import momentum_of
from neuralab.spec import MAX_SEED, ExperimentSpec, validate_spec

MAX_LAYERS = 10
MAX_NEURONS = 64
MAX_SAMPLES = 5000
# The playground's data sets are the synthetic 2-D ones, by task (from the catalog), and its own points.
REGRESSION_DATASETS = SYNTHETIC_REGRESSION
CLASSIFICATION_DATASETS = tuple(name for name in SYNTHETIC_DATASETS if name not in SYNTHETIC_REGRESSION)
OWN = "own"  # points clicked or uploaded in the page
LOSSES = names("losses")
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REGULARIZATION_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


def _field(default: Any, *, label: str, act: str, **limits: Any) -> Any:
    """A state field: ``act`` is live (applies now), reset (rebuilds the network),
    data (new data and network) or view (drawing only)."""
    return Field(default, json_schema_extra={"label": label, "act": act}, **limits)


class PlaygroundState(BaseModel):
    """Everything the page shows and the server trains; limits are the server's."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)

    mode: Literal["classic", "modern"] = _field("classic", label="Mode", act="data")
    problem: Literal["classification", "regression"] = _field("classification", label="Problem type", act="data")
    dataset: str = _field("circle", label="Data", act="data")
    n_classes: int = _field(2, label="Classes", act="data", ge=2, le=6)
    noise: float = _field(0.0, label="Noise", act="data", ge=0.0, le=0.5)
    ratio: int = _field(50, label="Ratio of training to test data (%)", act="data", ge=10, le=90)
    n_samples: int = _field(500, label="Points", act="data", ge=50, le=MAX_SAMPLES)
    seed: int = _field(0, label="Seed", act="data", ge=0, le=MAX_SEED)
    features: list[str] = _field(["x1", "x2"], label="Features", act="data", min_length=1, max_length=7)
    hidden: list[int] = _field([4, 2], label="Hidden layers", act="reset", max_length=MAX_LAYERS)
    activations: list[str] = _field(["tanh", "tanh"], label="Activation per layer", act="reset",
                                    max_length=MAX_LAYERS)
    init: str = _field(modes.PRESETS["classic"]["init"], label="Initialisation", act="reset")
    dropout: float = _field(0.0, label="Dropout", act="reset", ge=0.0, le=0.9)
    batch_norm: bool = _field(False, label="Batch norm", act="reset")
    loss: str = _field("auto", label="Loss", act="reset")
    optimizer: str = _field("sgd", label="Optimiser", act="reset")
    momentum: float = _field(0.9, label="Momentum / β1", act="reset", ge=0.0, lt=1.0)
    schedule: str = _field("constant", label="Schedule", act="reset")
    schedule_steps: int = _field(100, label="Schedule length (epochs)", act="reset", ge=1, le=100_000)
    learning_rate: float = _field(0.03, label="Learning rate", act="live", gt=0.0, le=10.0)
    regularization: Literal["none", "l1", "l2"] = _field("none", label="Regularisation", act="live")
    regularization_rate: float = _field(0.0, label="Regularisation rate", act="live", ge=0.0, le=10.0)
    batch_size: int = _field(10, label="Batch size", act="live", ge=1, le=MAX_SAMPLES)
    show_test: bool = _field(False, label="Show test data", act="view")
    discretize: bool = _field(False, label="Discretise output", act="view")

    @field_validator("features")
    @classmethod
    def _features(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in FEATURES]
        if unknown:
            raise ValueError(f"unknown feature {unknown[0]!r}; allowed: {', '.join(FEATURES)}")
        return [name for name in FEATURES if name in value]  # canonical order, no repeats

    @field_validator("hidden")
    @classmethod
    def _widths(cls, value: list[int]) -> list[int]:
        if any(not 1 <= width <= MAX_NEURONS for width in value):
            raise ValueError(f"every layer needs between 1 and {MAX_NEURONS} neurons")
        return value

    @field_validator("activations")
    @classmethod
    def _activations(cls, value: list[str]) -> list[str]:
        return [_one_of(name, "activations") for name in value]

    _init = field_validator("init")(lambda cls, v: _one_of(v, "inits"))
    _optimizer = field_validator("optimizer")(lambda cls, v: _one_of(v, "optimizers"))
    _schedule = field_validator("schedule")(lambda cls, v: _one_of(v, "schedules"))

    @field_validator("dataset")
    @classmethod
    def _dataset(cls, value: str) -> str:
        allowed = (*SYNTHETIC_DATASETS, OWN)
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
        return value

    @field_validator("loss")
    @classmethod
    def _loss(cls, value: str) -> str:
        if value not in LOSSES:
            raise ValueError(f"{value!r} is not one of {', '.join(LOSSES)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "PlaygroundState":
        wanted = (REGRESSION_DATASETS if self.problem == "regression" else CLASSIFICATION_DATASETS) + (OWN,)
        if self.dataset not in wanted:
            raise ValueError(f"dataset {self.dataset!r} is not a {self.problem} data set; use {', '.join(wanted)}")
        if self.n_classes > 2 and self.dataset not in MULTICLASS_DATASETS:
            raise ValueError(f"n_classes {self.n_classes} needs gauss or spiral")
        if self.dataset == OWN and self.features != ["x1", "x2"]:
            raise ValueError("own data use the raw inputs x1, x2; the other features are for the generated sets")
        if len(self.activations) != len(self.hidden):
            raise ValueError(f"activations has {len(self.activations)} entries for {len(self.hidden)} layers")
        if self.problem == "regression" and self.loss in NEEDS_CLASSES:
            raise ValueError(f"loss {self.loss!r} needs classes; use auto, mse, mae or huber for regression")
        return self


def _one_of(value: str, table: str) -> str:
    if value not in names(table):
        raise ValueError(f"{value!r} is not one of {', '.join(names(table))}")
    return value


def state_table() -> list[dict[str, Any]]:
    """The declared table the page builds its URL and controls from: one row per field.

    Example:
        >>> row = next(r for r in state_table() if r["name"] == "learning_rate")
        >>> row["act"], row["default"], row["maximum"]
        ('live', 0.03, 10.0)
    """
    schema = PlaygroundState.model_json_schema()["properties"]
    rows = []
    for name, info in PlaygroundState.model_fields.items():
        prop = schema[name]
        row = {"name": name, "label": prop["label"], "act": prop["act"], "default": info.default,
               "type": _url_type(prop)}
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"):
            if key in prop:
                row[key] = prop[key]
        rows.append(row)
    return rows


def _url_type(prop: dict[str, Any]) -> str:
    kind = prop.get("type", "string")
    if kind == "array":
        return "int_list" if prop["items"].get("type") == "integer" else "string_list"
    return {"integer": "int", "number": "float", "boolean": "bool"}.get(kind, "string")


def choices() -> dict[str, list]:
    """The menus of the page: names from neuralab's catalog plus Playground's value lists."""
    return {
        "activations": list(names("activations")), "inits": list(names("inits")),
        "optimizers": list(names("optimizers")), "schedules": list(names("schedules")),
        "losses": list(LOSSES), "features": list(FEATURES),
        "classification": [*CLASSIFICATION_DATASETS, OWN], "regression": [*REGRESSION_DATASETS, OWN],
        "multiclass": list(MULTICLASS_DATASETS), "learning_rates": list(LEARNING_RATES),
        "momentum_optimizers": list(MOMENTUM_OPTIMIZERS),
        "regularization_rates": list(REGULARIZATION_RATES),
        "limits": {"layers": MAX_LAYERS, "neurons": MAX_NEURONS, "samples": MAX_SAMPLES},
    }


def to_spec(state: PlaygroundState, *, epochs: int = 1, name: str = "playground",
            own_path: str = "playground-data.csv") -> ExperimentSpec:
    """The neuralab spec that trains this state for ``epochs`` epochs (CPU, one thread).

    The mode's settings (:func:`neuralab.playground.modes.settings`) are ordinary spec fields,
    so the spec carries the mode. Own data (``dataset: own``) become neuralab's ``csv`` data set
    read from ``own_path``, whose ``split`` column places each point.

    The schedule's length is fixed by ``schedule_steps``, so the number of epochs changes
    nothing but where training stops: epoch k of a longer run equals epoch k of this one.
    """
    activation: str | list[str] = state.activations
    if state.activations and len(set(state.activations)) == 1:
        activation = state.activations[0]
    elif not state.activations:
        activation = "relu"
    mode = modes.settings(state.mode, ratio=state.ratio, problem=state.problem, loss=state.loss)
    data = {"dataset": state.dataset, "n_samples": state.n_samples, "noise": state.noise,
            "n_classes": state.n_classes if state.dataset in MULTICLASS_DATASETS else 2,
            "features": list(state.features), **mode["data"]}
    if state.dataset == OWN:  # the file says which point is in which split
        data = {"dataset": "csv", "path": own_path, "target": "label", "task": state.problem, "split_column": "split",
                "standardize": mode["data"]["standardize"]}
    return validate_spec({
        "name": f"{name}-{state.mode}", "seed": state.seed, "data": data,
        "model": {"hidden": list(state.hidden), "activation": activation, "init": state.init,
                  "dropout": state.dropout, "batch_norm": state.batch_norm, **mode["model"]},
        "train": {"optimizer": state.optimizer, "learning_rate": state.learning_rate,
                  "momentum": state.momentum, "batch_size": state.batch_size, "epochs": max(1, epochs),
                  "schedule": {"name": state.schedule, "steps": state.schedule_steps},
                  **modes.regularization(state.mode, kind=state.regularization, rate=state.regularization_rate),
                  "device": "cpu", "threads": 1, **mode["train"]},
    })


def split_fractions(state: PlaygroundState) -> list[float]:
    """[train, dev, test] fractions of the ratio control in the state's mode (classic: no dev split).

    Example:
        >>> split_fractions(PlaygroundState(ratio=70)), split_fractions(PlaygroundState(ratio=70, mode="modern"))
        ([0.7, 0.0, 0.3], [0.7, 0.15, 0.15])
    """
    return modes.split_fractions(state.mode, state.ratio)


def from_spec(spec: ExperimentSpec) -> PlaygroundState:
    """The playground state of a spec (raises ValueError for what the playground cannot show)."""
    data, model, train = spec.data, spec.model, spec.train
    if data.dataset not in CLASSIFICATION_DATASETS + REGRESSION_DATASETS:
        raise ValueError(f"data.dataset {data.dataset!r}: the playground draws the 2-D synthetic sets only")
    split = data.split if data.split != "auto" else [0.6, 0.2, 0.2]
    regularization = "l1" if train.l1 > 0 else "l2" if train.l2 > 0 else "none"
    mode = modes.mode_of(spec)
    return PlaygroundState(
        mode=mode, problem="regression" if data.dataset in REGRESSION_DATASETS else "classification",
        dataset=data.dataset, n_classes=data.n_classes if data.dataset in MULTICLASS_DATASETS else 2,
        noise=data.noise, ratio=min(90, max(10, round(split[0] * 100))), n_samples=data.n_samples,
        seed=spec.seed, features=list(data.features), hidden=list(model.hidden),
        activations=model.layer_activations(), init=model.init, dropout=min(model.dropout, 0.9),
        batch_norm=model.batch_norm, loss=modes.page_loss(spec, mode),
        optimizer=train.optimizer, momentum=momentum_of(train), schedule=train.schedule.name,
        schedule_steps=train.schedule.steps or train.epochs, learning_rate=train.learning_rate,
        regularization=regularization, regularization_rate=modes.page_rate(spec, mode),
        batch_size=train.batch_size if isinstance(train.batch_size, int) else data.n_samples,
    )


def apply_changes(state: PlaygroundState, changes: dict[str, Any], *,
                  link: bool = False) -> tuple[PlaygroundState, dict[str, str]]:
    """The state after ``changes`` (and what they imply) and the refused keys with why.

    A page's change is applied whole or refused whole (``ValidationError``). A link's keys
    (``link=True``) are applied one by one in the table's order, so every valid key is kept
    and each refused one is named.

    Example:
        >>> state, refused = apply_changes(PlaygroundState(), {"noise": 7, "hidden": [3]}, link=True)
        >>> state.hidden, state.noise, list(refused)
        ([3], 0.0, ['noise'])
    """
    current = state.model_dump()
    try:
        return _merged(current, changes), {}
    except ValidationError:
        if not link:
            raise
    refused = {name: "not a setting of the playground" for name in changes if name not in PlaygroundState.model_fields}
    for name in (name for name in PlaygroundState.model_fields if name in changes):
        try:
            current = _merged(current, {name: changes[name]}).model_dump()
        except ValidationError as error:
            refused[name] = "; ".join(dict.fromkeys(item["msg"].removeprefix("Value error, ") for item in error.errors()))
    return PlaygroundState.model_validate(current), refused


def _merged(current: dict[str, Any], changes: dict[str, Any]) -> PlaygroundState:
    return PlaygroundState.model_validate({**current, **complete_changes(current, changes)})


def complete_changes(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Fill in what a change implies: a problem's default set, one activation per layer, …"""
    changes = dict(changes)
    if isinstance(changes.get("mode"), str) and changes["mode"] in modes.PRESETS and changes["mode"] != current["mode"]:
        for name, value in modes.PRESETS[changes["mode"]].items():
            changes.setdefault(name, value)
    if isinstance(changes.get("problem"), str) and changes["problem"] != current["problem"]:
        regression = changes["problem"] == "regression"
        changes.setdefault("dataset", "plane" if regression else "circle")
        dataset = changes["dataset"]
        if isinstance(dataset, str) and "points" in getattr(DATASETS.get(dataset), "properties", {}):
            changes.setdefault("n_samples", int(DATASETS[dataset].properties["points"]))  # TFP's 500 / 1,200
        if regression and changes.get("loss", current["loss"]) in NEEDS_CLASSES:
            changes.setdefault("loss", "auto")
    dataset = changes.get("dataset", current["dataset"])
    if dataset == OWN:
        changes["features"] = ["x1", "x2"]
    if dataset not in MULTICLASS_DATASETS:
        changes.setdefault("n_classes", 2)
    hidden = changes.get("hidden", current["hidden"])
    if isinstance(hidden, list) and "activations" not in changes:
        activations = list(current["activations"]) or ["tanh"]
        fill = activations[-1]
        changes["activations"] = (activations + [fill] * len(hidden))[:len(hidden)]
    return changes
