"""A trial scored by k-fold cross-validation instead of one dev split (``tune --cv K``).

Each fold trains the trial's spec on the other folds and scores the held-out fold (see
:func:`neuralab.data.folds.fold_bundles`); the trial's dev error is the mean over the folds,
its train error the mean of the training errors. The test split stays unread. Folds are
cached per data section, like a trial's data. Pruning needs one curve per trial, so a
cross-validated trial is not pruned.

Example:
    >>> from neuralab.spec import load_spec
    >>> spec = load_spec({"data": {"dataset": "iris"}, "model": {"hidden": [4]}, "train": {"epochs": 2}})
    >>> scores = cross_validate(spec, folds=3)
    >>> len(scores["fold_dev_errors"]), scores["dev_error"] == sum(scores["fold_dev_errors"]) / 3
    (3, True)
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neuralab.data.folds import fold_bundles
from neuralab.spec import ExperimentSpec
from neuralab.training import Callback
from neuralab.training.experiment import Experiment, cached_data
from neuralab.tune.trial import result_row


def cross_validate(spec: ExperimentSpec, *, folds: int, callbacks: Iterable[Callback] = (),
                   cache: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train ``spec`` once per fold; the mean train and dev errors, and each fold's dev error.

    Returns:
        What a trial reports (``train_error``, ``dev_error``, ``diverged``, ``epochs_run``,
        ``stop_reason``, ``history`` of the first fold) plus ``fold_dev_errors``.
    """
    rows = []
    for bundle in _folds(spec, folds, cache):
        experiment = Experiment.from_spec(spec, bundle=bundle)
        state = experiment.fit(list(callbacks), record_health=False)
        rows.append(result_row(state, experiment.score(["train", "dev"])))
    mean = {key: sum(row[key] for row in rows) / len(rows) for key in ("train_error", "dev_error")}
    return {**rows[0], **mean, "diverged": any(row["diverged"] for row in rows),
            "epochs_run": max(row["epochs_run"] for row in rows),
            "stop_reason": next((row["stop_reason"] for row in rows if row["diverged"]), rows[0]["stop_reason"]),
            "fold_dev_errors": [row["dev_error"] for row in rows]}


def _folds(spec: ExperimentSpec, folds: int, cache: dict[str, Any] | None) -> list:
    key = f"{spec.data.model_dump_json()}|{spec.seed}|{folds}"
    if cache is not None and cache.get("folds_key") == key:
        return cache["folds"]
    made = fold_bundles(cached_data(spec, cache), folds=folds, seed=spec.seed)
    if cache is not None:
        cache.update(folds_key=key, folds=made)
    return made
