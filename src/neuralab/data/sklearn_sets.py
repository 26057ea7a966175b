"""The small data sets bundled with scikit-learn (they load offline).

Example:
    >>> from neuralab.spec import DataSpec
    >>> raw = load_bundled(DataSpec(dataset="iris"))
    >>> raw.inputs.shape, raw.classes
    ((150, 4), ['setosa', 'versicolor', 'virginica'])
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from neuralab.data.containers import RawData
from neuralab.errors import DataError
from neuralab.spec import DataSpec
from neuralab.spec.catalog import family

SKLEARN_LOADERS = {
    "digits": "load_digits", "iris": "load_iris", "wine": "load_wine",
    "breast_cancer": "load_breast_cancer", "diabetes": "load_diabetes",
}
REGRESSION_DATASETS = tuple(name for name in family("datasets", "task", "regression") if name in SKLEARN_LOADERS)


def _sklearn_bunch(name: str):
    import sklearn.datasets

    return getattr(sklearn.datasets, SKLEARN_LOADERS[name])()


def _feature_names(bunch, width: int) -> list[str]:
    names = getattr(bunch, "feature_names", None)
    if names is None or len(names) != width:
        return [f"x{i + 1}" for i in range(width)]
    return [str(name) for name in names]


def _classes(bunch, targets: np.ndarray) -> list:
    names = getattr(bunch, "target_names", None)
    if names is None or len(names) != len(np.unique(targets)):
        return np.unique(targets).tolist()
    return np.asarray(names).tolist()


def load_bundled(data: DataSpec, *, seed: int = 0) -> RawData:
    """Load the scikit-learn data set ``data.dataset`` as raw inputs and targets.

    ``seed`` is unused (the data are fixed); it keeps the loader signature common.

    Raises:
        DataError: a ``data.task`` that does not fit the data set.

    Example:
        >>> load_bundled(DataSpec(dataset="diabetes")).task
        'regression'
    """
    name = data.dataset
    if name not in SKLEARN_LOADERS:
        raise DataError(f"data.dataset: {name!r} is not a bundled data set; "
                        f"bundled: {', '.join(SKLEARN_LOADERS)}")
    wanted = "regression" if name in REGRESSION_DATASETS else "classification"
    if data.task not in ("auto", wanted):
        raise DataError(f"data.task: {data.task!r} does not fit {name!r}, a {wanted} data set; use 'auto'")
    bunch = _sklearn_bunch(name)
    inputs = np.asarray(bunch.data, dtype=np.float64)
    columns = _feature_names(bunch, inputs.shape[1])
    if wanted == "regression":
        return RawData(inputs, np.asarray(bunch.target, dtype=np.float64), columns, [])
    targets = np.asarray(bunch.target)
    values, indices = np.unique(targets, return_inverse=True)
    classes = _classes(bunch, targets) if np.array_equal(values, np.arange(len(values))) else values.tolist()
    return RawData(inputs, indices.astype(np.int64), columns, classes)


LOADERS: dict[str, Callable[..., RawData]] = {name: load_bundled for name in SKLEARN_LOADERS}
