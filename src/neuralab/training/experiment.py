"""One experiment, assembled in one place: data, head, model, optimiser, learning rate, random streams.

Every front end — ``neuralab.train``, tuning trials, learning curves, the learning-rate
finder, the playground, the doctor, scikit-learn estimators — builds an
:class:`Experiment` from a spec and asks it to ``fit``, ``run_epoch`` or ``score``; none
assembles these parts by hand, so a spec gives the same network (same seed, same initial
weights, same batches) whichever front end trains it.

Its random streams (:data:`neuralab.training.rules.STREAM_OFFSETS`) are its own: initial
weights from the seed, batches and augmentation noise from the batches stream, dropout
masks from torch's global generator, which the experiment swaps in while it trains and
out when it stops, so experiments trained in turns in one process (playground tabs, the
doctor's rounds) do not disturb each other.

Given a process group (:func:`neuralab.training.distributed.launched_group`), the
experiment is one of several processes training the same model data-parallel: its model
is wrapped in DistributedDataParallel (``state.parallel``) and the one training loop
takes this process's rows of every batch; everything else — spec, data, initial weights,
batch order — is the same on every process.

Example:
    >>> import neuralab
    >>> spec = neuralab.load_spec({"data": {"dataset": "xor", "n_samples": 100}, "model": {"hidden": [4]},
    ...                            "train": {"epochs": 2}})
    >>> experiment = Experiment.from_spec(spec)
    >>> experiment.head.loss, experiment.n_parameters, experiment.threads
    ('bce', 17, 1)
    >>> state = experiment.fit()
    >>> sorted(experiment.score(["dev"])["dev"])
    ['error', 'loss']
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn

from neuralab.data import DataBundle, data_kind, load_data
from neuralab.errors import SpecError
from neuralab.models import ModelShape, build_model, kind_of, kinds_for
from neuralab.spec import ExperimentSpec
from neuralab.spec.problems import no_dev_split
from neuralab.training import rules
from neuralab.training.callbacks import default_callbacks
from neuralab.training.callbacks.health_recorder import HealthRecorder
from neuralab.training.callbacks.text_samples import TextSamples, sample_epochs
from neuralab.training.distributed import DataParallel, ProcessGroup, prepare_model, refusals, separate_dropout
from neuralab.training.evaluate import evaluate_split
from neuralab.training.events import Callback, CallbackList, TrainingState
from neuralab.training.hardware import choose_device, choose_threads, torch_threads
from neuralab.training.loop import run_epoch
from neuralab.training.losses import Head, make_head
from neuralab.training.optim import build_optimizer
from neuralab.training.rate import LearningRate

SPLITS = ("train", "dev", "test")
# Torch's global generator is process-wide: one experiment trains with it at a time.
_GLOBAL_RNG = threading.RLock()


class Experiment:
    """Everything one training run needs, built from a spec (see :meth:`from_spec`).

    Attributes:
        spec: the experiment's spec.
        bundle: its data (split, preprocessed).
        head: task, output activation, loss.
        model: the network, on ``device``.
        device, threads: where it trains and with how many CPU threads.
        splits: ``{"train"|"dev"|"test": (inputs, targets)}`` tensors on ``device``.
        state: the :class:`TrainingState` (optimiser, learning rate, progress, history).
        health: the health recorder of the last fit (None when recording was off).
    """

    def __init__(self, *, spec: ExperimentSpec, bundle: DataBundle, head: Head, model: nn.Module,
                 device: torch.device, threads: int, global_rng: Tensor, group: ProcessGroup | None = None):
        self.spec, self.bundle, self.head, self.model = spec, bundle, head, model
        self.device, self.threads, self.group = device, threads, group
        self.splits = SplitTensors(bundle, device)
        self.state = TrainingState(model=model, optimizer=build_optimizer(model, spec.train, device=device.type),
                                   rate=LearningRate(spec.train), spec=spec,
                                   generator=rules.batches_generator(spec.seed, device), head=head,
                                   parallel=DataParallel(model, group) if group is not None else None)
        self.health: HealthRecorder | None = None
        self.text_samples: TextSamples | None = None  # language models: generated text at a few epochs
        self._health_record: dict[str, Any] | None = None  # set when another engine recorded it
        self._global_rng = global_rng  # torch's global generator state while this experiment is out
        self._events: CallbackList | None = None

    # ------------------------------------------------------------------ building

    @classmethod
    def from_spec(cls, spec: ExperimentSpec, *, bundle: DataBundle | None = None,
                  device: torch.device | str | None = None, group: ProcessGroup | None = None) -> "Experiment":
        """Build data (unless given), head, model (seeded), optimiser, learning rate and streams.

        Args:
            spec: the experiment.
            bundle: its data already loaded (a cache, a learning-curve subset, arrays); default:
                ``load_data(spec.data, seed=spec.seed)``.
            device: overrides ``spec.train.device``.
            group: the processes training this model together (data-parallel); None: this one alone.

        Raises:
            SpecError, DataError: the spec or data cannot make this experiment (one line each).
        """
        if group is not None and refusals(spec, group):
            raise SpecError(refusals(spec, group))
        kind = kind_of(spec.model)
        given = bundle.kind if bundle is not None else data_kind(spec.data.dataset)
        if given not in kind.data_kinds:  # before the data are loaded: a mismatch costs nothing
            fitting = kinds_for(given)
            raise SpecError(f"model.kind: {spec.model.kind!r} learns from {' or '.join(kind.data_kinds)} data, but "
                            f"data.dataset {spec.data.dataset!r} is {given} data"
                            + (f" — use model.kind {' or '.join(fitting)} (see `neuralab info model_kinds`)"
                               if fitting else ""))
        bundle = bundle if bundle is not None else load_data(spec.data, seed=spec.seed)
        if bundle.n_dev == 0 and spec.dev_users():  # e.g. a split column that names no dev row
            raise SpecError([no_dev_split(user, f"the data of {spec.data.dataset!r} have no dev rows")
                             for user in spec.dev_users()])
        head = make_head(task=bundle.task, n_classes=max(len(bundle.classes), 2),
                         output_activation=spec.model.output_activation, loss=spec.train.loss)
        where = torch.device(device) if device is not None else \
            group.device if group is not None else choose_device(spec.train.device)
        with _GLOBAL_RNG:
            saved = torch.get_rng_state()
            torch.manual_seed(rules.stream_seed(spec.seed, "weights"))  # initial weights depend on the seed alone
            model = build_model(spec.model, model_shape(bundle, head)).to(where)
            separate_dropout(spec.seed, group, step=0)
            global_rng = torch.get_rng_state()  # dropout continues from here
            torch.set_rng_state(saved)
        if group is not None:
            model = prepare_model(model, group)
        n_parameters = sum(p.numel() for p in model.parameters())
        threads = choose_threads(requested=spec.train.threads, n_parameters=n_parameters,
                                 threads_from=kind.threads_from)
        return cls(spec=spec, bundle=bundle, head=head, model=model, device=where, threads=threads,
                   global_rng=global_rng, group=group)

    @property
    def done(self) -> bool:
        """True when every epoch (step-based: every optimiser step) of the spec has been trained."""
        return rules.finished(self.spec.train, periods_done=len(self.state.history), steps_done=self.state.step)

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @property
    def target_scale(self) -> float:
        return self.bundle.target_scale

    @property
    def health_record(self) -> dict[str, Any] | None:
        """The gradient/activation health record of the last training (None when none was kept)."""
        if self._health_record is not None:
            return self._health_record
        return self.health.records() if self.health is not None and self.health.record is not None else None

    @property
    def samples(self) -> list[dict[str, Any]]:
        """Text generated at a few epochs (language models; ``diagnose.text_samples``), else []."""
        return list(self.text_samples.samples) if self.text_samples is not None else []

    @health_record.setter
    def health_record(self, record: dict[str, Any] | None) -> None:
        self._health_record = record

    def use_data(self, bundle: DataBundle) -> None:
        """Train on other data of the same shape from now on (the playground's Regenerate, own points)."""
        if bundle.n_features != self.bundle.n_features or bundle.task != self.bundle.task:
            raise ValueError("use_data: the new data must have the same inputs and task as the network")
        self.bundle, self.splits = bundle, SplitTensors(bundle, self.device)

    # ------------------------------------------------------------------ training

    def fit(self, callbacks: Iterable[Callback] = (), *, record_health: bool | None = None) -> TrainingState:
        """Train until ``spec.train.epochs`` epochs (or ``train.max_steps`` steps) are done, training stops, or a signal arrives.

        Args:
            callbacks: extra callbacks (progress, checkpoints, TensorBoard…), fired after the
                built-in ones (divergence guard, learning rate, early stopping) and the health
                recorder; a checkpointing callback should come last.
            record_health: record gradient/activation health (default: when
                ``spec.diagnose.health_every`` > 0).

        Returns:
            The final :class:`TrainingState` (``history``, ``stop_reason``, ``kept_epoch``…).
        """
        with self.training():
            self.begin(callbacks, record_health=record_health)
            while not self.done and not (self.state.stop_training or self.state.interrupted):
                if not self.run_epoch():
                    break
            self.end()
        return self.state

    @contextmanager
    def training(self) -> Iterator[None]:
        """While active: this experiment's CPU threads, and its own state of torch's global generator."""
        with _GLOBAL_RNG, torch_threads(self.threads):
            outside = torch.get_rng_state()
            torch.set_rng_state(self._global_rng)
            try:
                yield
            finally:
                self._global_rng = torch.get_rng_state()
                torch.set_rng_state(outside)

    def begin(self, callbacks: Iterable[Callback] = (), *, record_health: bool | None = None) -> None:
        """Set up the callbacks and fire ``fit_start`` (``fit`` does this; the playground calls it itself)."""
        every = self.spec.diagnose.health_every
        record = every > 0 if record_health is None else record_health
        interval = rules.health_interval(self.spec, self.bundle.n_train)
        self.state.health_every = interval if every > 0 else 0
        self.health = HealthRecorder(every=interval, probe_every=rules.probe_interval(self.spec, self.bundle.n_train)) \
            if record else None
        count = self.spec.diagnose.text_samples if self.bundle.kind == "text" else 0
        self.text_samples = TextSamples(self.bundle.preprocessor,
                                        epochs=sample_epochs(rules.periods(self.spec.train), count),
                                        seed=self.spec.seed) if count else None
        extra = list(callbacks) + ([self.text_samples] if self.text_samples else [])
        keepers = [cb for cb in extra if getattr(cb, "runs_last", False)]  # checkpoints see every other callback's work
        ordered = [*default_callbacks(self.spec), *(cb for cb in extra if cb not in keepers),
                   *([self.health] if self.health else []), *keepers]
        self._events = CallbackList(ordered)
        self.state.callbacks = self._events.callbacks
        self._events.fire("fit_start", self.state)

    def run_epoch(self) -> bool:
        """Train one more epoch (call inside :meth:`training` after :meth:`begin`); False when training must stop."""
        if self._events is None:
            raise RuntimeError("Experiment.run_epoch: call begin() first (or use fit())")
        self.state.epoch = len(self.state.history) + 1  # 1-based, as metrics["epoch"]
        return run_epoch(self.state, self.head, train=self.splits["train"], dev=self.splits["dev"],
                         events=self._events, target_scale=self.target_scale)

    def end(self) -> None:
        """Fire ``fit_end`` and note whose weights the model holds."""
        self._events.fire("fit_end", self.state)
        if self.state.kept_epoch is None and not self.state.interrupted:
            self.state.kept_epoch = len(self.state.history) or None

    # ------------------------------------------------------------------ scoring

    def score(self, splits: Sequence[str] = SPLITS) -> dict[str, dict[str, float]]:
        """Loss and error (+ RMSE and R² for regression) of the current weights on each split that has rows
        (without a dev split, ``score()`` has train and test only).

        Each split is scored whole, but the train split of a step-based run with ``train.eval_batches``
        (see :meth:`_scored`)."""
        with torch_threads(self.threads):
            return {name: evaluate_split(self.model, self.head, *self._scored(name), target_scale=self.target_scale)
                    for name in splits if len(self.splits[name][0])}

    def _scored(self, split: str) -> tuple[Tensor, Tensor]:
        """A split's rows as :meth:`score` reads them: all, but a step-based run's train split is scored
        on the fixed ``train.eval_batches`` batches its evaluations use (a corpus is too long to re-read)."""
        inputs, targets = self.splits[split]
        rows = rules.evaluation_rows(len(inputs), self.spec.train, self.spec.seed, device=inputs.device) \
            if split == "train" else None
        return (inputs, targets) if rows is None else (inputs[rows], targets[rows])

    def final_problem(self, scores: dict[str, dict[str, float]]) -> str:
        """Why the kept weights are not a result ('' when they are): a non-finite score or weight."""
        for split, values in scores.items():
            if len(self.splits[split][0]) and rules.non_finite([values["loss"]]) is not None:  # an empty split has no score
                return (f"diverged: the {split} loss of the kept weights is {values['loss']} "
                        f"(learning rate {self.state.learning_rate:g})")
        if not rules.weights_finite(self.model.parameters()):
            return "diverged: the kept weights are not finite"
        return ""


class SplitTensors(Mapping):
    """``{"train"|"dev"|"test": (inputs, targets)}`` on the device, each made on first use.

    Lazily, so an experiment that never scores the test split (a tuning trial) never reads it.
    """

    def __init__(self, bundle: DataBundle, device: torch.device):
        self.bundle, self.device = bundle, device
        self._made: dict[str, tuple[Tensor, Tensor]] = {}

    def __getitem__(self, name: str) -> tuple[Tensor, Tensor]:
        if name not in self._made:
            if name not in SPLITS:
                raise KeyError(name)
            self._made[name] = (torch.from_numpy(getattr(self.bundle, f"x_{name}")).to(self.device),
                                torch.from_numpy(getattr(self.bundle, f"y_{name}")).to(self.device))
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(SPLITS)

    def __len__(self) -> int:
        return len(SPLITS)


def model_shape(bundle: DataBundle, head: Head) -> ModelShape:
    """What a model builder needs to know of the data and the head."""
    return ModelShape(n_inputs=bundle.n_features, n_outputs=head.n_outputs, vocab_size=bundle.vocab_size,
                      sequence_length=bundle.sequence_length, output_steps=bundle.output_steps)


def cached_data(spec: ExperimentSpec, cache: dict[str, Any] | None) -> DataBundle:
    """The spec's data, from ``cache`` when it holds the same data section and seed (tuning trials)."""
    if cache is None:
        return load_data(spec.data, seed=spec.seed)
    key = f"{spec.data.model_dump_json()}|{spec.seed}"
    if cache.get("key") != key:
        cache.clear()
        cache.update(key=key, bundle=load_data(spec.data, seed=spec.seed))
    return cache["bundle"]


__all__ = ["Experiment", "SPLITS", "cached_data", "model_shape"]
