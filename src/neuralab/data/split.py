"""Train/dev/test split sizes and seeded (stratified) index splits.

Example:
    >>> split_sizes(500, "auto")
    (300, 100, 100)
"""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

from neuralab.errors import DataError

logger = logging.getLogger(__name__)

SMALL_DATA = 10_000
BIG_DATA = 1_000_000
SMALL_FRACTION = 0.20
BIG_FRACTION = 0.01


def auto_fractions(n: int) -> list[float]:
    """Return the automatic ``[train, dev, test]`` fractions for ``n`` samples.

    The rule (the lecture's 60/20/20 for small data, 98/1/1 for very big data):

    * ``n <= 10,000``: 60/20/20;
    * ``n >= 1,000,000``: 98/1/1;
    * in between, the dev and the test fraction are each interpolated log-linearly:
      ``log10(fraction)`` is linear in ``log10(n)``, from 0.20 at 10,000 to 0.01 at
      1,000,000 (so 0.0447 at 100,000). The fractions fall and the dev/test *counts*
      still grow with ``n``.

    Example:
        >>> [round(f, 4) for f in auto_fractions(100_000)]
        [0.9106, 0.0447, 0.0447]
    """
    if n <= SMALL_DATA:
        held_out = SMALL_FRACTION
    elif n >= BIG_DATA:
        held_out = BIG_FRACTION
    else:
        position = (math.log10(n) - math.log10(SMALL_DATA)) / (math.log10(BIG_DATA) - math.log10(SMALL_DATA))
        held_out = SMALL_FRACTION * (BIG_FRACTION / SMALL_FRACTION) ** position
    return [1.0 - 2 * held_out, held_out, held_out]


def split_fractions(n: int, split: str | Sequence[float] = "auto") -> list[float]:
    """Return the ``[train, dev, test]`` fractions used for ``n`` samples and ``split``.

    Example:
        >>> split_fractions(50, [0.8, 0.1, 0.1])
        [0.8, 0.1, 0.1]
    """
    if isinstance(split, str):
        if split != "auto":
            raise DataError(f"data.split: {split!r} must be 'auto' or three fractions [train, dev, test]")
        return auto_fractions(n)
    fractions = [float(f) for f in split]
    if (len(fractions) != 3 or any(not 0 <= f < 1 for f in fractions) or not (fractions[0] > 0 and fractions[2] > 0)
            or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6)):
        raise DataError(f"data.split: {fractions} must be three fractions below 1 that sum to 1: train and test "
                        f"above 0, dev 0 (no dev split) or above")
    return fractions


def split_sizes(n: int, split: str | Sequence[float] = "auto") -> tuple[int, int, int]:
    """Return ``(n_train, n_dev, n_test)`` for ``n`` samples; they sum to ``n``.

    ``split`` is ``"auto"`` (see :func:`auto_fractions`: 60/20/20 up to 10,000 samples,
    98/1/1 from 1,000,000, log-linear in between) or ``[train, dev, test]`` fractions.
    Dev and test are rounded; train takes the rest. A dev fraction of 0 means no dev split
    (TF Playground's train/test split): ``split_sizes(500, [0.5, 0, 0.5])`` is (250, 0, 250).

    Raises:
        DataError: a split would hold no samples.

    Example:
        >>> split_sizes(2_000_000, "auto")
        (1960000, 20000, 20000)
    """
    fractions = split_fractions(n, split)
    n_dev = int(round(n * fractions[1]))
    n_test = int(round(n * fractions[2]))
    sizes = (n - n_dev - n_test, n_dev, n_test)
    empty = [name for name, size, fraction in zip(("train", "dev", "test"), sizes, fractions) if size <= 0 and fraction > 0]
    if empty:
        shown = "/".join(f"{f:g}" for f in fractions)
        raise DataError([f"data.split: the {name} split would have 0 samples ({n} samples, fractions {shown}) "
                         f"— use more data or larger {name} fraction in data.split" for name in empty])
    return sizes


def split_indices(targets: np.ndarray, sizes: Sequence[int], *, seed: int = 0,
                  stratify: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return seeded train, dev and test index arrays of the given sizes.

    Dev and test are drawn from the same shuffled held-out pool. With ``stratify`` the
    class ratios of ``targets`` are kept in each split (±1 sample);
    when a class has a single member, it falls back to a plain
    seeded shuffle and logs it.

    Example:
        >>> train, dev, test = split_indices(np.arange(10) % 2, (6, 2, 2), seed=1, stratify=True)
        >>> sorted(np.concatenate([train, dev, test]).tolist()) == list(range(10))
        True
    """
    n_train, n_dev, n_test = (int(size) for size in sizes)
    n = len(targets)
    if n_train + n_dev + n_test != n:
        raise DataError(f"split: sizes {tuple(sizes)} do not add up to the {n} samples")
    if stratify:
        try:
            return _stratified(np.asarray(targets), n_dev, n_test, seed=seed)
        except ValueError as error:
            logger.info("stratified split impossible (%s); using a plain seeded shuffle", error)
    order = np.random.default_rng(seed).permutation(n)
    return order[:n_train], order[n_train:n_train + n_dev], order[n_train + n_dev:]


def _stratified(targets: np.ndarray, n_dev: int, n_test: int, *, seed: int) -> tuple[np.ndarray, ...]:
    # Spread every class evenly along one seeded ordering, then cut it into train | dev | test:
    # each split then holds each class in proportion (±1 sample). Plain numpy, so a cold
    # start does not pay scikit-learn's import (~0.6 s).
    rng = np.random.default_rng(seed)
    keys = np.empty(len(targets))
    for label in np.unique(targets):
        members = np.flatnonzero(targets == label)
        if len(members) < 2:
            raise ValueError(f"class {label!r} has {len(members)} member")
        ranks = rng.permutation(len(members))
        keys[members] = (ranks + rng.random(len(members))) / len(members)
    order = np.argsort(keys, kind="stable")
    n_train = len(targets) - n_dev - n_test
    parts = order[:n_train], order[n_train:n_train + n_dev], order[n_train + n_dev:]
    return tuple(rng.permutation(part) for part in parts)
