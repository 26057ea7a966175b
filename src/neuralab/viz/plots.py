"""Training curves and the learning-rate schedule as matplotlib figures.

Example:
    >>> from neuralab.viz.plots import plot_curves
    >>> history = [{"epoch": 1, "train_loss": 1.0, "dev_loss": 1.1, "train_error": 0.5, "dev_error": 0.6},
    ...            {"epoch": 2, "train_loss": 0.5, "dev_loss": 0.7, "train_error": 0.2, "dev_error": 0.3}]
    >>> figure = plot_curves(history, title="demo")
    >>> len(figure.axes)
    2
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI

from matplotlib.figure import Figure  # noqa: E402


def plot_curves(history: Sequence[dict[str, float]], *, title: str = "", best_epoch: int | None = None,
                error_label: str = "error") -> Figure:
    """Loss (left) and error (right) per epoch for the train and dev splits (train only without a dev split).

    Args:
        history: one metrics dict per epoch (epoch, train_loss, dev_loss, train_error, dev_error).
        title: figure title (default none).
        best_epoch: epoch to mark with a dotted line (the weights kept), or None.
        error_label: y label of the right panel (default "error").
    """
    figure = Figure(figsize=(10, 4), layout="constrained")
    epochs = [row["epoch"] for row in history]
    for axis, metric, label in zip(figure.subplots(1, 2), ("loss", "error"), ("loss", error_label)):
        for split, style in (("train", "-"), ("dev", "--")):
            if history and f"{split}_{metric}" in history[0]:  # a run without a dev split has no dev curve
                axis.plot(epochs, [row[f"{split}_{metric}"] for row in history], style, label=split)
        if best_epoch:
            axis.axvline(best_epoch, color="grey", linestyle=":", label=f"kept (epoch {best_epoch})")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        if metric == "loss" and all(row["train_loss"] > 0 for row in history):
            axis.set_yscale("log")
        axis.grid(alpha=0.3)
        axis.legend()
    if title:
        figure.suptitle(title)
    return figure


def plot_learning_rate(history: Sequence[dict[str, float]], *, title: str = "learning rate") -> Figure:
    """The learning rate used in each epoch (log scale when it spans more than 10×)."""
    figure = Figure(figsize=(6, 3.5), layout="constrained")
    axis = figure.subplots()
    rates = [row["learning_rate"] for row in history]
    axis.plot([row["epoch"] for row in history], rates, marker="." if len(rates) < 60 else None)
    if rates and min(rates) > 0 and max(rates) / min(rates) > 10:
        axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("learning rate")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    return figure


def plot_compared_curves(histories: dict[str, Sequence[dict[str, float]]], *, title: str = "",
                         error_label: str = "error") -> Figure:
    """Several runs' loss (left) and error (right) per epoch in one figure: a colour per run,
    train solid, dev dashed.

    Args:
        histories: run label → its per-epoch metrics (epoch, train/dev loss and error); an
            empty history is left out.
        title: figure title (default none).
        error_label: y label of the right panel (default "error").

    Example:
        >>> rows = [{"epoch": 1, "train_loss": 1.0, "dev_loss": 1.2, "train_error": 0.4, "dev_error": 0.5}]
        >>> len(plot_compared_curves({"a": rows, "b": rows}).axes[0].lines)
        4
    """
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    colours = matplotlib.colormaps["tab10"].colors
    axes = figure.subplots(1, 2)
    for axis, metric, label in zip(axes, ("loss", "error"), ("loss", error_label)):
        for index, (name, history) in enumerate(histories.items()):
            if not history:
                continue
            epochs = [row["epoch"] for row in history]
            for split, style in (("train", "-"), ("dev", "--")):
                values = [row.get(f"{split}_{metric}", float("nan")) for row in history]
                axis.plot(epochs, values, style, color=colours[index % len(colours)], label=f"{name} ({split})")
        positive = all(row.get("train_loss", 0) > 0 for history in histories.values() for row in history)
        if metric == "loss" and positive and any(histories.values()):
            axis.set_yscale("log")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    axes[1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        figure.suptitle(title)
    return figure
