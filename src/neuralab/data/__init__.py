"""Data for neuralab: load, check, expand, split and standardise a data set.

``load_data(spec.data, seed=spec.seed)`` returns a :class:`DataBundle` with float32
train/dev/test inputs, targets and the fitted :class:`Preprocessor`. Bad data raise
:class:`neuralab.errors.DataError` with one line per problem, before any training.

Example:
    >>> from neuralab.spec import DataSpec
    >>> bundle = load_data(DataSpec(dataset="iris"), seed=0)
    >>> bundle.task, bundle.n_train, bundle.n_dev, bundle.n_test, bundle.n_outputs
    ('multiclass', 90, 30, 30, 3)
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from neuralab.catalog import DATASETS, SYNTHETIC_DATASETS
from neuralab.data import bundled, files, synthetic
from neuralab.data.bundle import DataBundle, RawData
from neuralab.data.checks import check_data
from neuralab.data.features import RAW_COLUMNS
from neuralab.data.files import read_inputs
from neuralab.data.preprocess import Preprocessor
from neuralab.data.split import split_fractions, split_indices, split_sizes
from neuralab.errors import DataError
from neuralab.spec import DataSpec

__all__ = ["load_data", "DataBundle", "Preprocessor", "RawData", "read_inputs", "split_sizes",
           "split_fractions", "DATASET_LOADERS"]

logger = logging.getLogger(__name__)

DATASET_LOADERS: dict[str, Callable[..., RawData]] = {
    name: {**synthetic.LOADERS, **bundled.LOADERS, **files.LOADERS}[name] for name in DATASETS
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
    if data.dataset not in DATASET_LOADERS:
        raise DataError(f"data.dataset: {data.dataset!r} is not one of {', '.join(DATASET_LOADERS)}")
    _features_problem(data)
    raw = DATASET_LOADERS[data.dataset](data, seed=seed)
    check_data(raw.inputs, raw.targets, columns=raw.input_columns, target_name=raw.target_name,
               classes=raw.classes if raw.classes else None)
    return raw


def load_data(data: DataSpec, *, seed: int = 0) -> DataBundle:
    """Load, check, split (seeded; stratified for classification) and standardise data.

    Args:
        data: the ``data`` section of an experiment spec.
        seed: seed of the synthetic generator and of the split.

    Raises:
        DataError: one line per problem (NaN/inf, no rows, one class, empty split, ...).

    Example:
        >>> bundle = load_data(DataSpec(dataset="circle", n_samples=100, features=["x1", "x2", "x1^2"]))
        >>> bundle.feature_names, bundle.input_columns, bundle.x_train.shape
        (['x1', 'x2', 'x1^2'], ['x1', 'x2'], (60, 3))
    """
    raw = load_raw(data, seed=seed)
    n = len(raw.targets)
    if raw.assignment is not None:  # the file says which row goes where
        train, dev, test = (np.flatnonzero(raw.assignment == name) for name in ("train", "dev", "test"))
        if not len(train):
            raise DataError(f"data.split_column: no row says 'train' in {data.split_column!r}; training needs rows")
        sizes, fractions = (len(train), len(dev), len(test)), [len(train) / n, len(dev) / n, len(test) / n]
    else:
        sizes, fractions = split_sizes(n, data.split), split_fractions(n, data.split)
        train, dev, test = split_indices(raw.targets, sizes, seed=seed, stratify=bool(raw.classes))
    preprocessor = Preprocessor.fit(raw.inputs[train], raw.targets[train], input_columns=raw.input_columns,
                                    task=raw.task, classes=raw.classes, features=raw.features,
                                    standardize=data.standardize)
    logger.debug("loaded %s: %d train, %d dev, %d test", data.dataset, *sizes)
    parts = {name: index for name, index in (("train", train), ("dev", dev), ("test", test))}
    return DataBundle(
        dataset=data.dataset, task=raw.task, feature_names=preprocessor.feature_names,
        input_columns=list(raw.input_columns), classes=list(preprocessor.classes),
        **{f"x_{name}": preprocessor.transform_inputs(raw.inputs[index]) for name, index in parts.items()},
        **{f"y_{name}": preprocessor.transform_target(raw.targets[index]) for name, index in parts.items()},
        **{f"raw_{name}": raw.inputs[index].astype(np.float32) for name, index in parts.items()},
        preprocessor=preprocessor, split_fractions=fractions,
    )
