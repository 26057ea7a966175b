"""Sequence tasks: the adding problem, copy memory and a noisy sine wave, each with its memoryless baseline.

Every task is generated from the seed (never downloaded) and says what a model without
memory would score — the *baseline* a recurrent network has to beat:

* ``adding`` (Hochreiter & Schmidhuber 1997): T pairs (value ~ U(0, 1), marker); exactly two
  markers, one in each half; the target is the sum of the two marked values. Predicting the
  mean sum 1 always gives MSE Var(U + U) = 1/6 ≈ 0.167.
* ``copy`` (copy memory, Arjovsky et al. 2016): 10 symbols out of 8, T − 1 blanks, a
  delimiter, 10 blanks; the output is blank for T + 10 steps and then the 10 symbols. Knowing
  the positions but not the symbols gives 10·ln 8 / (T + 20) nats per step.
* ``sine``: windows of T values of ``sin(2π t / 25) + noise·N(0, 1)`` — or of a numeric CSV
  column (``data.path``, ``data.target``) — and the next value to forecast; the series is
  split into contiguous train/dev/test blocks (a window never straddles two), standardised
  with the train block's mean and std; the baseline is the MSE of predicting the train mean.

Example:
    >>> from neuralab.spec import DataSpec
    >>> bundle = load_sequence(DataSpec(dataset="adding", n_samples=100, sequence_length=10), seed=0)
    >>> bundle.x_train.shape, bundle.y_train.shape, round(bundle.baseline_loss, 4)
    ((60, 10, 2), (60,), 0.1667)
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from neuralab.data.containers import DataBundle
from neuralab.data.preprocess import Preprocessor
from neuralab.data.split import split_fractions, split_indices, split_sizes
from neuralab.data.table import numeric_column, read_table
from neuralab.errors import DataError, did_you_mean
from neuralab.spec import DataSpec

COPY_SYMBOLS = 8  # symbols to remember
COPY_LENGTH = 10  # how many of them
COPY_CLASSES = ["blank", *(str(i) for i in range(1, COPY_SYMBOLS + 1)), "delimiter"]  # token ids 0 … 9
SINE_PERIOD = 25.0  # time steps per cycle of the generated wave


def adding_problem(n: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` adding-problem sequences: inputs (n, length, 2) float32 [value, marker], targets (n,) float32.

    Example:
        >>> x, y = adding_problem(3, 6, np.random.default_rng(0))
        >>> x[:, :, 1].sum(axis=1).tolist(), bool(np.allclose(y, (x[:, :, 0] * x[:, :, 1]).sum(axis=1)))
        ([2.0, 2.0, 2.0], True)
    """
    values = rng.uniform(0.0, 1.0, size=(n, length))
    half = length // 2
    first, second = rng.integers(0, half, size=n), rng.integers(half, length, size=n)
    markers = np.zeros((n, length))
    rows = np.arange(n)
    markers[rows, first] = markers[rows, second] = 1.0
    inputs = np.stack([values, markers], axis=-1).astype(np.float32)
    return inputs, (values[rows, first] + values[rows, second]).astype(np.float32)


def copy_memory(n: int, gap: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` copy-memory sequences of gap + 20 steps: input tokens (n, gap + 20), output tokens (n, gap + 20).

    Example:
        >>> x, y = copy_memory(1, 3, np.random.default_rng(0))
        >>> (x[0, :10] == y[0, -10:]).all(), x[0, 12], y[0, :13].tolist() == [0] * 13
        (np.True_, np.int64(9), True)
    """
    length = gap + 2 * COPY_LENGTH
    symbols = rng.integers(1, COPY_SYMBOLS + 1, size=(n, COPY_LENGTH))
    inputs = np.zeros((n, length), dtype=np.int64)
    inputs[:, :COPY_LENGTH] = symbols
    inputs[:, gap + COPY_LENGTH - 1] = len(COPY_CLASSES) - 1  # the delimiter: "now repeat them"
    targets = np.zeros((n, length), dtype=np.int64)
    targets[:, -COPY_LENGTH:] = symbols
    return inputs, targets


def copy_baseline(gap: int) -> float:
    """Cross-entropy per step of the best memoryless copy model: 10·ln 8 / (gap + 20) nats."""
    return COPY_LENGTH * math.log(COPY_SYMBOLS) / (gap + 2 * COPY_LENGTH)


def contiguous_blocks(length: int, fractions: Sequence[float]) -> list[tuple[int, int]]:
    """(start, stop) of the train, dev and test blocks of a series of ``length`` items, in order.

    Example:
        >>> contiguous_blocks(100, [0.9, 0.05, 0.05])
        [(0, 90), (90, 95), (95, 100)]
    """
    train = int(round(fractions[0] * length))
    dev = int(round(fractions[1] * length))
    return [(0, train), (train, train + dev), (train + dev, length)]


def series_windows(series: np.ndarray, length: int, *, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``length`` items and what follows each: (n, length) inputs and the next item(s).

    With ``stride`` 1 the target is the one next item (forecasting, (n,)); with ``stride``
    ``length`` the windows do not overlap and the target is the window shifted by one,
    (n, length) (a language model's next item at every step).

    Example:
        >>> x, y = series_windows(np.arange(7), 3, stride=3)
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2], [3, 4, 5]], [[1, 2, 3], [4, 5, 6]])
    """
    if stride == length:
        count = (len(series) - 1) // length
        return (series[:count * length].reshape(count, length),
                series[1:count * length + 1].reshape(count, length))
    count = max(len(series) - length, 0)
    starts = np.arange(count)[:, None] + np.arange(length)[None, :]
    return series[starts], series[np.arange(count) + length]


# --------------------------------------------------------------------------- loaders


def _iid_bundle(data: DataSpec, inputs: np.ndarray, targets: np.ndarray, *, seed: int, task: str,
                preprocessor: Preprocessor, baseline: float, rule: str, vocab_size: int | None,
                output_steps: str) -> DataBundle:
    """Split independent sequences at random (seeded), as rows of a table are split."""
    sizes = split_sizes(len(inputs), data.split)
    parts = dict(zip(("train", "dev", "test"), split_indices(np.zeros(len(inputs)), sizes, seed=seed,
                                                            stratify=False)))
    return _bundle(data, {name: (inputs[rows], targets[rows]) for name, rows in parts.items()}, task=task,
                   preprocessor=preprocessor, fractions=split_fractions(len(inputs), data.split),
                   baseline=baseline, rule=rule, vocab_size=vocab_size, output_steps=output_steps,
                   length=inputs.shape[1])


def _bundle(data: DataSpec, parts: dict[str, tuple[np.ndarray, np.ndarray]], *, task: str, preprocessor,
            fractions: list[float], baseline: float, rule: str, vocab_size: int | None, output_steps: str,
            length: int, kind: str = "sequence") -> DataBundle:
    return DataBundle(
        dataset=data.dataset, task=task, feature_names=list(preprocessor.feature_names),
        input_columns=list(preprocessor.input_columns), classes=list(preprocessor.classes),
        **{f"x_{name}": x for name, (x, _) in parts.items()}, **{f"y_{name}": y for name, (_, y) in parts.items()},
        **{f"raw_{name}": x for name, (x, _) in parts.items()},
        preprocessor=preprocessor, split_fractions=fractions, kind=kind, vocab_size=vocab_size,
        sequence_length=length, output_steps=output_steps, baseline_loss=baseline, baseline_rule=rule)


def _adding(data: DataSpec, seed: int) -> DataBundle:
    inputs, targets = adding_problem(data.n_samples, data.sequence_length, np.random.default_rng(seed))
    scaling = Preprocessor(["value", "marker"], [0.0, 0.0], [1.0, 1.0], task="regression", standardize=False)
    return _iid_bundle(data, inputs, targets, seed=seed, task="regression", preprocessor=scaling,
                       baseline=1.0 / 6.0, rule="predict the mean sum 1 for every sequence: Var(U + U) = 1/6",
                       vocab_size=None, output_steps="last")


def _copy(data: DataSpec, seed: int) -> DataBundle:
    inputs, targets = copy_memory(data.n_samples, data.sequence_length, np.random.default_rng(seed))
    tokens = Preprocessor(["token"], [0.0], [1.0], task="multiclass", classes=COPY_CLASSES, standardize=False)
    return _iid_bundle(data, inputs, targets, seed=seed, task="multiclass", preprocessor=tokens,
                       baseline=copy_baseline(data.sequence_length),
                       rule="blanks until the delimiter, then a uniform guess among the 8 symbols",
                       vocab_size=len(COPY_CLASSES), output_steps="every")


def _sine_series(data: DataSpec, seed: int) -> tuple[np.ndarray, str]:
    if data.path is None:
        rng = np.random.default_rng(seed)
        steps = np.arange(data.n_samples + data.sequence_length)
        wave = np.sin(2 * np.pi * steps / SINE_PERIOD + rng.uniform(0, 2 * np.pi))
        return wave + data.noise * rng.standard_normal(len(steps)), "sine"
    columns = read_table(data.path)
    names = list(columns)
    name = data.target or names[-1]
    if name not in columns:
        raise DataError(f"data.target: column {name!r} is not in {data.path!r}; its columns are "
                        f"{', '.join(names)}{did_you_mean(name, names)}")
    values = numeric_column(name, columns[name], what="series column")
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise DataError(f"data.path: column {name!r} has a missing or non-finite value in row {bad[0] + 1}")
    return values, name


def _sine(data: DataSpec, seed: int) -> DataBundle:
    series, column = _sine_series(data, seed)
    fractions = split_fractions(len(series), data.split)
    parts = {}
    for name, (start, stop) in zip(("train", "dev", "test"), contiguous_blocks(len(series), fractions)):
        if stop - start <= data.sequence_length:
            raise DataError(f"data.sequence_length: {data.sequence_length} leaves no window in the {name} block "
                            f"({stop - start} of {len(series)} values); use a shorter sequence_length or a "
                            "longer series (data.n_samples)")
        parts[name] = series_windows(series[start:stop], data.sequence_length)
    train_block = parts["train"][1]
    mean, std = (float(train_block.mean()), float(train_block.std()) or 1.0) if data.standardize else (0.0, 1.0)
    scaling = Preprocessor([column], [mean], [std], task="regression", standardize=data.standardize,
                           target_mean=mean if data.standardize else None, target_std=std if data.standardize else None)
    parts = {name: (((x - mean) / std)[..., None].astype(np.float32), ((y - mean) / std).astype(np.float32))
             for name, (x, y) in parts.items()}
    baseline = float(np.mean((parts["dev"][1] - parts["train"][1].mean()) ** 2))
    return _bundle(data, parts, task="regression", preprocessor=scaling, fractions=fractions, baseline=baseline,
                   rule="predict the train mean for every window (no memory of the series)", vocab_size=None,
                   output_steps="last", length=data.sequence_length)


SEQUENCE_TASKS: dict[str, Callable[[DataSpec, int], DataBundle]] = {"adding": _adding, "copy": _copy, "sine": _sine}


def load_sequence(data: DataSpec, *, seed: int = 0) -> DataBundle:
    """Generate (or read) a sequence task, split it and say its memoryless baseline.

    Raises:
        DataError: a CSV column that is not numeric, too short a series for the windows.
    """
    return SEQUENCE_TASKS[data.dataset](data, seed)
