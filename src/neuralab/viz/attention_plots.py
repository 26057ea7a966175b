"""Pictures of transformers: attention per layer and head, and the scaling law of a sweep.

Every function returns a matplotlib figure (the caller saves it).

Example:
    >>> import numpy as np
    >>> weights = np.tril(np.ones((2, 3, 4, 4))) / np.arange(1, 5)[:, None]  # (layers, heads, T, T)
    >>> figure = plot_attention(list("abcd"), weights)
    >>> len(figure.axes) >= 6
    True
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

MAX_LABELS = 40  # token labels on the axes; a longer context shows every few


def plot_attention(tokens: Sequence[str], weights, *, title: str = "attention per layer and head",
                   entropy: Sequence[Sequence[float]] | None = None) -> Figure:
    """A grid of heat maps, one per layer (rows) and head (columns): row i reads columns ≤ i.

    Args:
        tokens: the t tokens' texts (axis labels; line breaks shown as ⏎, spaces as ␣).
        weights: (layers, heads, t, t) attention weights, each row summing to 1.
        title: the figure's title.
        entropy: (layers, heads) mean entropy of each head in nats, added to its title.
    """
    weights = np.asarray(weights, dtype=float)
    layers, heads, steps = weights.shape[0], weights.shape[1], weights.shape[2]
    size = 2.2 if steps <= 24 else 3.0
    figure = Figure(figsize=(0.6 + size * heads, 0.6 + size * layers), layout="constrained")
    grid = figure.subplots(layers, heads, squeeze=False)
    labels = [_show(token) for token in tokens]
    every = max(1, math.ceil(steps / MAX_LABELS))
    for layer in range(layers):
        for head in range(heads):
            axes = grid[layer][head]
            axes.imshow(weights[layer, head], cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
            label = f"layer {layer + 1} head {head + 1}"
            if entropy is not None:
                label += f"\nH = {entropy[layer][head]:.2f} nats"
            axes.set_title(label, fontsize=8)
            ticks = list(range(0, steps, every))
            axes.set_xticks(ticks, [labels[i] for i in ticks], fontsize=6, fontfamily="monospace")
            axes.set_yticks(ticks, [labels[i] for i in ticks], fontsize=6, fontfamily="monospace")
            if layer == layers - 1:
                axes.set_xlabel("attends to (key)", fontsize=7)
            if head == 0:
                axes.set_ylabel("token (query)", fontsize=7)
    figure.suptitle(title, fontsize=10)
    return figure


def _show(token: str) -> str:
    return token.replace("\n", "⏎").replace(" ", "␣").replace("\t", "⇥") or "∅"


def plot_scaling(parameters: Sequence[float], losses: Sequence[float], *, fit: tuple[float, float] | None = None,
                 labels: Sequence[str] | None = None, title: str = "dev loss against model size") -> Figure:
    """Final dev loss against parameters on log–log axes, with the fitted power law L = a · N^(−α).

    Args:
        parameters, losses: one point per trained model.
        fit: (a, α) of the power law, drawn as a line; None: no line.
        labels: a label per point (e.g. "2×64").
    """
    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    axes = figure.subplots()
    axes.scatter(parameters, losses, color="tab:blue", zorder=3)
    for x, y, label in zip(parameters, losses, labels or []):
        axes.annotate(label, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    if fit is not None and len(parameters):
        a, alpha = fit
        span = np.geomspace(min(parameters) / 1.5, max(parameters) * 1.5, 50)
        axes.plot(span, a * span ** (-alpha), color="tab:orange", label=f"L = {a:.3g} · N^(−{alpha:.3f})")
        axes.legend(fontsize="small")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("parameters N")
    axes.set_ylabel("final dev loss (nats per token)")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    return figure
