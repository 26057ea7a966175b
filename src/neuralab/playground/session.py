"""One browser tab's experiment: data, network and training, on neuralab's own engine.

A :class:`Session` builds the :class:`~neuralab.training.experiment.Experiment` of the spec
its state describes (:func:`neuralab.playground.state.to_spec`), as :func:`neuralab.train`
does, and trains it epoch by epoch with the experiment's own ``run_epoch``. So the spec it
exports, trained by ``neuralab train`` for the same number of epochs, ends at the same loss.

Training and drawing are separate: :meth:`Session.train` trains for a time budget (many
epochs of a small network; for a big one it pauses between two batches when the budget
is spent, and the next call goes on from there, as a resumed run does) and
:meth:`Session.frame` draws the network as it is. Every method is thread-safe (the server
calls them from worker threads) and returns the messages to send to the page. Use it as
a context manager (or call :meth:`Session.close`) to remove its own-data folder.

Example:
    >>> with Session() as session:
    ...     frame = session.advance(epochs=2)
    >>> frame["type"], frame["epoch"], frame["train_loss"] > 0
    ('frame', 2, True)
"""
from __future__ import annotations

import logging
import math
import secrets
import shutil
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import torch
from pydantic import ValidationError

from neuralab.data import load_data
from neuralab.errors import NeuralabError
from neuralab.playground import exchange, own_data, pictures
from neuralab.playground.live_health import HEALTH_SECONDS, HealthRecorder, health_every, live_health
from neuralab.playground.messages import MessageError, problems
from neuralab.playground.pacing import PauseForFrame
from neuralab.playground.state import OWN, PlaygroundState, apply_changes, split_fractions, to_spec
from neuralab.training import rules
from neuralab.training.evaluate import evaluate_split
from neuralab.training.experiment import Experiment
from neuralab.training.hardware import torch_threads
from neuralab.training.losses import NEEDS_CLASSES
from neuralab.training.optim import set_weight_decay
from neuralab.training.rate import write_rate

log = logging.getLogger(__name__)

MAX_EPOCHS = 100_000
FRAME_SECONDS = 1 / 30  # advance() without a number of epochs trains this long


class Session:
    """The state of one tab and the experiment it describes."""

    def __init__(self, state: PlaygroundState | None = None):
        self.lock = threading.RLock()
        self.state = state or PlaygroundState()
        self.own: own_data.OwnData | None = None  # own points, kept when another data set is shown
        self._folder: Path | None = None  # own data's CSV; made on first use, removed by close()
        self._cleanup: weakref.finalize | None = None
        self._load_data()
        self._build()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def folder(self) -> Path:
        """The session's own temporary folder (made on first use)."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="neuralab-playground-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._folder, True)  # even if close() is never called
        return self._folder

    def close(self) -> None:
        """Free what the session holds on disk (its own-data folder)."""
        if self._cleanup is not None:
            self._cleanup()
        self._folder = self._cleanup = None

    # ------------------------------------------------------------------ building

    def spec_for(self, *, epochs: int, own_path: str | None = None):
        """The spec of the current state, trained for ``epochs`` epochs."""
        if own_path is None and self.state.dataset == OWN:
            own_path = str(self.folder / own_data.EXPORT_NAME)
        return to_spec(self.state, epochs=epochs, own_path=own_path or own_data.EXPORT_NAME)

    def _load_data(self) -> None:
        if self.state.dataset == OWN:
            if self.own is None:  # own data start from the points shown now, each in its split
                if not hasattr(self, "bundle"):
                    self.bundle = load_data(to_spec(PlaygroundState()).data, seed=0)
                    self.square = pictures.square_of(self.bundle)
                self.own = own_data.from_bundle(self.bundle, self.square)
            own_data.write_csv(self.folder / own_data.EXPORT_NAME, self.own, problem=self.state.problem)
        spec = self.spec_for(epochs=1)
        self.bundle = load_data(spec.data, seed=spec.seed)
        self.square = self.own.square if self.state.dataset == OWN else pictures.square_of(self.bundle)
        self._data_changed()

    def _data_changed(self) -> None:
        low, high = self.square
        raw_grid = pictures.grid_points(low=low, high=high, size=pictures.OUTPUT_SIZE)
        self.grid_inputs = pictures.model_inputs(self.bundle, raw_grid)
        self.feature_pictures = pictures.feature_pictures(raw_grid)
        self.scores = None  # train and test scores of the current weights, when known

    def _build(self) -> None:
        """A fresh network from the state's seed, as ``neuralab.train`` builds it."""
        spec = self.spec = self.spec_for(epochs=MAX_EPOCHS)
        self.experiment = Experiment.from_spec(spec, bundle=self.bundle, device="cpu")
        self.head, self.model, self.training = self.experiment.head, self.experiment.model, self.experiment.state
        rows = self.bundle.n_train  # the loop's own batches: a one-row last batch joins the one before (batch norm)
        self.steps_per_epoch = len(rules.batch_bounds(rows, rules.batch_size_of(spec.train, rows),
                                                      batch_norm=spec.model.batch_norm))
        self.recorder = HealthRecorder(every=health_every(self.steps_per_epoch))  # reads the model only: numbers unchanged
        self.pause = PauseForFrame()
        with self.experiment.training():
            self.experiment.begin([self.recorder, self.pause], record_health=False)
        self.curve: list[list[float]] = []  # [epoch, train_loss, test_loss] per epoch
        self.curve_sent = 0
        self.modified = False  # a live change, an edited weight or a clicked point since the last reset
        self.stopped = ""  # why training cannot go on (divergence)
        self.scores = None
        self.health, self.health_at = [], -math.inf

    # ------------------------------------------------------------------ training

    @property
    def epoch(self) -> int:
        return len(self.training.history)

    @property
    def splits(self):
        """The experiment's split tensors: ``{"train"|"dev"|"test": (inputs, targets)}``."""
        return self.experiment.splits

    def train(self, *, epochs: int | None = None, seconds: float = FRAME_SECONDS) -> None:
        """Train ``epochs`` whole epochs, or, when None, for about ``seconds`` (pausing mid-epoch if need be)."""
        with self.lock:
            deadline = time.perf_counter() + seconds
            self.pause.deadline = deadline if epochs is None else None
            done, steps, started = 0, self.training.step, time.perf_counter()
            with self.experiment.training():
                while not self.stopped and self.epoch < MAX_EPOCHS:
                    done += self._one_epoch()
                    if (done >= epochs) if epochs is not None else time.perf_counter() >= deadline:
                        break
            elapsed = time.perf_counter() - started
            if elapsed > 0.01:  # health sampled as often as the frames read it, not more: a sample costs steps
                self.recorder.sample_every(health_every(self.steps_per_epoch,
                                                        steps_per_second=(self.training.step - steps) / elapsed))

    def advance(self, *, epochs: int | None = None, seconds: float = FRAME_SECONDS) -> dict[str, Any]:
        """Train (as :meth:`train`) and return a frame."""
        self.train(epochs=epochs, seconds=seconds)
        return self.frame()

    def _one_epoch(self) -> int:
        """Run (or go on with) the current epoch; 1 when it finished, 0 when it paused for a frame."""
        going = self.experiment.run_epoch()
        if self.training.diverged:
            self.stopped = self.training.stop_reason or "diverged"
            self.scores = None
            return 0
        if self.training.mid_epoch:  # paused between two batches: the next call goes on from there
            return 0
        test = evaluate_split(self.model, self.head, *self.splits["test"])
        last = self.training.history[-1]
        self.curve.append([self.epoch, last["train_loss"], test["loss"]])
        self.scores = ({"loss": last["train_loss"], "error": last["train_error"]}, test)
        if not going:
            self.stopped = self.training.stop_reason
        return 1

    # ------------------------------------------------------------------ frames

    def frame(self) -> dict[str, Any]:
        """What the page draws now: numbers, curve points not yet sent, pictures, weights, health."""
        # drawn on the experiment's threads, as it trains: a second thread gains little on a frame and,
        # with another process busy, makes it 1.5–2× slower (10 × 64 network, benchmarks/README.md)
        with self.lock, torch_threads(self.experiment.threads):
            if self.scores is None:  # no epoch since the weights or data changed: score them now
                self.scores = (evaluate_split(self.model, self.head, *self.splits["train"]),
                               evaluate_split(self.model, self.head, *self.splits["test"]))
            train, test = self.scores
            curve_from, self.curve_sent = self.curve_sent, len(self.curve)
            classifier = self.head.is_classifier
            return {
                "type": "frame", "epoch": self.epoch, "step": self.training.step,
                "learning_rate": self.training.learning_rate,
                "train_loss": _number(train["loss"]), "test_loss": _number(test["loss"]),
                "train_accuracy": _number(1 - train["error"]) if classifier else None,
                "test_accuracy": _number(1 - test["error"]) if classifier else None,
                "curve_from": curve_from, "curve": [[e, _number(a), _number(b)] for e, a, b in self.curve[curve_from:]],
                **pictures.network_pictures(self.model, self.head, self.bundle, self.grid_inputs),
                "weights": pictures.weights_of(self.model), "health": self._health(),
                "stopped": self.stopped, "modified": self.modified,
            }

    def _health(self) -> list[dict[str, Any]]:
        if time.perf_counter() - self.health_at >= HEALTH_SECONDS:  # verdicts change slowly: judge them now and then
            self.health, self.health_at = live_health(self.recorder, self.spec), time.perf_counter()
        return self.health

    def data_message(self) -> dict[str, Any]:
        """The points, the square and the input-feature pictures (sent when the data change)."""
        with self.lock:
            return {"type": "data", "task": self.bundle.task, "classes": len(self.bundle.classes),
                    "square": list(self.square), "features": self.bundle.feature_names,
                    "train": pictures.points_of(self.bundle, "train"),
                    "test": pictures.points_of(self.bundle, "test"),
                    "feature_pictures": self.feature_pictures, "picture_size": pictures.NEURON_SIZE,
                    "sizes": {"train": self.bundle.n_train, "dev": self.bundle.n_dev, "test": self.bundle.n_test}}

    def state_message(self) -> dict[str, Any]:
        with self.lock:
            return {"type": "state", "state": self.state.model_dump(mode="json")}

    def restart_messages(self) -> list[dict[str, Any]]:
        """Everything the page needs after the data or the network changed."""
        return [self.state_message(), self.data_message(), self.frame()]

    # ------------------------------------------------------------------ controls

    def configure(self, changes: dict[str, Any], *, link: bool = False) -> list[dict[str, Any]]:
        """Apply control changes: live ones to the running network, others rebuild it.

        ``link``: the changes come from a link: keep every valid one and name the others.
        """
        with self.lock:
            try:
                state, refused = apply_changes(self.state, changes, link=link)
            except ValidationError as error:
                raise MessageError(problems(error, prefix="state")) from None
            notes = [{"type": "error", "message": "link: kept the other settings; refused " + "; ".join(
                f"{name}={str(changes[name])[:40]} ({why})" for name, why in refused.items())}] if refused else []
            changed = {name for name in PlaygroundState.model_fields if getattr(state, name) != getattr(self.state, name)}
            acts = {PlaygroundState.model_fields[name].json_schema_extra["act"] for name in changed}
            if self.stopped and acts - {"view"} and not acts & {"data", "reset"}:
                acts.add("reset")  # a diverged network (NaN weights) cannot go on: the change restarts it
                notes.append({"type": "error", "message": f"training had stopped ({self.stopped[:120]}); the network "
                              "restarted from its initial weights with the new settings"})
            previous, self.state = self.state, state
            try:
                if "data" in acts:
                    if self.own is not None and state.dataset == OWN and state.ratio != previous.ratio:
                        self.own = own_data.from_points(self.own.points, self.own.labels, problem=state.problem,
                                                        fractions=split_fractions(state), seed=state.seed)
                    self._load_data()
                    self._build()
                    return self.restart_messages() + notes
                if "reset" in acts:
                    self._build()
                    return [self.state_message(), self.frame()] + notes
            except NeuralabError as error:
                self._switch_to(previous, label="state")
                raise MessageError("; ".join(error.problems)) from None
            if "live" in acts:
                self._apply_live()
            return [self.state_message(), self.frame()] + notes

    def _apply_live(self) -> None:
        spec = self.spec = self.spec_for(epochs=MAX_EPOCHS)
        self.training.spec = spec  # the loop reads batch size and L1 from it every epoch and step
        set_weight_decay(self.training.optimizer, self.model, spec.train)
        self.training.rate.restart_from(spec.train.learning_rate)
        write_rate(self.training.optimizer, self.training.rate.value)
        self.modified = self.modified or self.epoch > 0

    def reset(self) -> list[dict[str, Any]]:
        """Start again from the same seed: the same initial weights as the first time."""
        with self.lock:
            if self.state.dataset == OWN:
                self._load_data()  # points clicked since: scaled as `neuralab train` will scale them
            self._build()
            return [self.state_message(), self.data_message(), self.frame()]

    def new_seed(self) -> list[dict[str, Any]]:
        """A new seed: new data and new initial weights."""
        with self.lock:
            self.state = self.state.model_copy(update={"seed": secrets.randbelow(2**31)})
            self._load_data()
            self._build()
            return self.restart_messages()

    def regenerate(self) -> list[dict[str, Any]]:
        """New data (a new seed) under the same, still-trained network (Playground's Regenerate)."""
        with self.lock:
            self.state = self.state.model_copy(update={"seed": secrets.randbelow(2**31)})
            self._load_data()
            self.experiment.use_data(self.bundle)  # new data under the same network
            self.modified = True
            return [self.state_message(), self.data_message(), self.frame()]

    def set_weight(self, *, layer: int, row: int, column: int, value: float) -> list[dict[str, Any]]:
        """Edit one weight (``column`` ≥ 0) or bias (``column`` = -1)."""
        with self.lock:
            layers = self.model.linear_layers()
            if layer >= len(layers):
                raise MessageError(f"set_weight.layer: {layer} — the network has {len(layers)} weight layers")
            target = layers[layer]
            if row >= target.out_features or column >= target.in_features:
                raise MessageError(f"set_weight: layer {layer} is {target.out_features} × {target.in_features}; "
                                   f"no row {row}, column {column}")
            with torch.no_grad():
                if column < 0:
                    target.bias[row] = value
                else:
                    target.weight[row, column] = value
            self.modified, self.scores = True, None
            return [self.frame()]

    # ------------------------------------------------------------------ specs and own data

    def export(self) -> dict[str, Any]:
        """The spec that reproduces this run to the current epoch, as YAML text."""
        return exchange.export(self)

    def import_spec(self, text: str) -> list[dict[str, Any]]:
        """Load a spec file's text into the playground (data and network rebuilt)."""
        state = exchange.state_of_spec_text(text)
        with self.lock:
            self._switch_to(state, label="import")
            return self.restart_messages()

    def add_point(self, *, x: float, y: float, label: float, split: str = "train") -> list[dict[str, Any]]:
        """Add a clicked point to the own data's training (or test) split; training goes on.

        Shown another data set, the page's points become the own data first (each in its split).
        A class the network has no output for yet rebuilds it.
        """
        with self.lock:
            if self.state.dataset != OWN:  # the points shown become the own data, the network stays
                self.own = own_data.from_bundle(self.bundle, self.square)
                own = self.state.model_copy(update={"dataset": OWN, "features": ["x1", "x2"]})
                if self.state.features == own.features:
                    self.state = own
                    self._load_data()
                else:  # other inputs: another first layer
                    self._switch_to(own, label="own data")
            own_data.check_point(x=x, y=y, label=label, problem=self.state.problem, count=len(self.own))
            self.own = self.own.add(x=x, y=y, label=label, split=split)
            if not own_data.append_to_bundle(self.bundle, x=x, y=y, label=label, split=split):
                self._switch_to(self.state, label="own data")  # a new class: a new output, a new network
                return self.restart_messages()
            self.experiment.use_data(self.bundle)  # the grown split, under the same network
            self.modified, self.scores = True, None
            return [self.data_message(), self.frame()]

    def upload_csv(self, text: str) -> list[dict[str, Any]]:
        """Replace the own data with a CSV's rows (x1, x2, label), split by the ratio control."""
        points, labels, problem = own_data.parse_csv(text)
        with self.lock:
            self.own = own_data.from_points(points, labels, problem=problem, fractions=split_fractions(self.state),
                                            seed=self.state.seed)
            changes = {"dataset": OWN, "problem": problem, "features": ["x1", "x2"]}
            if problem == "regression" and self.state.loss in NEEDS_CLASSES:
                changes["loss"] = "auto"
            self._switch_to(self.state.model_copy(update=changes), label="own data")
            return self.restart_messages()

    def _switch_to(self, state: PlaygroundState, *, label: str) -> None:
        """Rebuild data and network for ``state``; if they are refused, put the previous state back."""
        previous, self.state = self.state, state
        try:
            self._load_data()
            self._build()
        except NeuralabError as error:
            self.state = previous
            self._load_data()
            self._build()
            raise MessageError(f"{label}: " + "; ".join(error.problems)) from None


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
