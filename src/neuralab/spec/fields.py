"""ExperimentSpec: the one source of truth for an experiment, section by section.

A spec is a pydantic model with a default, a range and a description for every field;
names a field may take are validated against the catalog (:mod:`neuralab.spec.catalog`).

Example:
    >>> ExperimentSpec(train={"epochs": 5}).train.epochs
    5
"""
from __future__ import annotations

import math
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from neuralab.spec.catalog import (ATTENTION_KINDS, DATASETS, FEATURES, FILE_DATASETS, NEEDS_PATH, RECURRENT_KINDS,
                                   SCHEDULES, family, names)
from neuralab.spec.problems import no_dev_split

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


def tidy_float(value: Any) -> Any:
    """A float at 15 significant digits (lists of them too): ``0.1 + 0.2`` is the setting 0.3.

    Float arithmetic (a tuner's ``step: 0.1`` grid, the doctor's ``+ 0.2``) leaves tails like
    0.30000000000000004 that no person meant; every float of a spec is stored without them,
    so the spec that trains is the one ``spec.yaml`` shows.

    Example:
        >>> tidy_float(0.1 + 0.2), tidy_float(1e-3), tidy_float([0.7000000000000001, 2])
        (0.3, 0.001, [0.7, 2])
    """
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.15g}")
    if isinstance(value, list):
        return [tidy_float(item) for item in value]
    return value


class _Strict(BaseModel):
    # NaN and ±inf are never settings: every float field refuses them.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    _tidy = field_validator("*")(lambda cls, value: tidy_float(value))

    @field_validator("*", mode="before")
    @classmethod
    def _no_truth_values_as_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic reads `seed: true` as 1 and `epochs: false` as 0; a number field wants a number.
        holds = isinstance(value, bool) or (isinstance(value, list) and any(isinstance(v, bool) for v in value))
        annotation = cls.model_fields[info.field_name].annotation
        if holds and _mentions(annotation, (int, float)) and not _mentions(annotation, (bool,)):
            raise ValueError("must be a number, not true/false")
        return value


def _mentions(annotation: Any, types: tuple[type, ...]) -> bool:
    """Whether a field's type admits one of ``types`` anywhere (itself, in a union or list, as a literal)."""
    if annotation in types:
        return True
    if get_origin(annotation) is Literal:
        return any(type(arg) in types for arg in get_args(annotation))
    return any(_mentions(arg, types) for arg in get_args(annotation))


class DataSpec(_Strict):
    """Where the data come from, how they are featurised, split and scaled."""

    dataset: str = Field("digits", description="data set name: synthetic 2-D, bundled, csv/parquet, sequence task or text (see `neuralab info datasets`)")
    path: str | None = Field(None, description="file to read when dataset is csv, parquet or text (or sine, instead of generating one)")
    target: str | None = Field(None, description="target column of a csv/parquet file (default: the last column); sine: the column of the series")
    drop: list[str] = Field([], max_length=10_000, description="columns of a csv/parquet file to leave out (ids, free text); text columns not dropped are one-hot encoded")
    task: Literal["auto", "classification", "regression"] = Field("auto", description="auto: from the data set or the target column's values")
    n_samples: int = Field(500, ge=10, le=1_000_000, description="number of points (synthetic 2-D) or sequences (adding, copy, sine); unset: the data set's usual count, TF Playground's 500 points (1,200 for plane and multi_gauss)")
    noise: float = Field(0.0, ge=0.0, le=0.5, description="noise level, TF Playground's meaning (synthetic only)")
    n_classes: int = Field(2, ge=2, le=10, description="classes (spiral arms, gauss blobs) for synthetic classification")
    features: list[str] = Field(["x1", "x2"], min_length=1, max_length=7, description="inputs made from x1, x2 (synthetic only)")
    split: Literal["auto"] | list[float] = Field("auto", description="auto by size (60/20/20 small … 98/1/1 above 1,000,000) or [train, dev, test] fractions; dev 0: no dev split (TF Playground's train/test)")
    split_column: str | None = Field(None, description="csv/parquet: a column naming each row's split (train, dev or test), used instead of data.split")
    standardize: bool = Field(True, description="scale inputs (and regression targets) with train-split statistics")
    augment_noise: float = Field(0.0, ge=0.0, le=1.0, description="std of Gaussian noise added to training inputs each batch (augmentation)")
    sequence_length: int = Field(50, ge=2, le=100_000, description="time steps T per sequence: adding and sine read T values, copy waits T blanks (T + 20 steps), text trains on windows of T characters (truncated back-propagation through time)")
    max_characters: int | None = Field(None, ge=100, le=1_000_000_000, description="text: read only the first N characters of the corpus; null: all")
    tokenizer: str = Field("char", description="text: char (one token per character) or bpe (byte-level BPE trained on the corpus; see `neuralab info tokenizers`)")
    vocab_size: int = Field(512, ge=257, le=65_536, description="text with tokenizer bpe: tokens in the vocabulary (the 256 bytes + merges)")

    _dataset = field_validator("dataset")(lambda cls, v: _choice(v, "datasets"))
    _tokenizer = field_validator("tokenizer")(lambda cls, v: _choice(v, "tokenizers"))

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
        if self.dataset in NEEDS_PATH and not self.path:
            raise ValueError(f"__field__path: dataset {self.dataset!r} needs data.path (the file to read)")
        if self.split_column is not None and self.dataset not in FILE_DATASETS:
            raise ValueError(f"__field__split_column: only a csv or parquet file has columns; "
                             f"remove it for {self.dataset!r}")
        return self


class RecurrentSpec(_Strict):
    """The recurrent kinds' network (rnn, lstm, gru on torch.nn.RNN/LSTM/GRU)."""

    hidden_size: int = Field(64, ge=1, le=4096, description="units of each recurrent layer (per direction)")
    layers: int = Field(1, ge=1, le=16, description="stacked recurrent layers (model.dropout between them)")
    bidirectional: bool = Field(False, description="also read each sequence backwards (tasks with one prediction per sequence)")
    nonlinearity: str = Field("tanh", description="rnn only: the cell's activation, tanh or relu (relu with init auto is the IRNN)")
    forget_bias: float = Field(1.0, ge=-10.0, le=10.0, description="lstm only: initial forget-gate bias (Keras' unit_forget_bias; torch's own default is 0)")
    init: Literal["auto", "orthogonal", "identity", "uniform"] = Field("auto", description="recurrent weights: auto = identity for a relu rnn (IRNN, Le et al. 2015), orthogonal otherwise; uniform = torch's U(±1/√hidden_size); input weights are xavier_uniform")
    embedding_size: int = Field(32, ge=1, le=4096, description="token inputs (text, copy): width of the learned embedding of each token")

    @field_validator("nonlinearity")
    @classmethod
    def _cell_activation(cls, value: str) -> str:
        allowed = family("activations", "rnn", "yes")
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(allowed)} (the activations torch.nn.RNN offers)")
        return value


class TransformerSpec(_Strict):
    """The transformer kind's network: pre-LayerNorm blocks of multi-head self-attention and a GELU MLP."""

    layers: int = Field(4, ge=1, le=48, description="transformer blocks (attention + MLP each)")
    heads: int = Field(4, ge=1, le=64, description="attention heads per block; must divide embed_dim")
    embed_dim: int = Field(128, ge=1, le=4096, description="width of the token embedding and of every block (the MLP is 4× wider)")
    block_size: int | None = Field(None, ge=1, le=100_000, description="context: the most tokens the model reads at once (longer prompts are cropped to the last block_size); null: data.sequence_length")
    positional: Literal["learned", "sinusoidal"] = Field("learned", description="position embedding: learned (GPT-2) or fixed sinusoids (Vaswani et al.)")
    tie_weights: bool = Field(True, description="language models: the output layer shares the token embedding's weights (GPT-2)")

    @model_validator(mode="after")
    def _heads_divide_width(self) -> "TransformerSpec":
        if self.embed_dim % self.heads:
            raise ValueError(f"__field__heads: {self.heads} heads do not divide model.transformer.embed_dim "
                             f"{self.embed_dim}; each head needs embed_dim / heads dimensions (e.g. heads "
                             f"{_divisor_near(self.embed_dim, self.heads)})")
        return self


def _divisor_near(width: int, heads: int) -> int:
    """The divisor of ``width`` closest to ``heads`` (a suggestion in an error line)."""
    return min((d for d in range(1, width + 1) if width % d == 0), key=lambda d: (abs(d - heads), d))


class ModelSpec(_Strict):
    """The network: its kind, layers, neurons, activations, initialisation and normalisation."""

    kind: str = Field("mlp", description="model family (see `neuralab info model_kinds`)")
    hidden: list[int] = Field([128, 128], max_length=64, description="neurons per hidden layer; [] is a linear/logistic model")
    activation: str | list[str] = Field("relu", description="hidden activation, or one per hidden layer (see `neuralab info activations`)")
    output_activation: str = Field("auto", description="auto, linear, sigmoid, softmax, or tanh (TF Playground's, against labels −1/+1; see `neuralab info output_activations`)")
    init: str = Field("he_normal", description="weight initialisation (see `neuralab info inits`)")
    init_std: float = Field(0.05, gt=0.0, le=10.0, description="standard deviation for the normal and uniform inits")
    dropout: float = Field(0.0, ge=0.0, le=0.95, description="probability of dropping a hidden unit while training (recurrent kinds: between layers and before the output layer)")
    batch_norm: bool = Field(False, description="batch normalisation after each hidden linear layer (mlp)")
    recurrent: RecurrentSpec = Field(default_factory=RecurrentSpec, description="rnn, lstm and gru settings")
    transformer: TransformerSpec = Field(default_factory=TransformerSpec, description="transformer settings (model.dropout drops attention weights and residual branches)")

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
        if self.batch_norm and self.kind in RECURRENT_KINDS:
            raise ValueError(f"__field__batch_norm: true applies to mlp; model.kind {self.kind!r} normalises "
                             "nothing between time steps — remove it (model.dropout regularises recurrent kinds)")
        if self.batch_norm and self.kind in ATTENTION_KINDS:
            raise ValueError(f"__field__batch_norm: true applies to mlp; model.kind {self.kind!r} normalises each "
                             "block with LayerNorm already — remove it")
        return self

    @property
    def is_recurrent(self) -> bool:
        """True for the kinds that read sequences step by step (rnn, lstm, gru)."""
        return self.kind in RECURRENT_KINDS

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
    decrease: float = Field(0.5, gt=0.0, le=1.0, description="bold_driver: lr multiplier when the train loss rises (the step of that epoch is kept, unlike Battiti's original, which undoes it)")
    warmup_steps: int = Field(0, ge=0, le=1_000_000, description="warmup_cosine: steps (epochs without train.max_steps) of linear warm-up from 0 before the cosine")

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
    grad_clip: float | Literal["auto"] | None = Field("auto", description="clip the global gradient norm to this value (> 0); auto: the model kind's usual value (off for mlp, 1.0 for rnn, lstm and gru; `neuralab info model_kinds`); null: off")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto picks CUDA when present")
    threads: int | None = Field(None, ge=1, le=256, description="CPU threads; null: chosen by model size")
    checkpoint_every: int | None = Field(None, ge=1, le=100_000, description="write a resumable checkpoint every N epochs; null: every checkpoint_seconds (always also before the first epoch, at the last, and on Ctrl-C/SIGTERM)")
    checkpoint_seconds: float = Field(30.0, gt=0.0, le=86_400.0, description="with checkpoint_every null: seconds of training between checkpoints")
    on_divergence: Literal["stop", "rollback"] = Field("stop", description="on a NaN/inf loss: stop with the last finite weights, or roll back to them and halve the learning rate")
    max_rollbacks: int = Field(3, ge=0, le=100, description="rollback: how many times one run may roll back before it stops")
    train_metrics: Literal["running", "full"] = Field("running", description="per-epoch train loss/error: running (averaged over the epoch's batches, free) or full (re-scored in eval mode after the epoch, ~⅓ more compute)")
    eval_every: int = Field(1, ge=1, le=100_000, description="score the dev split every N epochs (and at the last); between scorings the last dev scores carry forward. With max_steps: every N optimiser steps")
    tensorboard: str | None = Field(None, min_length=1, description="folder for TensorBoard event files, one sub-folder per run (`--tensorboard DIR`); null: off")
    max_steps: int | None = Field(None, ge=1, le=10_000_000, description="train for this many optimiser steps (random batches, as language models train) instead of train.epochs; one metrics row per evaluation")
    eval_batches: int | None = Field(None, ge=1, le=100_000, description="with max_steps: dev batches scored at each evaluation (the same seeded batches every time); null: the whole dev split")
    accumulate: int = Field(1, ge=1, le=1024, description="gradient accumulation: micro-batches of batch_size summed into each optimiser step")
    autocast: Literal["off", "bf16"] = Field("off", description="bf16: forward pass and loss in bfloat16 autocast (torch.autocast; CPU or GPU), weights and optimiser in float32")
    beta2: float | None = Field(None, gt=0.0, lt=1.0, description="adam family: β2 (the squared-gradient average's decay); null: 0.999 (language models often use 0.95–0.99)")

    _loss = field_validator("loss")(lambda cls, v: _choice(v, "losses"))
    _optimizer = field_validator("optimizer")(lambda cls, v: _choice(v, "optimizers"))
    _l1_style = field_validator("l1_style")(lambda cls, v: _choice(v, "l1_styles"))

    @model_validator(mode="after")
    def _floor_below_rate(self) -> "TrainSpec":
        if self.schedule.min_lr > self.learning_rate:
            raise ValueError(f"__field__schedule.min_lr: {self.schedule.min_lr:g} is above train.learning_rate "
                             f"{self.learning_rate:g}; the floor must be at most the initial rate")
        return self

    @field_validator("grad_clip", mode="before")
    @classmethod
    def _clip(cls, value: Any) -> Any:
        if value is None or value == "auto":
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1e6:
            raise ValueError("must be a gradient norm above 0 (at most 1e6), auto (the model kind's usual value) "
                             "or null (off)")
        return float(value)

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

    optimal_error: float | None = Field(None, ge=0.0, le=1.0, description="optimal (human/Bayes) error rate; null: 0 for classification, estimated for regression as the best classical baseline's dev error")
    bias_tolerance: float = Field(0.05, ge=0.0, le=1.0, description="largest avoidable bias (train − optimal error) still called low")
    variance_tolerance: float = Field(0.05, ge=0.0, le=1.0, description="largest variance (dev − train error) still called low; also bounds data mismatch")
    health_every: int = Field(100, ge=0, le=1_000_000, description="optimiser steps between gradient/activation health samples while training; 0 turns recording off")
    learning_curve_fractions: list[float] = Field([0.1, 0.25, 0.5, 1.0], min_length=2, max_length=20, description="fractions of the training split a learning curve trains on (same seed, same dev split)")
    text_samples: int = Field(4, ge=0, le=100, description="language models: epochs (evenly spaced, the last included) whose generated text sample the run keeps for the report; 0: none")

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

