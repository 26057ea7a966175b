"""scikit-learn estimators: :class:`NeuralClassifier` and :class:`NeuralRegressor`.

They follow scikit-learn's conventions: the constructor only stores its parameters —
the spec's fields by flat names (``hidden``, ``activation``, ``optimizer``,
``learning_rate``, ``batch_size``, ``epochs``, ``l2``, ``dropout``…, see
:data:`PARAMETERS`) plus ``early_stopping``, ``patience``, ``validation_fraction`` and
``random_state`` — and ``fit`` computes, through :func:`neuralab.train` on the arrays
given. Inputs may be float64 or float32 arrays, lists or pandas frames (whose column
names become the run's input columns). There is no hidden validation split: the whole of
``X`` trains, unless ``early_stopping=True``, which holds out ``validation_fraction`` of
it (stratified for classifiers) as the dev split it watches — as ``MLPClassifier`` does.
``partial_fit`` trains one more epoch on the rows given, on one
:class:`~neuralab.training.experiment.Experiment` kept from call to call (same optimiser,
same learning rate). After ``fit``: ``run_`` (the :class:`~neuralab.runs.Run`),
``classes_``, ``n_features_in_``, ``feature_names_in_``, ``n_iter_``, ``loss_curve_``,
and :meth:`diagnose` for the doctor's verdict.

Example:
    >>> import numpy as np
    >>> from neuralab.sklearn import NeuralClassifier
    >>> X = np.random.default_rng(0).normal(size=(80, 2))
    >>> y = np.where(X[:, 0] > 0, "right", "left")
    >>> model = NeuralClassifier(hidden=(8,), epochs=30, learning_rate=0.05, random_state=0).fit(X, y)
    >>> model.classes_.tolist(), model.score(X, y) > 0.9
    (['left', 'right'], True)
"""
from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from neuralab.errors import NeuralabError
from neuralab.spec.catalog import family

# Estimator parameter → spec field. The defaults in the constructors are the spec's own
# (tests/test_sklearn.py checks they agree).
PARAMETERS = {
    "hidden": "model.hidden", "activation": "model.activation", "output_activation": "model.output_activation",
    "init": "model.init", "init_std": "model.init_std", "dropout": "model.dropout", "batch_norm": "model.batch_norm",
    "loss": "train.loss", "optimizer": "train.optimizer", "learning_rate": "train.learning_rate",
    "momentum": "train.momentum", "batch_size": "train.batch_size", "epochs": "train.epochs",
    "schedule": "train.schedule", "l1": "train.l1", "l2": "train.l2", "grad_clip": "train.grad_clip",
    "device": "train.device", "threads": "train.threads", "tensorboard": "train.tensorboard",
    "standardize": "data.standardize", "augment_noise": "data.augment_noise",
    "health_every": "diagnose.health_every", "optimal_error": "diagnose.optimal_error",
}


class _NeuralEstimator(BaseEstimator):
    """What both estimators share: parameters → spec, array checks, training, diagnosis."""

    _task_kind = "classification"

    # One constructor for both estimators (scikit-learn reads the parameters from its signature).
    def __init__(self, hidden=(128, 128), activation="relu", output_activation="auto", init="he_normal",
                 init_std=0.05, dropout=0.0, batch_norm=False, loss="auto", optimizer="adam", learning_rate=0.001,
                 momentum=None, batch_size=64, epochs=50, schedule="constant", l1=0.0, l2=0.0, grad_clip=None,
                 early_stopping=False, patience=10, validation_fraction=0.1, standardize=True, augment_noise=0.0,
                 device="auto", threads=None, health_every=100, optimal_error=0.0, tensorboard=None,
                 random_state=None):
        self.hidden, self.activation, self.output_activation, self.init = hidden, activation, output_activation, init
        self.init_std, self.dropout, self.batch_norm, self.loss = init_std, dropout, batch_norm, loss
        self.optimizer, self.learning_rate, self.momentum, self.batch_size = optimizer, learning_rate, momentum, batch_size
        self.epochs, self.schedule, self.l1, self.l2, self.grad_clip = epochs, schedule, l1, l2, grad_clip
        self.early_stopping, self.patience, self.validation_fraction = early_stopping, patience, validation_fraction
        self.standardize, self.augment_noise, self.device, self.threads = standardize, augment_noise, device, threads
        self.health_every, self.optimal_error, self.tensorboard = health_every, optimal_error, tensorboard
        self.random_state = random_state

    def _spec(self, *, seed: int, validation: bool) -> Any:
        """The ExperimentSpec of these parameters; a bad value raises ValueError naming the parameter."""
        from neuralab.spec import load_spec

        overrides: dict[str, Any] = {field: getattr(self, name) for name, field in PARAMETERS.items()}
        overrides["model.hidden"] = list(self.hidden)
        overrides["seed"], overrides["name"] = seed, type(self).__name__
        if validation:
            overrides["train.early_stopping.patience"] = self.patience
        with _as_value_error():
            return load_spec(None, overrides=overrides)

    def _seed(self) -> int:
        """An int seed from ``random_state`` (None draws one from numpy's global generator)."""
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    def _fit(self, X: Any, y: Any) -> "_NeuralEstimator":
        import neuralab

        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), y_numeric=self._task_kind == "regression")
        targets, classes = self._targets(y)
        if self.early_stopping and not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(f"validation_fraction: {self.validation_fraction!r} — must be between 0 and 1 "
                             "(the share of X held out for early stopping)")
        seed = self._seed()
        spec = self._spec(seed=seed, validation=bool(self.early_stopping))
        _check_schedule(spec, has_dev=bool(self.early_stopping))
        self._experiment = None  # a later partial_fit starts from these weights
        with _as_value_error():
            bundle = self._bundle(X, targets, spec, classes=classes,
                                  dev_fraction=self.validation_fraction if self.early_stopping else 0.0)
            self._keep(neuralab.train(spec, out_dir=None, bundle=bundle))
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> "_NeuralEstimator":
        """Train one more epoch on ``X``, ``y``: the first call builds the network (or starts from
        the weights ``fit`` left), later calls go on with the same optimiser and learning rate.

        Inputs are scaled with the statistics of the first call's rows (or of ``fit``'s).

        Args:
            classes: every class the calls will show (classifiers; default: those of the
                first call's ``y``).
        """
        from neuralab.runs.layout import run_of
        from neuralab.training.experiment import Experiment

        fitted = hasattr(self, "run_")
        X, y = validate_data(self, X, y, reset=not fitted, dtype=(np.float64, np.float32),
                             y_numeric=self._task_kind == "regression")
        if fitted:
            targets, known = self._known_targets(y), self.run_.preprocessor.classes
        else:
            targets, known = self._targets(y, classes=classes)
        experiment = getattr(self, "_experiment", None)
        started = time.perf_counter()
        with _as_value_error():
            if experiment is None:
                spec = self._spec(seed=self._seed(), validation=False)
                _check_schedule(spec, has_dev=False)
                bundle = self._bundle(X, targets, spec, classes=known, dev_fraction=0.0,
                                      preprocessor=self.run_.preprocessor if fitted else None)
                experiment = Experiment.from_spec(spec, bundle=bundle)
                if fitted:
                    experiment.model.load_state_dict(self.run_.model.state_dict())
            else:
                experiment.use_data(self._bundle(X, targets, experiment.spec, classes=known, dev_fraction=0.0,
                                                 preprocessor=experiment.bundle.preprocessor))
            with experiment.training():
                if getattr(self, "_experiment", None) is None:
                    experiment.begin()
                experiment.model.to(experiment.device)  # the last run_of handed the weights over on the CPU
                experiment.run_epoch()
            self._experiment = experiment
            self._keep(run_of(experiment, seconds=time.perf_counter() - started))
        return self

    def _bundle(self, X: np.ndarray, targets: np.ndarray, spec: Any, *, classes: list, dev_fraction: float,
                preprocessor: Any = None) -> Any:
        """The arrays as a DataBundle: checked, all rows train but ``dev_fraction``, no test split."""
        from neuralab.data import bundle_from_arrays

        return bundle_from_arrays(X, targets, data=spec.data, seed=spec.seed, columns=self._columns(),
                                  classes=classes, dev_fraction=dev_fraction, preprocessor=preprocessor)

    def _keep(self, run: Any) -> None:
        self.run_ = run
        self.n_iter_ = int(run.summary["epochs_run"])
        self.loss_curve_ = [row["train_loss"] for row in run.history]

    def __getstate__(self) -> dict[str, Any]:
        # A pickle keeps the estimator and its run, not the live training state of partial_fit.
        state = dict(super().__getstate__())
        state.pop("_experiment", None)
        return state

    def _columns(self) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        if names is not None and len(set(names)) == len(names) and all(str(n) for n in names):
            return [str(name) for name in names]
        return [f"x{i + 1}" for i in range(self.n_features_in_)]

    def _targets(self, y: np.ndarray, *, classes: Any = None) -> tuple[np.ndarray, list]:
        return np.asarray(y, dtype=np.float64), []

    def _raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=(np.float64, np.float32))

    def diagnose(self, X: Any = None, y: Any = None, *, optimal_error: float | None = None) -> Any:
        """The doctor's diagnosis of the fitted network: bias/variance, layer health, advice.

        Bias vs variance compares the train error with a dev error: from ``X``, ``y`` when
        given (held-out data), else from the ``validation_fraction`` held out by early stopping.

        Args:
            X, y: held-out data to score as the dev split (default: the validation split).
            optimal_error: the optimal (e.g. human-level) error (default ``optimal_error``).

        Returns:
            A :class:`neuralab.doctor.Diagnosis` (``.bias_variance.verdict``, ``.layers``, ``.advice``).

        Raises:
            ValueError: no dev error is known (no ``X``, ``y`` and no early stopping).
        """
        from neuralab.doctor.diagnosis import diagnose

        check_is_fitted(self)
        run = self.run_
        if X is not None:
            run = dataclasses.replace(run, summary={**run.summary, **self._dev_scores(X, y)})
        elif not math.isfinite(run.summary.get("dev_error", math.nan)):
            raise ValueError("diagnose: bias vs variance needs a dev error — pass held-out data, "
                             "est.diagnose(X_dev, y_dev), or fit with early_stopping=True")
        return diagnose(run, optimal_error=optimal_error, learning_curves=False, write_report=False)

    def _dev_scores(self, X: Any, y: Any) -> dict[str, float]:
        """``dev_error`` and ``dev_loss`` of the network on ``X``, ``y`` (as training scores its dev split)."""
        import torch

        from neuralab.training.evaluate import evaluate_split

        raw = self._raw(X)
        run = self.run_
        with _as_value_error():
            data = self._bundle(raw, self._known_targets(column_or_1d(y)), run.spec,
                                classes=run.preprocessor.classes, dev_fraction=0.0, preprocessor=run.preprocessor)
        scores = evaluate_split(run.model, run.head, torch.from_numpy(data.x_train), torch.from_numpy(data.y_train),
                                target_scale=data.target_scale)
        return {"dev_error": scores["error"], "dev_loss": scores["loss"]}

    def _known_targets(self, y: np.ndarray) -> np.ndarray:
        """Targets of held-out data as the fitted network reads them (values here; class indices for classifiers)."""
        return np.asarray(y, dtype=np.float64)


class NeuralClassifier(ClassifierMixin, _NeuralEstimator):
    """A neuralab network as a scikit-learn classifier (binary or multi-class).

    Every parameter is a spec field by its flat name (see :data:`PARAMETERS` and the README's
    spec reference), with the spec's default; and:

    Args:
        early_stopping: hold out ``validation_fraction`` of ``X`` and stop when its loss has
            not improved for ``patience`` epochs, keeping the best epoch's weights.
        patience: epochs without improvement before stopping (with ``early_stopping``).
        validation_fraction: share of ``X`` held out for early stopping (only then).
        random_state: seed of the split, initial weights, batches and dropout (None: a fresh one).
    """

    def fit(self, X: Any, y: Any) -> "NeuralClassifier":
        """Train on ``X`` (n, d) and labels ``y`` (n,); returns the fitted estimator."""
        return self._fit(X, y)

    def _targets(self, y: np.ndarray, *, classes: Any = None) -> tuple[np.ndarray, list]:
        """Class indices of ``y`` and the classes (sorted, as ``classes_``; ``classes``: all there will be)."""
        check_classification_targets(y)
        self.classes_ = np.unique(y) if classes is None else np.unique(np.asarray(classes))
        return self._known_targets(y), self.classes_.tolist()

    def _known_targets(self, y: np.ndarray) -> np.ndarray:
        lookup = {label: index for index, label in enumerate(self.classes_.tolist())}
        unknown = sorted({repr(label) for label in y.tolist() if label not in lookup})
        if unknown:
            raise ValueError(f"y: labels {', '.join(unknown[:5])} are not among the fitted classes_ "
                             f"{self.classes_.tolist()}")
        return np.array([lookup[label] for label in y.tolist()], dtype=np.int64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n, n_classes), columns in ``classes_`` order."""
        import neuralab

        raw = self._raw(X)  # checks the fit first
        table = neuralab.predict(self.run_, raw)
        return np.stack([table[f"probability_{label}"] for label in self.run_.summary["classes"]], axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row, as labels of ``classes_``."""
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]


class NeuralRegressor(RegressorMixin, _NeuralEstimator):
    """A neuralab network as a scikit-learn regressor (one target).

    Parameters as :class:`NeuralClassifier`'s.
    """

    _task_kind = "regression"

    def fit(self, X: Any, y: Any) -> "NeuralRegressor":
        """Train on ``X`` (n, d) and values ``y`` (n,); returns the fitted estimator."""
        return self._fit(X, y)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values (n,), in ``y``'s units."""
        import neuralab

        raw = self._raw(X)  # checks the fit first
        return np.asarray(neuralab.predict(self.run_, raw)["prediction"], dtype=np.float64)


def expected_failed_checks(estimator: BaseEstimator) -> dict[str, str]:
    """The scikit-learn estimator checks these estimators fail on purpose, each with its reason
    (for ``check_estimator(est, expected_failed_checks=...)``; every other check passes)."""
    return {"check_methods_subset_invariance":
            "the network computes in float32, and torch may sum a matrix product of 1 row and of 20 rows "
            "in a different order: outputs can differ in the last bit (~1e-7 relative), above the check's "
            "1e-7 tolerance for values; labels (classifiers) do not change"}


def _check_schedule(spec: Any, *, has_dev: bool) -> None:
    """A schedule that watches the dev loss needs a dev split: refuse it clearly without one."""
    if not has_dev and spec.train.schedule.name in family("schedules", "watches", "dev_loss"):
        raise ValueError(f"schedule: {spec.train.schedule.name!r} watches the dev loss; it needs early_stopping=True "
                         "with fit (the validation_fraction split is the dev split it watches)")


@contextmanager
def _as_value_error() -> Iterator[None]:
    """neuralab's refusals (spec, data) as the ValueError scikit-learn's conventions expect, naming parameters."""
    try:
        yield
    except NeuralabError as error:
        raise ValueError(_parameter_problems(error.problems)) from None


_SPEC_NAMES = {field: name for name, field in PARAMETERS.items()} | {
    "train.early_stopping.patience": "patience", "seed": "random_state"}


def _parameter_problems(problems: list[str]) -> str:
    """Problem lines with the spec's dotted fields named as the estimator's parameters."""
    lines = []
    for line in problems:
        field, sep, rest = line.partition(":")
        name = _SPEC_NAMES.get(field) or _SPEC_NAMES.get(field.rsplit(".", 1)[0])
        lines.append(f"{name}{sep}{rest}" if sep and name else line)
    return "\n".join(lines)
