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
After ``fit``: ``run_`` (the :class:`~neuralab.run.Run`), ``classes_``,
``n_features_in_``, ``feature_names_in_``, ``n_iter_``, ``loss_curve_``, and
:meth:`diagnose` for the doctor's verdict.

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
from types import SimpleNamespace
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from neuralab.errors import NeuralabError

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
                 momentum=0.9, batch_size=64, epochs=50, schedule="constant", l1=0.0, l2=0.0, grad_clip=None,
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
        try:
            return load_spec(None, overrides=overrides)
        except NeuralabError as error:
            raise ValueError(_parameter_problems(error.problems)) from None

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
        dev_fraction = self.validation_fraction if self.early_stopping else 0.0
        try:
            bundle = arrays_bundle(X, targets, classes=classes, columns=self._columns(),
                                   dev_fraction=dev_fraction, standardize=spec.data.standardize, seed=seed)
            run = neuralab.train(spec, out_dir=None, bundle=bundle)
        except NeuralabError as error:
            raise ValueError(_parameter_problems(error.problems)) from None
        self.run_ = run
        self.n_iter_ = int(run.summary["epochs_run"])
        self.loss_curve_ = [row["train_loss"] for row in run.history]
        return self

    def _columns(self) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        if names is not None and len(set(names)) == len(names) and all(str(n) for n in names):
            return [str(name) for name in names]
        return [f"x{i + 1}" for i in range(self.n_features_in_)]

    def _targets(self, y: np.ndarray) -> tuple[np.ndarray, list]:
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
        from neuralab.run import to_tensor
        from neuralab.training.evaluate import evaluate_split
        from neuralab.training.setup import target_scale

        raw = self._raw(X)
        pre = self.run_.preprocessor
        targets = pre.transform_target(self._known_targets(column_or_1d(y)))
        scale = target_scale(SimpleNamespace(task=pre.task, preprocessor=pre))  # the run's own rule, on its preprocessor
        scores = evaluate_split(self.run_.model, self.run_.head, to_tensor(pre.transform_inputs(raw)),
                                to_tensor(targets), target_scale=scale)
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

    def _targets(self, y: np.ndarray) -> tuple[np.ndarray, list]:
        """Class indices of ``y`` and the classes (sorted, as ``classes_``)."""
        check_classification_targets(y)
        self.classes_, indices = np.unique(y, return_inverse=True)
        return indices.astype(np.int64), self.classes_.tolist()

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


def arrays_bundle(inputs: np.ndarray, targets: np.ndarray, *, classes: list, columns: list[str],
                  dev_fraction: float, standardize: bool, seed: int) -> Any:
    """A DataBundle from arrays: all rows train, but ``dev_fraction`` of them held out as dev
    (stratified for classes); no test split. Checked and preprocessed like a file's rows.

    Args:
        inputs: (n, d) numbers; targets: (n,) class indices (with ``classes``) or values.
        classes: labels in class-index order; ``[]`` for regression.
        columns: the input columns' names.
        dev_fraction: share of the rows held out as the dev split (0: none).
        standardize: scale inputs (and regression targets) with the training rows' statistics.
        seed: seed of the dev split.

    Raises:
        DataError: one line per problem (NaN/inf, one class, no training rows…).
    """
    from neuralab.data import DataBundle, Preprocessor
    from neuralab.data.checks import check_data
    from neuralab.data.split import split_indices
    from neuralab.errors import DataError

    inputs = np.asarray(inputs, dtype=np.float64)
    check_data(inputs, targets, columns=columns, classes=classes or None)
    n = len(targets)
    n_dev = math.ceil(dev_fraction * n) if dev_fraction else 0
    if n_dev >= n:
        raise DataError(f"validation_fraction: {dev_fraction:g} of {n} rows leaves none to train on")
    parts = dict(zip(("train", "dev", "test"),
                     split_indices(targets, (n - n_dev, n_dev, 0), seed=seed, stratify=bool(classes))))
    task = "binary" if len(classes) == 2 else ("multiclass" if classes else "regression")
    pre = Preprocessor.fit(inputs[parts["train"]], targets[parts["train"]], input_columns=columns, task=task,
                           classes=classes, standardize=standardize)
    return DataBundle(
        dataset="arrays", task=task, feature_names=pre.feature_names, input_columns=list(columns),
        classes=list(pre.classes),
        **{f"x_{name}": pre.transform_inputs(inputs[index]) for name, index in parts.items()},
        **{f"y_{name}": pre.transform_target(targets[index]) for name, index in parts.items()},
        **{f"raw_{name}": inputs[index].astype(np.float32) for name, index in parts.items()},
        preprocessor=pre, split_fractions=[(n - n_dev) / n, n_dev / n, 0.0])


def expected_failed_checks(estimator: BaseEstimator) -> dict[str, str]:
    """The scikit-learn estimator checks these estimators fail on purpose, each with its reason
    (for ``check_estimator(est, expected_failed_checks=...)``; every other check passes)."""
    return {"check_methods_subset_invariance":
            "the network computes in float32, and torch may sum a matrix product of 1 row and of 20 rows "
            "in a different order: outputs can differ in the last bit (~1e-7 relative), above the check's "
            "1e-7 tolerance for values; labels (classifiers) do not change"}


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
