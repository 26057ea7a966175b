"""A confusion matrix as a matplotlib figure: true class down, predicted class across.

Example:
    >>> figure = plot_confusion_matrix([[5, 1], [0, 4]], ["cat", "dog"], title="test split")
    >>> figure.axes[0].get_xlabel()
    'predicted class'
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

MAX_LABELLED = 30  # classes beyond this are drawn without per-cell numbers


def plot_confusion_matrix(matrix: Sequence[Sequence[int]], classes: Sequence, *, title: str = "") -> Figure:
    """Counts per (true, predicted) class pair, each cell labelled with its count.

    Args:
        matrix: ``matrix[i][j]`` rows of true class ``i`` predicted as class ``j``.
        classes: the class labels, in index order.
        title: figure title (default none).
    """
    counts = np.asarray(matrix, dtype=np.int64)
    size = min(3 + 0.45 * len(classes), 12)
    figure = Figure(figsize=(size + 1, size), layout="constrained")
    axis = figure.subplots()
    image = axis.imshow(counts, cmap="Blues")
    figure.colorbar(image, ax=axis, label="rows")
    labels = [str(label) for label in classes]
    axis.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 6 else 0)
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    if len(labels) <= MAX_LABELLED:
        middle = counts.max() / 2 if counts.size else 0
        for (row, column), count in np.ndenumerate(counts):
            axis.text(column, row, str(count), ha="center", va="center",
                      color="white" if count > middle else "black", fontsize=8)
    if title:
        axis.set_title(title)
    return figure
