"""Feature expansion of the synthetic 2-D inputs, TensorFlow Playground's seven features.

The raw columns are ``x1`` and ``x2``; each feature name maps to a function of them and
of the array library ``xp`` that holds them (numpy here; torch in an exported model, see
:mod:`neuralab.export`), so the one definition serves both.

Example:
    >>> import numpy as np
    >>> expand_features(np.array([[2.0, 3.0]]), ["x1", "x1*x2", "x2^2"]).tolist()
    [[2.0, 6.0, 9.0]]
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neuralab.errors import DataError

RAW_COLUMNS = ["x1", "x2"]

FEATURE_FUNCTIONS: dict[str, Callable[[Any, Any, Any], Any]] = {  # (x1, x2, array library) → column
    "x1": lambda x1, x2, xp: x1,
    "x2": lambda x1, x2, xp: x2,
    "x1^2": lambda x1, x2, xp: x1 * x1,
    "x2^2": lambda x1, x2, xp: x2 * x2,
    "x1*x2": lambda x1, x2, xp: x1 * x2,
    "sin(x1)": lambda x1, x2, xp: xp.sin(x1),
    "sin(x2)": lambda x1, x2, xp: xp.sin(x2),
}


def expand_features(raw: Any, features: Sequence[str], *, xp: Any = np) -> Any:
    """Turn raw ``(n, 2)`` columns x1, x2 into the ``(n, len(features))`` listed features.

    Args:
        raw: the raw inputs, column 0 is x1 and column 1 is x2.
        features: feature names from ``neuralab.spec.catalog.FEATURES``, in the wanted order.
        xp: the array library of ``raw``: numpy (default; raw is read as float64) or torch
            (raw is a tensor and the columns are computed in its dtype).

    Returns:
        One column per feature, in the order given: a float64 array (numpy) or a tensor.

    Example:
        >>> expand_features(np.zeros((3, 2)), ["sin(x1)"]).shape
        (3, 1)
    """
    if xp is np:
        raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim != 2 or raw.shape[1] != 2:
        raise DataError(f"inputs: expected 2 columns (x1, x2), got shape {raw.shape}")
    unknown = [name for name in features if name not in FEATURE_FUNCTIONS]
    if unknown:
        raise DataError(f"data.features: unknown {unknown}; allowed: {', '.join(FEATURE_FUNCTIONS)}")
    x1, x2 = raw[:, 0], raw[:, 1]
    columns = [FEATURE_FUNCTIONS[name](x1, x2, xp) for name in features]
    return xp.stack(columns, axis=1) if columns else xp.zeros((len(raw), 0))
