"""Synthetic 2-D data sets: TensorFlow Playground's generators, plus scikit-learn's moons.

Each generator follows TF Playground's ``dataset.ts`` (noise ``n`` in [0, 0.5]):

* circle: half the points at radius U(0, 2.5), half at U(3.5, 5), uniform angle; the
  label is "inside radius 2.5" of the point moved by U(-5, 5)·noise in x and y, so noise
  flips labels near the boundary and never moves the points.
* xor: x, y ~ U(-5, 5), each pushed 0.3 away from its axis; label sign(x·y) of the point
  moved by U(-5, 5)·noise (label-flip noise again).
* gauss: blobs N(centre, variance) with variance 0.5 + 7·noise (0.5 → 4); two classes keep
  TFP's centres (2, 2) (class 1) and (-2, -2) (class 0); K > 2 blobs sit on a circle of
  radius 2√2 ≈ 2.83.
* spiral: arms of m points, r = i/m·5, t = 1.75·(i/m)·2π + offset, jittered by
  U(-1, 1)·noise in x and y; class c's offset is 2π·((c + 1) mod K)/K (K = 2: class 1 at
  0 and class 0 at π, as in TFP).
* plane: x, y ~ U(-6, 6); target (x + y)/10 at the point moved by U(-6, 6)·noise — TFP's
  ``regressPlane``, a linear map of [-10, 10] onto [-1, 1] that is not clamped (the corners
  go past ±1; only ``regressGaussian`` clamps).
* multi_gauss: x, y ~ U(-6, 6); six centres (±4 or 0, ±2.5) with alternating signs;
  target sign·clamp(1 − d/2, 0, 1) of the centre with the largest absolute value, at the
  point moved by U(-6, 6)·noise.
* moons: ``sklearn.datasets.make_moons(noise=noise, random_state=seed)`` (noise is the
  std of added Gaussian noise).

TFP's label −1 is class 0 and +1 is class 1.

Example:
    >>> from neuralab.spec import DataSpec
    >>> raw = load_synthetic(DataSpec(dataset="circle", n_samples=10), seed=0)
    >>> raw.inputs.shape, raw.input_columns, raw.classes
    ((10, 2), ['x1', 'x2'], [0, 1])
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from neuralab.spec.catalog import DATASETS, SYNTHETIC_DATASETS, family
from neuralab.data.containers import RawData
from neuralab.data.features import RAW_COLUMNS
from neuralab.errors import DataError
from neuralab.spec import DataSpec

MULTICLASS_DATASETS = family("datasets", "classes", "n_classes")
REGRESSION_DATASETS = tuple(name for name in family("datasets", "task", "regression") if name in SYNTHETIC_DATASETS)
GAUSS_RADIUS = 2 * math.sqrt(2)
MULTI_GAUSS_CENTRES = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
                                [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=np.float64)

Points = tuple[np.ndarray, np.ndarray]


def _group_sizes(n: int, groups: int) -> list[int]:
    """Split ``n`` into ``groups`` near-equal counts (the first ones get the extra)."""
    return [len(part) for part in np.array_split(np.arange(n), groups)]


def _uniform_offset(rng: np.random.Generator, n: int, scale: float, noise: float) -> np.ndarray:
    return rng.uniform(-scale, scale, size=(n, 2)) * noise


def circle(n: int, *, noise: float = 0.0, rng: np.random.Generator) -> Points:
    """Inner disc (class 1) and outer ring (class 0); noise flips labels near radius 2.5.

    Example:
        >>> points, labels = circle(4, rng=np.random.default_rng(0))
        >>> labels.tolist()
        [1, 1, 0, 0]
    """
    n_inner, n_outer = _group_sizes(n, 2)
    radius = np.concatenate([rng.uniform(0, 2.5, n_inner), rng.uniform(3.5, 5.0, n_outer)])
    angle = rng.uniform(0, 2 * np.pi, n)
    points = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    moved = points + _uniform_offset(rng, n, 5.0, noise)
    labels = (np.hypot(moved[:, 0], moved[:, 1]) < 2.5).astype(np.int64)
    return points, labels


def xor(n: int, *, noise: float = 0.0, rng: np.random.Generator) -> Points:
    """Quadrants: class 1 where x·y ≥ 0 (of the noised point), class 0 elsewhere.

    Example:
        >>> points, labels = xor(100, rng=np.random.default_rng(0))
        >>> bool(np.abs(points).min() >= 0.3)
        True
    """
    points = rng.uniform(-5, 5, size=(n, 2))
    points += np.where(points > 0, 0.3, -0.3)
    moved = points + _uniform_offset(rng, n, 5.0, noise)
    labels = (moved[:, 0] * moved[:, 1] >= 0).astype(np.int64)
    return points, labels


def gauss_centres(n_classes: int) -> np.ndarray:
    """Return the blob centres: (-2, -2), (2, 2) for two classes, else a circle of radius 2√2.

    Example:
        >>> gauss_centres(2).tolist()
        [[-2.0, -2.0], [2.0, 2.0]]
    """
    if n_classes == 2:
        return np.array([[-2.0, -2.0], [2.0, 2.0]])
    angles = 5 * np.pi / 4 + 2 * np.pi * np.arange(n_classes) / n_classes
    return GAUSS_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def gauss(n: int, *, noise: float = 0.0, rng: np.random.Generator, n_classes: int = 2) -> Points:
    """Gaussian blobs, one per class; the variance grows from 0.5 to 4 with noise.

    Example:
        >>> points, labels = gauss(90, rng=np.random.default_rng(0), n_classes=3)
        >>> np.bincount(labels).tolist()
        [30, 30, 30]
    """
    std = math.sqrt(0.5 + noise * (4.0 - 0.5) / 0.5)
    labels = np.repeat(np.arange(n_classes), _group_sizes(n, n_classes))
    points = gauss_centres(n_classes)[labels] + rng.normal(0.0, std, size=(n, 2))
    return points, labels.astype(np.int64)


def spiral(n: int, *, noise: float = 0.0, rng: np.random.Generator, n_classes: int = 2) -> Points:
    """Interleaved spiral arms, one per class, jittered by U(-1, 1)·noise.

    Example:
        >>> points, labels = spiral(6, rng=np.random.default_rng(0))
        >>> np.linalg.norm(points, axis=1).round(2).tolist(), labels.tolist()
        ([0.0, 1.67, 3.33, 0.0, 1.67, 3.33], [0, 0, 0, 1, 1, 1])
    """
    parts = []
    for label, size in enumerate(_group_sizes(n, n_classes)):
        step = np.arange(size) / size
        offset = 2 * np.pi * ((label + 1) % n_classes) / n_classes
        radius, angle = step * 5.0, 1.75 * step * 2 * np.pi + offset
        parts.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
    points = np.concatenate(parts) + rng.uniform(-1, 1, size=(n, 2)) * noise
    labels = np.repeat(np.arange(n_classes), _group_sizes(n, n_classes))
    return points, labels.astype(np.int64)


def plane(n: int, *, noise: float = 0.0, rng: np.random.Generator) -> Points:
    """A tilted plane: target (x + y)/10 of the noised point, not clamped (TF Playground's regressPlane).

    Example:
        >>> points, targets = plane(50, rng=np.random.default_rng(0))
        >>> bool(np.allclose(targets, points.sum(axis=1) / 10))
        True
    """
    points = rng.uniform(-6, 6, size=(n, 2))
    moved = points + _uniform_offset(rng, n, 6.0, noise)
    return points, moved.sum(axis=1) / 10.0


def multi_gauss(n: int, *, noise: float = 0.0, rng: np.random.Generator) -> Points:
    """Six signed bumps; the target is the strongest bump's sign·clamp(1 − d/2, 0, 1).

    Example:
        >>> points, targets = multi_gauss(50, rng=np.random.default_rng(0))
        >>> bool(targets.min() >= -1 and targets.max() <= 1)
        True
    """
    points = rng.uniform(-6, 6, size=(n, 2))
    moved = points + _uniform_offset(rng, n, 6.0, noise)
    distance = np.linalg.norm(moved[:, None, :] - MULTI_GAUSS_CENTRES[None, :, :2], axis=2)
    values = MULTI_GAUSS_CENTRES[:, 2] * np.clip(1.0 - distance / 2.0, 0.0, 1.0)
    strongest = np.argmax(np.abs(values), axis=1)
    return points, values[np.arange(n), strongest]


def moons(n: int, *, noise: float = 0.0, seed: int = 0) -> Points:
    """Two interleaving half circles from scikit-learn; noise is a Gaussian std.

    Example:
        >>> points, labels = moons(10, seed=0)
        >>> points.shape, sorted(set(labels.tolist()))
        ((10, 2), [0, 1])
    """
    from sklearn.datasets import make_moons

    points, labels = make_moons(n_samples=n, noise=noise, random_state=seed % 2**32)
    return points, labels.astype(np.int64)


def _generate(name: str, data: DataSpec, seed: int) -> Points:
    rng = np.random.default_rng(seed)
    if name == "moons":
        return moons(data.n_samples, noise=data.noise, seed=seed)
    if name in MULTICLASS_DATASETS:
        return GENERATORS[name](data.n_samples, noise=data.noise, rng=rng, n_classes=data.n_classes)
    return GENERATORS[name](data.n_samples, noise=data.noise, rng=rng)


def _task_problems(name: str, data: DataSpec) -> list[str]:
    regression = name in REGRESSION_DATASETS
    problems = []
    if not regression and data.n_classes > 2 and name not in MULTICLASS_DATASETS:
        problems.append(f"data.n_classes: {data.n_classes} is not possible for {name!r}, which has two classes; "
                        f"only {' and '.join(MULTICLASS_DATASETS)} support more")
    wanted = "regression" if regression else "classification"
    if data.task not in ("auto", wanted):
        problems.append(f"data.task: {data.task!r} does not fit {name!r}, a {wanted} data set; use 'auto'")
    return problems


def load_synthetic(data: DataSpec, *, seed: int = 0) -> RawData:
    """Generate ``data.n_samples`` points of the synthetic data set ``data.dataset``.

    Raises:
        DataError: n_classes > 2 for a two-class set, or a task that does not fit.

    Example:
        >>> load_synthetic(DataSpec(dataset="spiral", n_samples=30, n_classes=3), seed=1).classes
        [0, 1, 2]
    """
    name = data.dataset
    if name not in GENERATORS and name != "moons":
        raise DataError(f"data.dataset: {name!r} is not a synthetic data set")
    problems = _task_problems(name, data)
    if problems:
        raise DataError(problems)
    points, targets = _generate(name, data, seed)
    if name in REGRESSION_DATASETS:
        return RawData(points, targets.astype(np.float64), list(RAW_COLUMNS), [], list(data.features))
    n_classes = data.n_classes if name in MULTICLASS_DATASETS else 2
    return RawData(points, targets, list(RAW_COLUMNS), list(range(n_classes)), list(data.features))


GENERATORS: dict[str, Callable[..., Points]] = {
    "circle": circle, "xor": xor, "gauss": gauss, "spiral": spiral,
    "plane": plane, "multi_gauss": multi_gauss,
}

LOADERS: dict[str, Callable[..., RawData]] = {
    name: load_synthetic for name, entry in DATASETS.items() if entry.properties["kind"] == "synthetic 2-D"
}
