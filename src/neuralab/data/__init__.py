"""Data for neuralab: load, check, expand, split and standardise a data set.

``load_data(spec.data, seed=spec.seed)`` returns a :class:`DataBundle` with the
train/dev/test inputs, targets and the fitted preprocessor. The data set's *data kind*
(a catalog property: ``tabular`` here; sequence and text kinds register their own loader
in :data:`DATA_KINDS`) decides which loader makes it. Bad data raise
:class:`neuralab.errors.DataError` with one line per problem, before any training.

Example:
    >>> from neuralab.spec import DataSpec
    >>> bundle = load_data(DataSpec(dataset="iris"), seed=0)
    >>> bundle.task, bundle.n_train, bundle.n_dev, bundle.n_test, bundle.n_outputs
    ('multiclass', 90, 30, 30, 3)
"""
from __future__ import annotations

from collections.abc import Callable

from neuralab.data.containers import DataBundle, RawData
from neuralab.data.file_sets import read_inputs
from neuralab.data.preprocess import Preprocessor
from neuralab.data.split import split_fractions, split_sizes
from neuralab.data.tabular import RAW_LOADERS, bundle_from_arrays, load_raw, load_tabular
from neuralab.spec import DataSpec
from neuralab.spec.catalog import DATASETS

__all__ = ["load_data", "load_raw", "data_kind", "bundle_from_arrays", "DataBundle", "Preprocessor", "RawData", "read_inputs",
           "split_sizes", "split_fractions", "DATA_KINDS", "RAW_LOADERS"]

# data kind → loader (data section, seed) → DataBundle. A new kind registers here.
DATA_KINDS: dict[str, Callable[..., DataBundle]] = {"tabular": load_tabular}


def data_kind(dataset: str) -> str:
    """The data kind of a catalog data set (``tabular``, ``sequence``, ``text``)."""
    return DATASETS[dataset].properties["data kind"]


def load_data(data: DataSpec, *, seed: int = 0) -> DataBundle:
    """Load ``data.dataset`` with its kind's loader: checked, split (seeded) and preprocessed.

    Args:
        data: the ``data`` section of an experiment spec.
        seed: seed of any generator and of the split.

    Raises:
        DataError: one line per problem (NaN/inf, no rows, one class, empty split, ...).
    """
    return DATA_KINDS[data_kind(data.dataset)](data, seed=seed)
