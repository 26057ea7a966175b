"""Text (categorical) feature columns: found in a file, one-hot encoded, their vocabulary kept.

A feature column whose cells are mostly not numbers (``red``, ``green``…) is categorical:
each of its values becomes an indicator column ``colour=red``, ``colour=green`` (scikit-learn's
``OneHotEncoder``), and its vocabulary — the sorted values — is saved in the run's
preprocessor, so predictions encode new rows the same way. A column that is mostly numbers
with a few words stays numeric and its first word is reported (a typo, not a category). A
text column with a value per row (an id, free text) is refused with the hint to drop it
(``data.drop``).

Example:
    >>> import numpy as np
    >>> table = {"size": np.array(["1", "2", "3"], dtype=object),
    ...          "colour": np.array(["red", "blue", "red"], dtype=object)}
    >>> vocabulary = find_categories(table, ["size", "colour"])
    >>> vocabulary, encoded_names(["size", "colour"], vocabulary)
    ({'colour': ['blue', 'red']}, ['size', 'colour=blue', 'colour=red'])
    >>> encode_columns(table, ["size", "colour"], vocabulary).tolist()
    [[1.0, 0.0, 1.0], [2.0, 1.0, 0.0], [3.0, 0.0, 1.0]]
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from neuralab.data.table import is_missing, is_number_text, numeric_column
from neuralab.errors import DataError

MAX_CATEGORIES = 100  # more distinct words than this is an id or free text, not a category
NUMERIC_SHARE = 0.5  # a column with at least half its cells numbers is numeric (its words are typos)


def is_categorical(values: np.ndarray) -> bool:
    """True when most non-empty cells of a column are not numbers.

    Example:
        >>> is_categorical(np.array(["a", "b", "1"], dtype=object)), is_categorical(np.array(["1", "2", "x"], dtype=object))
        (True, False)
    """
    if values.dtype != object:
        return False
    cells = [value for value, missing in zip(values, is_missing(values)) if not missing]
    if not cells:
        return False
    numbers = sum(is_number_text(cell) for cell in cells)
    return numbers < NUMERIC_SHARE * len(cells)


def find_categories(table: Mapping[str, np.ndarray], columns: Sequence[str]) -> dict[str, list[str]]:
    """The vocabulary (sorted distinct values) of each categorical column among ``columns``.

    Raises:
        DataError: a categorical column with empty cells, or with so many values that it is an
            id or free text (one line per column, with the ``data.drop`` hint).
    """
    vocabulary, problems = {}, []
    for name in columns:
        values = table[name]
        if not is_categorical(values):
            continue
        missing = is_missing(values)
        if missing.any():
            rows = ", ".join(map(str, (np.flatnonzero(missing)[:5] + 1).tolist()))
            problems.append(f"feature column {name!r}: {missing.sum()} of {len(values)} rows are empty (row {rows}); "
                            "fill them or leave the column out with data.drop")
            continue
        words = sorted({str(value).strip() for value in values})
        if len(words) > MAX_CATEGORIES or (len(words) == len(values) and len(values) >= 20):
            problems.append(f"feature column {name!r}: holds text with {len(words)} distinct values in "
                            f"{len(values)} rows (an id or free text?); leave it out with data.drop: [{name}]")
            continue
        vocabulary[name] = words
    if problems:
        raise DataError(problems)
    return vocabulary


def encoded_names(columns: Sequence[str], categories: Mapping[str, Sequence[str]]) -> list[str]:
    """The model's input columns: a numeric column as is, a categorical one as ``name=value`` per value."""
    names = []
    for name in columns:
        names += [f"{name}={value}" for value in categories[name]] if name in categories else [name]
    return names


def encode_columns(table: Mapping[str, np.ndarray], columns: Sequence[str],
                   categories: Mapping[str, Sequence[str]]) -> np.ndarray:
    """The ``(n, len(encoded_names))`` matrix of ``columns``: numbers as they are, words one-hot (float32,
    or float64 when a numeric column needs it — a file's text columns parse as float64).

    Raises:
        DataError: a numeric column holding a word, or a value outside a column's vocabulary
            (one line per column).
    """
    parts, problems = [], []
    for name in columns:
        try:
            if name in categories:
                parts.append(_one_hot(name, table[name], categories[name]))
            else:
                parts.append(numeric_column(name, table[name], what="feature column")[:, None])
        except DataError as error:
            problems += error.problems
    if problems:
        raise DataError(problems)
    n_rows = len(next(iter(table.values()))) if table else 0
    if not parts:
        return np.empty((n_rows, 0), dtype=np.float32)
    wide = any(part.dtype == np.float64 for part in parts)  # float32 unless a column needs float64 (the checks say)
    return np.concatenate(parts, axis=1, dtype=np.float64 if wide else np.float32)


def _one_hot(name: str, values: np.ndarray, vocabulary: Sequence[str]) -> np.ndarray:
    from sklearn.preprocessing import OneHotEncoder

    words = np.array([str(value).strip() if value is not None else "" for value in values], dtype=object)
    unknown = sorted(set(words.tolist()) - set(vocabulary))
    if unknown:
        shown = ", ".join(repr(word) for word in unknown[:5]) + (", …" if len(unknown) > 5 else "")
        raise DataError(f"feature column {name!r}: value(s) {shown} were not in the training data; "
                        f"known: {', '.join(vocabulary)}")
    encoder = OneHotEncoder(categories=[list(vocabulary)], sparse_output=False, dtype=np.float32)
    return encoder.fit(np.array(vocabulary, dtype=object)[:, None]).transform(words[:, None])
