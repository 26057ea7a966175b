"""Pictures of a network's health: gradient norms per layer over time, activation
histograms, and learning curves. Each function takes plain data and returns a figure.

Example:
    >>> from neuralab.viz.health_plots import plot_gradient_heatmap
    >>> samples = [{"step": 1, "grad_norm": [0.1, 1.0]}, {"step": 21, "grad_norm": [0.01, 0.5]}]
    >>> figure = plot_gradient_heatmap(samples, ["hidden1", "output"])
    >>> len(figure.axes)
    2
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralab.viz.plots import Figure  # the Agg backend is chosen there


def plot_gradient_heatmap(samples: Sequence[dict[str, Any]], layer_names: Sequence[str], *,
                          title: str = "gradient norm per layer (log10)") -> Figure:
    """A layer × step heat map of log10 gradient norms; vanishing layers show as dark rows.

    Args:
        samples: recorded samples, each with ``step`` and ``grad_norm`` (one value per layer, None if non-finite).
        layer_names: the layers in order (input side first).
        title: figure title.
    """
    values = np.array([[math.log10(g) if g and g > 0 else np.nan for g in s["grad_norm"]] for s in samples],
                      dtype=float).T if samples else np.full((len(layer_names), 1), np.nan)  # (layers, samples)
    figure = Figure(figsize=(9, 1.2 + 0.35 * len(layer_names)), layout="constrained")
    axis = figure.subplots()
    steps = [s["step"] for s in samples] or [0]
    # One sample (or one step) spans no width: give it half a step each side, or the axis has
    # identical limits (matplotlib warns) and the column does not show.
    first, last = (steps[0], steps[-1]) if steps[-1] > steps[0] else (steps[0] - 0.5, steps[0] + 0.5)
    image = axis.imshow(values, aspect="auto", interpolation="nearest", cmap="viridis",
                        extent=(first, last, len(layer_names) - 0.5, -0.5))
    axis.set_yticks(range(len(layer_names)), labels=list(layer_names))
    axis.set_xlabel("step")
    axis.set_title(title)
    figure.colorbar(image, ax=axis, label="log10 ‖∇W‖")
    return figure


def plot_activation_histograms(histograms: dict[str, Any] | None, layer_names: Sequence[str], *,
                               activations: Sequence[str | None] = ()) -> Figure:
    """One panel per hidden layer: the activations' histogram at the first and the latest sample.

    Args:
        histograms: ``{"first": {"step", "layers": [{"range", "counts"} | None]}, "last": {...}}``.
        layer_names: names of the layers, in the order of ``layers``.
        activations: activation name per layer, for the panel titles.
    """
    histograms = histograms or {}
    snapshots = [(label, histograms.get(key)) for key, label in (("first", "start"), ("last", "end"))]
    shown = [i for i in range(len(layer_names))
             if any(snap and i < len(snap["layers"]) and snap["layers"][i] for _, snap in snapshots)]
    columns = min(len(shown), 4) or 1
    rows = max(math.ceil(len(shown) / columns), 1)
    figure = Figure(figsize=(3.2 * columns, 2.4 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    for axis, index in zip(axes, shown):
        for label, snap in snapshots:
            layer = snap["layers"][index] if snap and index < len(snap["layers"]) else None
            if layer is None or layer["range"][0] is None or layer["range"][1] is None:
                continue
            edges = np.linspace(layer["range"][0], layer["range"][1], len(layer["counts"]) + 1)
            axis.stairs(layer["counts"], edges, fill=label == "start", alpha=0.4 if label == "start" else 1.0,
                        label=f"{label} (step {snap['step']})")
        activation = activations[index] if index < len(activations) and activations[index] else ""
        axis.set_title(f"{layer_names[index]} {activation}".strip(), fontsize=9)
        axis.tick_params(labelsize=7)
        axis.legend(fontsize=6)
    for axis in axes[len(shown):]:
        axis.set_visible(False)
    figure.suptitle("activation histograms (one batch)")
    return figure


def plot_learning_curve(n_train: Sequence[int], train_error: Sequence[float], dev_error: Sequence[float], *,
                        optimal_error: float = 0.0, train_dev_error: float | None = None,
                        title: str = "learning curve") -> Figure:
    """Train and dev error against the number of training rows, with the optimal error as a line."""
    figure = Figure(figsize=(6, 4), layout="constrained")
    axis = figure.subplots()
    axis.plot(n_train, train_error, "o-", label="train")
    axis.plot(n_train, dev_error, "s--", label="dev")
    axis.axhline(optimal_error, color="grey", linestyle=":", label=f"optimal error {optimal_error:.1%}")
    if train_dev_error is not None:
        axis.plot([n_train[-1]], [train_dev_error], "D", color="tab:red", label="train-dev")
    axis.set_xlabel("training rows")
    axis.set_ylabel("error")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend()
    return figure
