"""Tabular data: rows of numbers and a target, from a generator, scikit-learn or a file.

:func:`load_tabular` loads every row (checked before anything else), splits them (seeded;
stratified for classification), fits the :class:`Preprocessor` on the training split and
returns a :class:`DataBundle` of float32 model inputs.

Example:
    >>> from neuralab.spec import DataSpec
    >>> bundle = load_tabular(DataSpec(dataset="circle", n_samples=100, features=["x1", "x2", "x1^2"]))
    >>> bundle.feature_names, bundle.input_columns, bundle.x_train.shape
    (['x1', 'x2', 'x1^2'], ['x1', 'x2'], (60, 3))
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np

from neuralab.data import file_sets, sklearn_sets, synthetic
from neuralab.data.checks import check_data
from neuralab.data.containers import DataBundle, RawData
from neuralab.data.features import RAW_COLUMNS
from neuralab.data.preprocess import Preprocessor
from neuralab.data.split import split_fractions, split_indices, split_sizes
from neuralab.errors import DataError
from neuralab.spec import DataSpec
from neuralab.spec.catalog import SYNTHETIC_DATASETS, family

log = logging.getLogger(__name__)

TABULAR_DATASETS = family("datasets", "data kind", "tabular")
RAW_LOADERS: dict[str, Callable[..., RawData]] = {
    name: {**synthetic.LOADERS, **sklearn_sets.LOADERS, **file_sets.LOADERS}[name] for name in TABULAR_DATASETS
}


def _features_problem(data: DataSpec) -> None:
    if data.dataset not in SYNTHETIC_DATASETS and list(data.features) != RAW_COLUMNS:
        raise DataError(f"data.features: {data.features} only applies to the synthetic 2-D data sets "
                        f"({', '.join(SYNTHETIC_DATASETS)}); remove it for {data.dataset!r}")


def load_raw(data: DataSpec, *, seed: int = 0) -> RawData:
    """Load and check all rows of ``data.dataset``, unsplit and unscaled.

    Example:
        >>> load_raw(DataSpec(dataset="moons", n_samples=20), seed=0).inputs.shape
        (20, 2)
    """
    if data.dataset not in RAW_LOADERS:
        raise DataError(f"data.dataset: {data.dataset!r} is not one of {', '.join(RAW_LOADERS)}")
    _features_problem(data)
    raw = RAW_LOADERS[data.dataset](data, seed=seed)
    check_data(raw.inputs, raw.targets, columns=raw.input_columns, target_name=raw.target_name,
               classes=raw.classes if raw.classes else None)
    return raw


def load_tabular(data: DataSpec, *, seed: int = 0) -> DataBundle:
    """Load, check, split (seeded; stratified for classification) and standardise tabular data.

    Args:
        data: the ``data`` section of an experiment spec.
        seed: seed of the synthetic generator and of the split.

    Raises:
        DataError: one line per problem (NaN/inf, no rows, one class, empty split, ...).
    """
    return bundle_from_raw(load_raw(data, seed=seed), data, seed=seed)


def bundle_from_raw(raw: RawData, data: DataSpec, *, seed: int = 0, sizes: tuple[int, int, int] | None = None,
                    preprocessor: Preprocessor | None = None) -> DataBundle:
    """Split ``raw`` (seeded, stratified for classes), fit the preprocessor on train, transform all splits.

    Args:
        sizes: (train, dev, test) rows instead of those of ``data.split``.
        preprocessor: transform with this one instead of fitting one on the training rows.
    """
    n = len(raw.targets)
    if raw.assignment is not None:  # the file says which row goes where (data.split_column)
        train, dev, test = (np.flatnonzero(raw.assignment == name) for name in ("train", "dev", "test"))
        if not len(train):
            raise DataError(f"data.split_column: no row says 'train' in {data.split_column!r}; training needs rows")
        sizes, fractions = (len(train), len(dev), len(test)), [len(train) / n, len(dev) / n, len(test) / n]
    else:
        fractions = split_fractions(n, data.split) if sizes is None else [size / n for size in sizes]
        sizes = sizes or split_sizes(n, data.split)
        train, dev, test = split_indices(raw.targets, sizes, seed=seed, stratify=bool(raw.classes))
    preprocessor = preprocessor or Preprocessor.fit(raw.inputs[train], raw.targets[train],
                                                    input_columns=raw.input_columns, task=raw.task,
                                                    classes=raw.classes, features=raw.features,
                                                    standardize=data.standardize)
    log.debug("loaded %s: %d train, %d dev, %d test", data.dataset, *sizes)
    parts = {name: index for name, index in (("train", train), ("dev", dev), ("test", test))}
    return DataBundle(
        dataset=data.dataset, task=raw.task, feature_names=preprocessor.feature_names,
        input_columns=list(raw.input_columns), classes=list(preprocessor.classes),
        **{f"x_{name}": preprocessor.transform_inputs(raw.inputs[index]) for name, index in parts.items()},
        **{f"y_{name}": preprocessor.transform_target(raw.targets[index]) for name, index in parts.items()},
        **{f"raw_{name}": raw.inputs[index].astype(np.float32) for name, index in parts.items()},
        preprocessor=preprocessor, split_fractions=fractions,
    )


def bundle_from_arrays(inputs: np.ndarray, targets: np.ndarray, *, data: DataSpec | None = None, seed: int = 0,
                       columns: list[str] | None = None, classes: list | None = None,
                       dev_fraction: float | None = None, preprocessor: Preprocessor | None = None) -> DataBundle:
    """A bundle from in-memory arrays: checked, split by ``data.split`` and preprocessed like a file's rows.

    Args:
        inputs: (n, d) numbers; targets: (n,) labels (classification) or numbers (regression).
        data: the data section whose task, split and standardize settings apply (default: defaults).
        seed: the split's seed.
        columns: input column names (default x1 … xd).
        classes: the labels, when ``targets`` are class indices already (``[]``: regression values);
            default: read the targets by ``data.task``, as a file's target column.
        dev_fraction: instead of ``data.split``, hold out this share of the rows as the dev split
            (stratified for classes) and keep no test split — a scikit-learn estimator's
            validation split; 0 trains on every row.
        preprocessor: transform with this fitted one instead of fitting one (more data for the
            same network).

    Example:
        >>> import numpy as np
        >>> bundle = bundle_from_arrays(np.arange(40.0).reshape(20, 2), np.arange(20) % 2)
        >>> bundle.task, bundle.n_train, bundle.input_columns
        ('binary', 12, ['x1', 'x2'])
        >>> bundle_from_arrays(np.arange(40.0).reshape(20, 2), np.arange(20) % 2, classes=["no", "yes"],
        ...                    dev_fraction=0.25).split_fractions
        [0.75, 0.25, 0.0]
    """
    from neuralab.data.file_sets import target_values

    data = data or DataSpec()
    inputs = np.asarray(inputs, dtype=np.float64)
    if inputs.ndim != 2:
        raise DataError(f"inputs: expected a 2-D array (rows, columns), got shape {inputs.shape}")
    columns = columns or [f"x{i + 1}" for i in range(inputs.shape[1])]
    if classes is None:
        values, classes = target_values(np.asarray(targets), "target", data.task)
    else:
        values = np.asarray(targets, dtype=np.int64 if classes else np.float64)
    raw = RawData(inputs, values, columns, list(classes))
    check_data(raw.inputs, raw.targets, columns=raw.input_columns, target_name=raw.target_name,
               classes=raw.classes if raw.classes else None)
    sizes = None
    if dev_fraction is not None:
        n_dev = math.ceil(dev_fraction * len(values))
        if n_dev >= len(values):
            raise DataError(f"validation_fraction: {dev_fraction:g} of {len(values)} rows leaves none to train on")
        sizes = (len(values) - n_dev, n_dev, 0)
    bundle = bundle_from_raw(raw, data, seed=seed, sizes=sizes, preprocessor=preprocessor)
    bundle.dataset = "arrays"
    return bundle
