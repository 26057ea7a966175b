"""k-fold cross-validation over the train and dev rows of a bundle; the test split is never used.

On small data one dev split is a noisy judge: a tuner that picks the best of many trials on
114 dev rows picks partly by luck. Cross-validation pools the train and dev rows, cuts them
into ``k`` folds (scikit-learn's ``StratifiedKFold`` for classes, ``KFold`` otherwise,
shuffled with the spec's seed) and makes one bundle per fold: that fold as the dev split,
the others as training rows, preprocessed (standardised) on those training rows alone.

Example:
    >>> from neuralab.data import load_data
    >>> from neuralab.spec import DataSpec
    >>> bundle = load_data(DataSpec(dataset="iris"), seed=0)
    >>> folds = fold_bundles(bundle, folds=5, seed=0)
    >>> [(fold.n_train, fold.n_dev) for fold in folds][:2], folds[0].n_test
    ([(96, 24), (96, 24)], 0)
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from neuralab.data.containers import DataBundle
from neuralab.data.preprocess import Preprocessor
from neuralab.errors import DataError


def fold_bundles(bundle: DataBundle, *, folds: int, seed: int = 0) -> list[DataBundle]:
    """One bundle per fold of the train + dev rows (test rows left out), each standardised on its training rows.

    Raises:
        DataError: fewer than 2 folds, more folds than rows (or than a class's rows), or a data
            kind without raw rows (sequences).
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    if bundle.kind != "tabular":
        raise DataError(f"cv: cross-validation needs tabular data; {bundle.dataset!r} is {bundle.kind}")
    pre: Preprocessor = bundle.preprocessor
    raw = np.concatenate([bundle.raw_train, bundle.raw_dev]).astype(np.float64)
    targets = np.concatenate([pre.inverse_target(bundle.y_train), pre.inverse_target(bundle.y_dev)])
    classify = bundle.task != "regression"
    if not 2 <= folds <= len(raw):
        raise DataError(f"cv: {folds} folds of {len(raw)} rows; use between 2 and {len(raw)}")
    if classify and np.bincount(targets.astype(np.int64)).min(initial=len(raw)) < folds:
        raise DataError(f"cv: {folds} folds need at least {folds} rows of every class in train + dev")
    splitter = (StratifiedKFold if classify else KFold)(n_splits=folds, shuffle=True, random_state=seed % 2**32)
    return [_fold(bundle, raw, targets, train, dev) for train, dev in splitter.split(raw, targets)]


def _fold(bundle: DataBundle, raw: np.ndarray, targets: np.ndarray, train: np.ndarray, dev: np.ndarray) -> DataBundle:
    old = bundle.preprocessor
    pre = Preprocessor.fit(raw[train], targets[train], input_columns=old.input_columns, task=old.task,
                           classes=old.classes, features=old.features, standardize=old.standardize,
                           categories=old.categories, target_column=old.target_column)
    empty_x = np.empty((0, *bundle.x_train.shape[1:]), dtype=bundle.x_train.dtype)
    return replace(bundle, preprocessor=pre,
                   x_train=pre.transform_inputs(raw[train]), y_train=pre.transform_target(targets[train]),
                   x_dev=pre.transform_inputs(raw[dev]), y_dev=pre.transform_target(targets[dev]),
                   x_test=empty_x, y_test=np.empty(0, dtype=bundle.y_train.dtype),
                   raw_train=raw[train].astype(np.float32), raw_dev=raw[dev].astype(np.float32),
                   raw_test=np.empty((0, raw.shape[1]), dtype=np.float32))
