"""Plots of a hyperparameter search: optimisation history, sensitivity curves, importance, LR range test.

The functions take plain rows (one dict per trial: number, state, value, train_error,
dev_error, diverged and one key per parameter), so they draw any study, live or reloaded.

Example:
    >>> rows = [{"number": 0, "state": "COMPLETE", "value": 0.3, "train_error": 0.2, "dev_error": 0.3,
    ...          "diverged": False, "lr": 0.01},
    ...         {"number": 1, "state": "COMPLETE", "value": 0.5, "train_error": 0.5, "dev_error": 0.5,
    ...          "diverged": True, "lr": 1.0}]
    >>> len(plot_sensitivity(rows, ["lr"]).axes)
    1
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI

from matplotlib.figure import Figure  # noqa: E402

_STATE_STYLE = {"COMPLETE": ("tab:blue", "o"), "PRUNED": ("tab:grey", "s"), "FAIL": ("tab:red", "x")}


def plot_history(rows: Sequence[Mapping[str, Any]], *, title: str = "") -> Figure:
    """Dev error of each trial (complete, pruned) and the best so far, in trial order."""
    figure = Figure(figsize=(7, 4), layout="constrained")
    axis = figure.subplots()
    for state, (color, marker) in _STATE_STYLE.items():
        points = [(r["number"], r["value"]) for r in rows if r["state"] == state and _finite(r.get("value"))]
        if points:
            axis.scatter(*zip(*points), color=color, marker=marker, label=state.lower(), alpha=0.8)
    best, line = math.inf, []
    for row in sorted(rows, key=lambda r: r["number"]):
        if row["state"] == "COMPLETE" and _finite(row.get("value")):
            best = min(best, row["value"])
        if math.isfinite(best):
            line.append((row["number"], best))
    if line:
        axis.step(*zip(*line), where="post", color="tab:orange", label="best so far")
    axis.set_xlabel("trial")
    axis.set_ylabel("dev error")
    axis.set_title(f"optimisation history{f' — {title}' if title else ''}")
    axis.grid(alpha=0.3)
    axis.legend()
    return figure


def plot_sensitivity(rows: Sequence[Mapping[str, Any]], params: Sequence[str], *, title: str = "") -> Figure:
    """Dev and train error against each parameter's value; diverged trials marked with a red cross.

    Dev error far above train error at a value is overfitting (variance); both high is
    underfitting (bias). Complete trials only: a pruned trial's error is not its final one.
    """
    count = max(len(params), 1)
    columns = min(count, 3)
    figure = Figure(figsize=(4.5 * columns, 3.6 * math.ceil(count / columns)), layout="constrained")
    axes = figure.subplots(math.ceil(count / columns), columns, squeeze=False).ravel()
    done = [r for r in rows if r["state"] == "COMPLETE"]
    for axis, param in zip(axes, params):
        _sensitivity_panel(axis, [r for r in done if r.get(param) is not None], param)
    for axis in axes[len(params):]:
        axis.set_visible(False)
    if title:
        figure.suptitle(f"sensitivity — {title}")
    return figure


def _sensitivity_panel(axis: Any, rows: list[Mapping[str, Any]], param: str) -> None:
    numeric = all(isinstance(r[param], (int, float)) and not isinstance(r[param], bool) for r in rows)
    labels = sorted({str(r[param]) for r in rows}) if not numeric else []
    position = (lambda v: v) if numeric else (lambda v: labels.index(str(v)))
    rows = sorted(rows, key=lambda r: position(r[param]))
    # a line only when each value occurs once (a sweep); in a study other parameters vary too
    joined = len({str(r[param]) for r in rows}) == len(rows)
    for key, style, label in (("dev_error", "o-", "dev"), ("train_error", "s--", "train")):
        points = [(position(r[param]), r[key]) for r in rows if _finite(r.get(key))]
        if points:
            axis.plot(*zip(*points), style if joined else style[0], label=label, alpha=0.8)
    diverged = [(position(r[param]), r["dev_error"]) for r in rows if r.get("diverged") and _finite(r.get("dev_error"))]
    if diverged:
        axis.scatter(*zip(*diverged), marker="x", s=90, color="red", zorder=5, label="diverged")
    values = [r[param] for r in rows]
    if numeric and values and min(values) > 0 and max(values) / min(values) > 50:
        axis.set_xscale("log")
    if not numeric:
        axis.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    axis.set_xlabel(param)
    axis.set_ylabel("error")
    axis.grid(alpha=0.3)
    if axis.get_legend_handles_labels()[0]:
        axis.legend(fontsize="small")


def plot_importance(importances: Mapping[str, float], *, title: str = "") -> Figure:
    """Horizontal bars: each parameter's share of the dev error's variation, most important on top."""
    items = sorted(importances.items(), key=lambda kv: kv[1])
    figure = Figure(figsize=(6, 0.5 * len(items) + 1.5), layout="constrained")
    axis = figure.subplots()
    axis.barh([name for name, _ in items], [value for _, value in items], color="tab:blue")
    axis.set_xlabel("importance (share of dev-error variation)")
    axis.set_title(f"hyperparameter importance{f' — {title}' if title else ''}")
    axis.grid(alpha=0.3, axis="x")
    return figure


def plot_lr_find(rates: Sequence[float], losses: Sequence[float], smoothed: Sequence[float], *,
                 suggestion: float | None = None, rule: str = "") -> Figure:
    """Loss against learning rate (log scale) in the range test, smoothed, with the suggested value."""
    figure = Figure(figsize=(7, 4), layout="constrained")
    axis = figure.subplots()
    axis.plot(rates, losses, color="tab:grey", alpha=0.35, label="loss per mini-batch")
    axis.plot(rates, smoothed, color="tab:blue", label="smoothed loss")
    if suggestion is not None:
        axis.axvline(suggestion, color="tab:red", linestyle="--", label=f"suggested {suggestion:.2g} ({rule})")
    finite = [v for v in smoothed if _finite(v)]
    if finite:
        low = min(finite + [v for v in losses if _finite(v)])
        high = max(finite[: max(len(finite) // 10, 1)])  # the start; the blown-up end would flatten the rest
        axis.set_ylim(low - 0.1 * abs(high - low), high + 0.6 * abs(high - low) + 1e-9)
    axis.set_xscale("log")
    axis.set_xlabel("learning rate")
    axis.set_ylabel("training loss")
    axis.set_title("learning-rate range test")
    axis.grid(alpha=0.3)
    axis.legend()
    return figure


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
