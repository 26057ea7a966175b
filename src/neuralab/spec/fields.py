"""ExperimentSpec: the one source of truth for an experiment, section by section.

A spec is a pydantic model with a default, a range and a description for every field;
names a field may take are validated against the catalog (:mod:`neuralab.spec.catalog`).

Example:
    >>> ExperimentSpec(train={"epochs": 5}).train.epochs
    5
"""
from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from neuralab.spec.catalog import DATASETS, FEATURES, FILE_DATASETS, SCHEDULES, names

MAX_SEED = 2**32 - 1
# A lab network, not a foundation model: 50 M parameters are 200 MB of float32 weights, about
# 800 MB with gradients and Adam's moments. Larger requests are refused before any allocation.
MAX_PARAMETERS = 50_000_000
MAX_SPEC_BYTES = 1_000_000  # a spec is a page of settings; a bigger file is a mistake
MAX_LEARNING_RATE = 10.0  # no schedule, rollback or live change may take a rate above this


def _choice(value: Any, table: str) -> Any:
    """Validate that ``value`` names an entry of the catalog ``table``."""
    allowed = names(table)
    if value not in allowed:
        raise ValueError(f"__choice__{table}")
    return value


class _Strict(BaseModel):
    # NaN and ±inf are never settings: every float field refuses them.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class DataSpec(_Strict):
    """Where the data come from, how they are featurised, split and scaled."""

    dataset: str = Field("digits", description="data set name: synthetic 2-D, bundled, or csv/parquet (see `neuralab info datasets`)")
    path: str | None = Field(None, description="file to read when dataset is csv or parquet")
    target: str | None = Field(None, description="target column of a csv/parquet file (default: the last column)")
    task: Literal["auto", "classification", "regression"] = Field("auto", description="auto: from the data set or the target column's values")
    n_samples: int = Field(500, ge=10, le=1_000_000, description="number of points (synthetic only); unset: the data set's usual count, TF Playground's 500 (1,200 for plane and multi_gauss)")
    noise: float = Field(0.0, ge=0.0, le=0.5, description="noise level, TF Playground's meaning (synthetic only)")
    n_classes: int = Field(2, ge=2, le=10, description="classes (spiral arms, gauss blobs) for synthetic classification")
    features: list[str] = Field(["x1", "x2"], min_length=1, max_length=7, description="inputs made from x1, x2 (synthetic only)")
    split: Literal["auto"] | list[float] = Field("auto", description="auto by size (60/20/20 small … 98/1/1 above 1,000,000) or [train, dev, test] fractions; dev 0: no dev split (TF Playground's train/test)")
    split_column: str | None = Field(None, description="csv/parquet: a column naming each row's split (train, dev or test), used instead of data.split")
    standardize: bool = Field(True, description="scale inputs (and regression targets) with train-split statistics")
    augment_noise: float = Field(0.0, ge=0.0, le=1.0, description="std of Gaussian noise added to training inputs each batch (augmentation)")

    _dataset = field_validator("dataset")(lambda cls, v: _choice(v, "datasets"))

    @model_validator(mode="before")
    @classmethod
    def _usual_points(cls, value: Any) -> Any:
        # an unset n_samples is the data set's usual count (the catalog's "points")
        if isinstance(value, dict) and "n_samples" not in value:
            name = value.get("dataset", cls.model_fields["dataset"].default)
            entry = DATASETS.get(name) if isinstance(name, str) else None
            if entry is not None and "points" in entry.properties:
                value = {**value, "n_samples": int(entry.properties["points"])}
        return value

    @field_validator("features")
    @classmethod
    def _known_features(cls, value: list[str]) -> list[str]:
        for feature in value:
            if feature not in FEATURES:
                raise ValueError("__choice__features")
        if len(set(value)) != len(value):
            raise ValueError("has a feature twice")
        return value

    @field_validator("split")
    @classmethod
    def _fractions(cls, value: Any) -> Any:
        if value == "auto":
            return value
        if len(value) != 3 or any(not 0 <= f < 1 for f in value) or not (value[0] > 0 and value[2] > 0):
            raise ValueError("must be 'auto' or three fractions [train, dev, test] below 1: train and test "
                             "above 0, dev 0 (no dev split) or above")
        if not math.isclose(sum(value), 1.0, abs_tol=1e-6):
            raise ValueError(f"must sum to 1 (sums to {sum(value):g})")
        return value

    @model_validator(mode="after")
    def _file_needs_path(self) -> "DataSpec":
        if self.dataset in FILE_DATASETS and not self.path:
            raise ValueError(f"__field__path: dataset {self.dataset!r} needs data.path (the file to read)")
        if self.split_column is not None and self.dataset not in FILE_DATASETS:
            raise ValueError(f"__field__split_column: only a csv or parquet file has columns; "
                             f"remove it for {self.dataset!r}")
        return self


class ModelSpec(_Strict):
    """The network: its kind, layers, neurons, activations, initialisation and normalisation."""

    kind: str = Field("mlp", description="model family (see `neuralab info model_kinds`)")
    hidden: list[int] = Field([128, 128], max_length=64, description="neurons per hidden layer; [] is a linear/logistic model")
    activation: str | list[str] = Field("relu", description="hidden activation, or one per hidden layer (see `neuralab info activations`)")
    output_activation: str = Field("auto", description="auto, linear, sigmoid, softmax, or tanh (TF Playground's, against labels −1/+1; see `neuralab info output_activations`)")
    init: str = Field("he_normal", description="weight initialisation (see `neuralab info inits`)")
    init_std: float = Field(0.05, gt=0.0, le=10.0, description="standard deviation for the normal and uniform inits")
    dropout: float = Field(0.0, ge=0.0, le=0.95, description="probability of dropping a hidden unit while training")
    batch_norm: bool = Field(False, description="batch normalisation after each hidden linear layer")

    _kind = field_validator("kind")(lambda cls, v: _choice(v, "model_kinds"))
    _output = field_validator("output_activation")(lambda cls, v: _choice(v, "output_activations"))
    _init = field_validator("init")(lambda cls, v: _choice(v, "inits"))

    @field_validator("hidden")
    @classmethod
    def _widths(cls, value: list[int]) -> list[int]:
        if any(not 1 <= width <= 4096 for width in value):
            raise ValueError("every layer needs between 1 and 4096 neurons")
        between = sum(a * b + b for a, b in zip(value, value[1:]))  # weights and biases between hidden layers
        if between > MAX_PARAMETERS:
            raise ValueError(f"gives {between:,} parameters between the hidden layers alone; the limit is "
                             f"{MAX_PARAMETERS:,} — use fewer or narrower layers")
        return value

    @field_validator("activation")
    @classmethod
    def _activations(cls, value: str | list[str]) -> str | list[str]:
        for name in [value] if isinstance(value, str) else value:
            _choice(name, "activations")
        return value

    @model_validator(mode="after")
    def _one_activation_per_layer(self) -> "ModelSpec":
        if isinstance(self.activation, list) and len(self.activation) != len(self.hidden):
            raise ValueError(f"__field__activation: has {len(self.activation)} entries but model.hidden has "
                             f"{len(self.hidden)} layers; give one name or one per layer")
        return self

    def layer_activations(self) -> list[str]:
        """Return the activation name of each hidden layer."""
        if isinstance(self.activation, str):
            return [self.activation] * len(self.hidden)
        return list(self.activation)


class ScheduleSpec(_Strict):
    """Learning-rate schedule; time ``t`` counts epochs."""

    name: str = Field("constant", description="schedule name (see `neuralab info schedules`)")
    steps: int | None = Field(None, ge=1, le=1_000_000, description="epochs of decay (linear, cosine) or warm-up (warmup); cosine default: train.epochs")
    end_factor: float = Field(0.01, ge=0.0, le=1.0, description="linear: final lr = end_factor · learning_rate")
    start_factor: float = Field(0.1, gt=0.0, le=1.0, description="warmup: first lr = start_factor · learning_rate")
    step_size: int = Field(10, ge=1, le=1_000_000, description="step: epochs between drops")
    gamma: float | None = Field(None, gt=0.0, le=1.0, description="step/exponential: factor per drop (default 0.5 for step, 0.95 for exponential)")
    decay: float = Field(0.1, ge=0.0, le=1000.0, description="time_based: k in lr0 / (1 + k·t)")
    patience: int = Field(5, ge=1, le=10_000, description="plateau: epochs without dev improvement before a cut (as early stopping's patience)")
    factor: float = Field(0.5, gt=0.0, lt=1.0, description="plateau: lr multiplier at a cut")
    min_lr: float = Field(0.0, ge=0.0, description="lower bound of the learning rate (cosine, plateau, bold_driver); at most train.learning_rate")
    increase: float = Field(1.05, ge=1.0, le=10.0, description="bold_driver: lr multiplier while the train loss falls")
    decrease: float = Field(0.5, gt=0.0, le=1.0, description="bold_driver: lr multiplier when the train loss rises")

    _name = field_validator("name")(lambda cls, v: _choice(v, "schedules"))

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class EarlyStoppingSpec(_Strict):
    """Stop when the monitored dev metric stops improving."""

    patience: int | None = Field(None, ge=1, le=100_000, description="epochs without improvement before stopping; null turns it off")
    min_delta: float = Field(0.0, ge=0.0, description="smallest change that counts as an improvement")
    restore_best: bool = Field(True, description="put back the weights of the best epoch at the end (summary.kept_epoch says whose weights the model holds)")
    monitor: Literal["dev_loss", "dev_error"] = Field("dev_loss", description="metric watched")


class TrainSpec(_Strict):
    """How the network is fitted: loss, optimiser, schedule, batches, regularisation."""

    loss: str = Field("auto", description="loss function (see `neuralab info losses`)")
    optimizer: str = Field("adam", description="optimiser from torch.optim (see `neuralab info optimizers`)")
    learning_rate: float = Field(0.001, gt=0.0, le=MAX_LEARNING_RATE, description="initial learning rate α")
    momentum: float | None = Field(None, ge=0.0, lt=1.0, description="momentum (momentum, nesterov, rmsprop) or β1 (adam family); null: the optimiser's usual value (0.9; 0 for rmsprop)")
    batch_size: int | Literal["full"] = Field(64, description='"full" = batch GD, 1 = stochastic GD, N = mini-batch')
    shuffle: Literal["every_epoch", "once"] = Field("every_epoch", description="order of the training rows: shuffled anew every epoch, or once (the split's seeded order, the same every epoch, as TF Playground)")
    epochs: int = Field(50, ge=1, le=100_000, description="passes over the training split")
    schedule: ScheduleSpec = Field(default_factory=ScheduleSpec, description="learning-rate schedule")
    l1: float = Field(0.0, ge=0.0, le=10.0, description="L1 penalty: l1 · Σ|w| added to the training objective (weights, not biases); reported losses leave it out")
    l1_style: str = Field("penalty", description="how train.l1 acts (see `neuralab info l1_styles`): penalty, or TF Playground's step that sets a weight crossing zero to 0 for good")
    l2: float = Field(0.0, ge=0.0, le=10.0, description="L2 penalty: l2 · Σw² added to the training objective (weights, not biases; AdamW: decoupled decay l2); reported losses leave it out; TF Playground's rate r is l2 = r/2")
    early_stopping: EarlyStoppingSpec = Field(default_factory=EarlyStoppingSpec, description="early stopping")
    grad_clip: float | None = Field(None, gt=0.0, description="clip the global gradient norm to this value; null: off")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto picks CUDA when present")
    threads: int | None = Field(None, ge=1, le=256, description="CPU threads; null: chosen by model size")
    checkpoint_every: int | None = Field(None, ge=1, le=100_000, description="write a resumable checkpoint every N epochs; null: every checkpoint_seconds (always also before the first epoch, at the last, and on Ctrl-C/SIGTERM)")
    checkpoint_seconds: float = Field(30.0, gt=0.0, le=86_400.0, description="with checkpoint_every null: seconds of training between checkpoints")
    on_divergence: Literal["stop", "rollback"] = Field("stop", description="on a NaN/inf loss: stop with the last finite weights, or roll back to them and halve the learning rate")
    max_rollbacks: int = Field(3, ge=0, le=100, description="rollback: how many times one run may roll back before it stops")
    train_metrics: Literal["running", "full"] = Field("running", description="per-epoch train loss/error: running (averaged over the epoch's batches, free) or full (re-scored in eval mode after the epoch, ~⅓ more compute)")
    eval_every: int = Field(1, ge=1, le=100_000, description="score the dev split every N epochs (and at the last); between scorings the last dev scores carry forward")
    tensorboard: str | None = Field(None, min_length=1, description="folder for TensorBoard event files, one sub-folder per run (`--tensorboard DIR`); null: off")

    _loss = field_validator("loss")(lambda cls, v: _choice(v, "losses"))
    _optimizer = field_validator("optimizer")(lambda cls, v: _choice(v, "optimizers"))
    _l1_style = field_validator("l1_style")(lambda cls, v: _choice(v, "l1_styles"))

    @model_validator(mode="after")
    def _floor_below_rate(self) -> "TrainSpec":
        if self.schedule.min_lr > self.learning_rate:
            raise ValueError(f"__field__schedule.min_lr: {self.schedule.min_lr:g} is above train.learning_rate "
                             f"{self.learning_rate:g}; the floor must be at most the initial rate")
        return self

    @field_validator("batch_size", mode="before")
    @classmethod
    def _batch(cls, value: Any) -> Any:
        if value == "full":
            return value
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000_000:
            raise ValueError('must be "full" (batch GD) or a whole number from 1 (SGD) to 10000000')
        return value


class DiagnoseSpec(_Strict):
    """Settings of the diagnosis: bias/variance against an optimal error, health recording, learning curves."""

    optimal_error: float = Field(0.0, ge=0.0, le=1.0, description="optimal (human/Bayes) error rate")
    bias_tolerance: float = Field(0.05, ge=0.0, le=1.0, description="largest avoidable bias (train − optimal error) still called low")
    variance_tolerance: float = Field(0.05, ge=0.0, le=1.0, description="largest variance (dev − train error) still called low; also bounds data mismatch")
    health_every: int = Field(100, ge=0, le=1_000_000, description="optimiser steps between gradient/activation health samples while training; 0 turns recording off")
    learning_curve_fractions: list[float] = Field([0.1, 0.25, 0.5, 1.0], min_length=2, max_length=20, description="fractions of the training split a learning curve trains on (same seed, same dev split)")

    @field_validator("learning_curve_fractions")
    @classmethod
    def _curve_fractions(cls, value: list[float]) -> list[float]:
        if any(not 0 < f <= 1 for f in value) or sorted(set(value)) != list(value):
            raise ValueError("must be increasing fractions, each above 0 and at most 1")
        return value


class ExperimentSpec(_Strict):
    """A whole experiment: data, model, training and diagnosis settings, plus a seed."""

    name: str = Field("experiment", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$",
                      description="experiment name (letters, digits, . _ -); names the run directory")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="seed for data, split, initial weights and batches")
    data: DataSpec = Field(default_factory=DataSpec, description="data set")
    model: ModelSpec = Field(default_factory=ModelSpec, description="network")
    train: TrainSpec = Field(default_factory=TrainSpec, description="training")
    diagnose: DiagnoseSpec = Field(default_factory=DiagnoseSpec, description="diagnosis")

    def dev_users(self) -> list[str]:
        """The settings that read the dev split (each as 'field: why'); they need one."""
        train = self.train
        users = []
        if train.early_stopping.patience is not None:
            users.append(f"train.early_stopping.patience: {train.early_stopping.patience} — early stopping watches "
                         f"{train.early_stopping.monitor}")
        watches = SCHEDULES[train.schedule.name].properties.get("watches", "")
        if watches.startswith("dev_"):
            users.append(f"train.schedule.name: {train.schedule.name!r} — the schedule watches {watches}")
        return users

    @model_validator(mode="after")
    def _dev_split_for_its_users(self) -> "ExperimentSpec":
        if isinstance(self.data.split, list) and self.data.split[1] == 0:
            for user in self.dev_users():
                raise ValueError(f"__field__{no_dev_split(user, f'data.split {self.data.split} has no dev split')}")
        return self


def no_dev_split(user: str, why: str, *, remedy: str = "or turn the setting off") -> str:
    """The error line of a setting (or a command) that reads the dev split when there is none.

    Example:
        >>> no_dev_split("tune: trials are scored on the dev split", "the data have no dev rows", remedy="and tune again")
        'tune: trials are scored on the dev split, and the data have no dev rows; give data.split a dev fraction and tune again'
    """
    return f"{user}, and {why}; give data.split a dev fraction {remedy}"
