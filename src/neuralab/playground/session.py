"""One browser tab's experiment: data, network and training, on neuralab's own engine.

A :class:`Session` builds everything exactly as :func:`neuralab.train` does for the spec
its state describes (:func:`neuralab.playground.state.to_spec`): the same data, the same
``torch.manual_seed(seed)`` before the model, the same optimiser, schedule, callbacks and
shuffling generator, and it trains epoch by epoch with the loop's own
:func:`~neuralab.training.loop.run_epoch`. So the spec it exports, trained by
``neuralab train`` for the same number of epochs, ends at the same loss.

Every method is thread-safe (the server calls them from worker threads) and returns the
messages to send to the page.

Example:
    >>> session = Session()
    >>> frame = session.advance(epochs=2)
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
from pathlib import Path
import time
from typing import Any

import numpy as np
import torch
import yaml
from pydantic import ValidationError

from neuralab.data import load_data
from neuralab.errors import NeuralabError
from neuralab.playground import own_data, pictures
from neuralab.playground.live_health import HEALTH_EVERY, HealthRecorder, live_health
from neuralab.playground.messages import MessageError, problems
from neuralab.playground.state import MULTICLASS_DATASETS, OWN, PlaygroundState, from_spec, to_spec
from neuralab.spec import dump_spec, load_spec, parse_yaml
from neuralab.training.evaluate import evaluate_split
from neuralab.training.losses import NEEDS_CLASSES
from neuralab.training.experiment import Experiment
from neuralab.training.optim import set_weight_decay
from neuralab.training.rate import write_rate

log = logging.getLogger(__name__)

MAX_EPOCHS = 100_000
FRAME_SECONDS = 1 / 100  # while playing: train this long (at least one epoch) per frame
DEFAULT_SAMPLES = {"classification": 500, "regression": 1200}  # Playground's counts


class Session:
    """The state of one tab and the experiment it describes."""

    def __init__(self, state: PlaygroundState | None = None):
        self.lock = threading.RLock()
        self.state = state or PlaygroundState()
        self.folder = Path(tempfile.mkdtemp(prefix="neuralab-playground-"))  # own data's CSV; close() removes it
        self.own: tuple | None = None  # own points and labels
        self._load_data()
        self._build()

    # ------------------------------------------------------------------ building

    def _load_data(self) -> None:
        if self.state.dataset == OWN:
            if self.own is None:  # own data start from the points shown now
                bundle = getattr(self, "bundle", None) or load_data(to_spec(PlaygroundState()).data, seed=0)
                self.own = own_data.points_of_bundle(bundle)
            own_data.write_csv(self.folder / own_data.EXPORT_NAME, *self.own, problem=self.state.problem)
        spec = to_spec(self.state, own_path=str(self.folder / own_data.EXPORT_NAME))
        self.bundle = load_data(spec.data, seed=spec.seed)
        self.square = pictures.square_of(self.bundle)
        low, high = self.square
        self.output_inputs = pictures.model_inputs(
            self.bundle, pictures.grid_points(low=low, high=high, size=pictures.OUTPUT_SIZE))
        self.neuron_inputs = pictures.model_inputs(
            self.bundle, pictures.grid_points(low=low, high=high, size=pictures.NEURON_SIZE))

    def _spec(self, *, epochs: int, own_path: str | None = None):
        return to_spec(self.state, epochs=epochs, own_path=own_path or str(self.folder / own_data.EXPORT_NAME))

    def close(self) -> None:
        """Free what the session holds on disk (its own-data folder)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def _build(self) -> None:
        """A fresh network from the state's seed, as ``neuralab.train`` builds it."""
        spec = self.spec = self._spec(epochs=MAX_EPOCHS)
        self.experiment = Experiment.from_spec(spec, bundle=self.bundle, device="cpu")
        self.head, self.model, self.training = self.experiment.head, self.experiment.model, self.experiment.state
        self.recorder = HealthRecorder(every=HEALTH_EVERY)  # reads the model only: numbers unchanged
        with self.experiment.training():
            self.experiment.begin([self.recorder], record_health=False)
        self.curve: list[list[float]] = []  # [epoch, train_loss, test_loss] per epoch
        self.curve_sent = 0
        self.modified = False  # a live change or an edited weight since the last reset
        self.stopped = ""  # why training cannot go on (divergence)

    # ------------------------------------------------------------------ training

    @property
    def epoch(self) -> int:
        return len(self.training.history)

    def advance(self, *, epochs: int | None = None, seconds: float = FRAME_SECONDS) -> dict[str, Any]:
        """Train ``epochs`` epochs (or, when None, epochs for about ``seconds``) and return a frame."""
        with self.lock:
            started, done = time.perf_counter(), 0
            with self.experiment.training():
                while not self.stopped and self.epoch < MAX_EPOCHS:
                    self._one_epoch()
                    done += 1
                    if done >= (epochs or 10**9) or (epochs is None and time.perf_counter() - started >= seconds):
                        break
            return self.frame()

    def _one_epoch(self) -> None:
        going = self.experiment.run_epoch()
        if self.training.diverged:
            self.stopped = self.training.stop_reason or "diverged"
            return
        test = evaluate_split(self.model, self.head, *self.experiment.splits["test"])
        self.curve.append([self.epoch, self.training.history[-1]["train_loss"], test["loss"]])
        self.test_scores = test
        if not going:
            self.stopped = self.training.stop_reason

    # ------------------------------------------------------------------ frames

    def frame(self) -> dict[str, Any]:
        """What the page draws now: numbers, curve points not yet sent, pictures, weights, health."""
        with self.lock:
            history = self.training.history
            last = history[-1] if history else None
            test = evaluate_split(self.model, self.head, *self.experiment.splits["test"]) if last else None
            train = last and {"loss": last["train_loss"], "error": last["train_error"]}
            if train is None:
                train = evaluate_split(self.model, self.head, *self.experiment.splits["train"])
                test = evaluate_split(self.model, self.head, *self.experiment.splits["test"])
            curve_from, self.curve_sent = self.curve_sent, len(self.curve)
            classifier = self.head.is_classifier
            return {
                "type": "frame", "epoch": self.epoch, "learning_rate": self.training.learning_rate,
                "train_loss": _number(train["loss"]), "test_loss": _number(test["loss"]),
                "train_accuracy": _number(1 - train["error"]) if classifier else None,
                "test_accuracy": _number(1 - test["error"]) if classifier else None,
                "curve_from": curve_from, "curve": [[e, _number(a), _number(b)] for e, a, b in self.curve[curve_from:]],
                "output": pictures.output_picture(self.model, self.head, self.bundle, self.output_inputs),
                "neurons": pictures.neuron_pictures(self.model, self.neuron_inputs),
                "weights": pictures.weights_of(self.model),
                "health": live_health(self.recorder, self.spec),
                "stopped": self.stopped, "modified": self.modified,
            }

    def data_message(self) -> dict[str, Any]:
        """The points, the square and the input-feature pictures (sent when the data change)."""
        with self.lock:
            return {"type": "data", "task": self.bundle.task, "classes": len(self.bundle.classes),
                    "square": list(self.square), "features": self.bundle.feature_names,
                    "train": pictures.points_of(self.bundle, "train"),
                    "test": pictures.points_of(self.bundle, "test"),
                    "feature_pictures": pictures.feature_pictures(self.bundle, self.neuron_inputs),
                    "sizes": {"train": self.bundle.n_train, "dev": self.bundle.n_dev, "test": self.bundle.n_test}}

    def state_message(self) -> dict[str, Any]:
        with self.lock:
            return {"type": "state", "state": self.state.model_dump(mode="json")}

    def restart_messages(self) -> list[dict[str, Any]]:
        """Everything the page needs after the data or the network changed."""
        return [self.state_message(), self.data_message(), self.frame()]

    # ------------------------------------------------------------------ controls

    def configure(self, changes: dict[str, Any]) -> list[dict[str, Any]]:
        """Apply control changes: live ones to the running network, others rebuild it."""
        with self.lock:
            current = self.state.model_dump()
            merged = {**current, **_complete(current, changes)}
            try:
                state = PlaygroundState.model_validate(merged)
            except ValidationError as error:
                raise MessageError(problems(error, prefix="state")) from None
            changed = {name for name in PlaygroundState.model_fields if getattr(state, name) != current[name]}
            acts = {PlaygroundState.model_fields[name].json_schema_extra["act"] for name in changed}
            previous, self.state = self.state, state
            try:
                if "data" in acts:
                    self._load_data()
                    self._build()
                    return self.restart_messages()
                if "reset" in acts:
                    self._build()
                    return [self.state_message(), self.frame()]
            except NeuralabError as error:
                self.state = previous
                self._load_data()
                self._build()
                raise MessageError("; ".join(error.problems)) from None
            if "live" in acts:
                self._apply_live()
            return [self.state_message(), self.frame()]

    def _apply_live(self) -> None:
        spec = self.spec = self._spec(epochs=MAX_EPOCHS)
        self.training.spec = spec
        self.training.rate.restart_from(spec.train.learning_rate)
        write_rate(self.training.optimizer, self.training.rate.value)
        set_weight_decay(self.training.optimizer, self.model, spec.train)
        self.modified = self.modified or self.epoch > 0

    def reset(self) -> list[dict[str, Any]]:
        """Start again from the same seed: the same initial weights as the first time."""
        with self.lock:
            self._build()
            return [self.state_message(), self.frame()]

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
            self.modified = True
            return [self.frame()]

    # ------------------------------------------------------------------ specs

    def export(self) -> dict[str, Any]:
        """The spec that reproduces this run to the current epoch, as YAML text."""
        with self.lock:
            spec = self._spec(epochs=max(1, self.epoch), own_path=own_data.EXPORT_NAME)
            spec.name = "playground"
            loss = self.training.history[-1]["train_loss"] if self.training.history else None
            header = [f"# neuralab spec exported from the playground at epoch {self.epoch}"]
            if loss is not None:
                header.append(f"# train_loss at epoch {self.epoch}: {loss!r}")
            if self.modified:
                header.append("# note: settings or weights were changed during training; "
                              "`neuralab train` replays the final settings from the start")
            text = "\n".join(header) + "\n" + dump_spec(spec)
            message = {"type": "spec", "text": text, "filename": f"playground-epoch{self.epoch}.yaml",
                       "epoch": self.epoch, "train_loss": loss, "modified": self.modified}
            if self.state.dataset == OWN:  # the data file goes beside the spec
                message["data_text"] = (self.folder / own_data.EXPORT_NAME).read_text(encoding="utf-8")
                message["data_filename"] = own_data.EXPORT_NAME
            return message

    # ------------------------------------------------------------------ own data

    def add_point(self, *, x: float, y: float, label: float) -> list[dict[str, Any]]:
        """Add a clicked point to the own data (switching to own data first); the network restarts."""
        with self.lock:
            own_data.check_point(x=x, y=y, label=label, problem=self.state.problem)
            if self.state.dataset != OWN:
                self.own = own_data.points_of_bundle(self.bundle)
            points, labels = self.own
            if len(points) >= own_data.MAX_POINTS:
                raise MessageError(f"add_point: own data hold at most {own_data.MAX_POINTS} points")
            self.own = (np.vstack([points, [[x, y]]]), np.append(labels, label))
            return self._use_own(self.state.problem)

    def upload_csv(self, text: str) -> list[dict[str, Any]]:
        """Replace the own data with a CSV's rows (x1, x2, label)."""
        points, labels, problem = own_data.parse_csv(text)
        with self.lock:
            self.own = (points, labels)
            return self._use_own(problem)

    def _use_own(self, problem: str) -> list[dict[str, Any]]:
        changes = {"dataset": OWN, "problem": problem, "features": ["x1", "x2"]}
        if problem == "regression" and self.state.loss in NEEDS_CLASSES:
            changes["loss"] = "auto"
        self._switch_to(self.state.model_copy(update=changes), label="own data")
        return self.restart_messages()

    def _switch_to(self, state, *, label: str) -> None:
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

    def import_spec(self, text: str) -> list[dict[str, Any]]:
        """Load a spec file's text into the playground (data and network rebuilt)."""
        try:
            raw = parse_yaml(text)  # no aliases (alias bombs), no repeated keys
        except yaml.YAMLError as error:
            raise MessageError(f"import: not YAML or JSON ({str(error).splitlines()[0]})") from None
        if not isinstance(raw, dict):
            raise MessageError("import: a spec file holds a mapping of fields")
        try:
            state = from_spec(load_spec(raw))
        except NeuralabError as error:
            raise MessageError("import: " + "; ".join(error.problems)) from None
        except ValidationError as error:
            raise MessageError(problems(error, prefix="import")) from None
        except ValueError as error:
            raise MessageError(f"import: {error}") from None
        with self.lock:
            self._switch_to(state, label="import")
            return self.restart_messages()


def _complete(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Fill in what a change implies: a problem's default set, one activation per layer, …"""
    changes = dict(changes)
    if isinstance(changes.get("problem"), str) and changes["problem"] != current["problem"]:
        regression = changes["problem"] == "regression"
        changes.setdefault("dataset", "plane" if regression else "circle")
        changes.setdefault("n_samples", DEFAULT_SAMPLES.get(changes["problem"], 500))
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


def _number(value: float) -> float | None:
    return value if value is not None and math.isfinite(value) else None
