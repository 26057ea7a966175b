"""A scaling experiment: train a grid of model sizes, plot dev loss against parameters, fit a power law.

Kaplan et al. (2020) found a language model's loss falls as a power of its size, L ≈ a·N^(−α),
when data and steps are not the limit. :func:`scaling` trains every point of a search space
over the model's size (e.g. width × depth, ``examples/scaling.yaml``) as one grid study —
the tuner's machinery, so storage, resume and ``trials.csv`` come with it — and then fits
``log L = log a − α log N`` by least squares over the completed points. It writes
``scaling.png`` (log–log, the points and the line), ``scaling.csv`` (one row per model) and
``scaling.json`` (the fit) beside the study's files.

Example:
    >>> fit = power_law([1e3, 1e4, 1e5], [4.0, 2.0, 1.0])
    >>> round(fit["alpha"], 4), round(fit["a"], 2), round(fit["r2"], 6)
    (0.301, 32.0, 1.0)
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuralab.errors import RunError
from neuralab.runs.files import save_figure, write_csv, write_json
from neuralab.spec import ExperimentSpec, load_spec
from neuralab.tune.search import TuneResult, tune_study
from neuralab.tune.space import load_space
from neuralab.tune.study_files import trial_rows


@dataclass
class ScalingResult:
    """The points (parameters, dev loss, settings), the fitted power law and where the files are."""

    points: list[dict[str, Any]]
    fit: dict[str, float]
    study: TuneResult
    files: dict[str, Path]


def power_law(parameters: Sequence[float], losses: Sequence[float]) -> dict[str, float]:
    """Least-squares fit of L = a · N^(−α) on log–log axes: ``{"a", "alpha", "r2"}``.

    Raises:
        ValueError: fewer than two points of different sizes.
    """
    x, y = np.log(np.asarray(parameters, float)), np.log(np.asarray(losses, float))
    if len(x) < 2 or np.ptp(x) == 0:
        raise ValueError("a power law needs at least two models of different sizes")
    slope, intercept = np.polyfit(x, y, 1)
    predicted = intercept + slope * x
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(((y - predicted) ** 2).sum()) / total if total > 0 else 1.0
    return {"a": float(math.exp(intercept)), "alpha": float(-slope), "r2": r2}


def scaling(spec: ExperimentSpec | str | Path | Mapping[str, Any], space: Any, *, out_dir: str | Path = "runs",
            overrides: Mapping[str, Any] | Sequence[str] | None = None, resume: bool = False,
            on_trial: Any = None) -> ScalingResult:
    """Train every size in ``space`` (a grid), then fit and plot dev loss against parameters.

    Args:
        spec: the base spec (a language model, usually); space: the sizes to train (a space file or mapping
            whose fields set the model's size, e.g. ``model.transformer.embed_dim`` and ``layers``).
        out_dir, overrides, resume, on_trial: as for :func:`neuralab.tune.search.tune_study`.

    Raises:
        SpecError: a bad spec or space; RunError: fewer than two sizes completed.
    """
    spec, space = load_spec(spec, overrides=overrides), load_space(space)
    name = f"{spec.name}-scaling"
    study = tune_study(spec, space, sampler="grid", pruner="none", out_dir=out_dir, default_name=name,
                       folder_suffix="", resume=resume, final=False, on_trial=on_trial)  # NAME-scaling, -2 …
    names = list(space.params)
    points = [{"parameters": row["n_parameters"], "dev_loss": row["dev_loss"], "train_loss": row["train_loss"],
               **{key: row.get(key) for key in names}} for row in trial_rows(study.study)
              if row["state"] == "COMPLETE" and row.get("n_parameters") and _finite(row.get("dev_loss"))]
    points.sort(key=lambda point: point["parameters"])
    try:
        fit = power_law([p["parameters"] for p in points], [p["dev_loss"] for p in points])
    except ValueError as error:
        raise RunError(f"scaling: {error} ({len(points)} completed); see {study.dir / 'trials.csv'}") from None
    from neuralab.viz.attention_plots import plot_scaling

    labels = [" × ".join(str(point.get(key)) for key in names) for point in points]
    files = {"plot": save_figure(plot_scaling([p["parameters"] for p in points], [p["dev_loss"] for p in points],
                                              fit=(fit["a"], fit["alpha"]), labels=labels,
                                              title=f"{spec.name}: final dev loss against parameters"),
                                 study.dir / "scaling.png"),
             "table": study.dir / "scaling.csv", "fit": study.dir / "scaling.json"}
    write_csv(files["table"], points)
    write_json(files["fit"], {**fit, "law": "dev_loss = a * parameters ** -alpha", "points": len(points),
                              "fields": names})
    return ScalingResult(points=points, fit=fit, study=study, files=files)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
