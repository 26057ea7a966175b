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
from typing import Any

from neuralab.data.containers import DataBundle, RawData
from neuralab.data.file_sets import read_inputs
from neuralab.data.preprocess import FORMAT as PREPROCESSOR_FORMAT
from neuralab.data.preprocess import Preprocessor
from neuralab.data.sequences import load_sequence
from neuralab.data.split import split_fractions, split_sizes
from neuralab.data.tabular import RAW_LOADERS, bundle_from_arrays, load_raw, load_tabular
from neuralab.data.text import FORMAT as VOCABULARY_FORMAT
from neuralab.data.text import Vocabulary, load_text
from neuralab.data.tokenization import FORMAT as BPE_FORMAT
from neuralab.data.tokenization import BytePairTokenizer
from neuralab.errors import DataError, RunError
from neuralab.spec import DataSpec
from neuralab.spec.catalog import DATASETS

__all__ = ["load_data", "load_raw", "data_kind", "bundle_from_arrays", "DataBundle", "Preprocessor", "RawData", "read_inputs",
           "split_sizes", "split_fractions", "DATA_KINDS", "RAW_LOADERS", "Vocabulary", "BytePairTokenizer",
           "preprocessor_from_dict"]

# data kind → loader (data section, seed) → DataBundle. A new kind registers here.
DATA_KINDS: dict[str, Callable[..., DataBundle]] = {"tabular": load_tabular, "sequence": load_sequence,
                                                    "text": load_text}
# what turns raw inputs into model inputs, by the format its to_dict() writes (model.json)
PREPROCESSORS: dict[str, Any] = {PREPROCESSOR_FORMAT: Preprocessor, VOCABULARY_FORMAT: Vocabulary,
                                 BPE_FORMAT: BytePairTokenizer}


def preprocessor_from_dict(data: Any) -> Preprocessor | Vocabulary | BytePairTokenizer:
    """Rebuild a bundle's preprocessor (scaling, a character vocabulary or a BPE tokenizer) from its
    ``to_dict()``, validated.

    Example:
        >>> preprocessor_from_dict(Vocabulary(["a", "b"]).to_dict()).characters
        ['a', 'b']
    """
    found = data.get("format") if isinstance(data, dict) else None
    if found not in PREPROCESSORS:
        raise RunError(f"preprocessor: format {found!r} is not one of {', '.join(PREPROCESSORS)}")
    return PREPROCESSORS[found].from_dict(data)


def data_kind(dataset: str) -> str:
    """The data kind of a catalog data set (``tabular``, ``sequence``, ``text``)."""
    return DATASETS[dataset].properties["data kind"]


def load_data(data: DataSpec, *, seed: int = 0, vocabulary: Vocabulary | BytePairTokenizer | None = None) -> DataBundle:
    """Load ``data.dataset`` with its kind's loader: checked, split (seeded) and preprocessed.

    Args:
        data: the ``data`` section of an experiment spec.
        seed: seed of any generator and of the split.
        vocabulary: text only: encode with this vocabulary instead of building one (a resumed or
            fine-tuned language model keeps the vocabulary it was trained with).

    Raises:
        DataError: one line per problem (NaN/inf, no rows, one class, empty split, ...).
    """
    kind = data_kind(data.dataset)
    if vocabulary is not None:
        if kind != "text":
            raise DataError(f"data.dataset: {data.dataset!r} is {kind} data; a vocabulary encodes text only")
        return load_text(data, seed=seed, vocabulary=vocabulary)
    return DATA_KINDS[kind](data, seed=seed)
