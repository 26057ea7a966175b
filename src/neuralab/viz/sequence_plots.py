"""Pictures of recurrent networks: the gradient through time, hidden units over a sequence, a text sample.

Every function returns a matplotlib figure (the caller saves it).

Example:
    >>> figure = plot_gradient_through_time([("start", [1e-6, 1e-3, 1.0]), ("end", [0.1, 0.5, 1.0])])
    >>> figure.axes[0].get_yscale()
    'log'
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure


def plot_gradient_through_time(curves: Sequence[tuple[str, Sequence[float | None]]], *,
                               title: str = "gradient through time", axes=None) -> Figure:
    """‖∂L/∂h_t‖ against the time step t on a log scale, one line per (label, norms) curve.

    A line falling to the left is a gradient vanishing going back in time; rising, exploding.
    """
    figure = Figure(figsize=(6.4, 3.6)) if axes is None else axes.figure
    axes = axes if axes is not None else figure.subplots()
    for label, norms in curves:
        values = np.array([math.nan if v is None or v <= 0 else v for v in norms], dtype=float)
        axes.plot(np.arange(1, len(values) + 1), values, label=label)
    axes.set_yscale("log")
    axes.set_xlabel("time step t (the loss is read at the last step)")
    axes.set_ylabel("‖∂L/∂h_t‖")
    axes.set_title(title)
    axes.grid(True, which="major", alpha=0.3)
    if curves:
        axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def plot_hidden_states(states: np.ndarray, *, title: str = "hidden units over one sequence") -> Figure:
    """A heat map of one sequence's hidden states (T, units): units down, time across, −1 … 1 in colour."""
    figure = Figure(figsize=(6.4, 3.2))
    axes = figure.subplots()
    limit = max(float(np.abs(states).max()), 1e-6)
    image = axes.imshow(np.asarray(states).T, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit,
                        interpolation="nearest")
    axes.set_xlabel("time step")
    axes.set_ylabel("hidden unit")
    axes.set_title(title)
    figure.colorbar(image, ax=axes)
    figure.tight_layout()
    return figure


def plot_text_sample(text: str, *, title: str, width: int = 80, max_lines: int = 24) -> Figure:
    """A generated text sample as a picture (monospace, wrapped to ``width`` characters)."""
    lines = []
    for line in text.splitlines() or [""]:
        lines += textwrap.wrap(line, width) or [""]
    lines = lines[:max_lines]
    figure = Figure(figsize=(0.085 * width + 0.4, 0.2 * len(lines) + 0.8))
    figure.text(0.02, 0.98, title, va="top", ha="left", fontsize=10, weight="bold")
    figure.text(0.02, 0.98 - 0.45 / figure.get_figheight(), "\n".join(lines), va="top", ha="left",
                family="monospace", fontsize=9)
    return figure
