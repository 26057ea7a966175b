"""Sensitivity analysis: one hyperparameter over a list of values, every other field fixed.

A sweep is a grid study over one parameter, so it shares everything with ``tune_study``:
storage, resume, trials.csv, best.yaml and the sensitivity plot (dev error against the
value, train error beside it, diverged values marked).

Example:
    >>> parse_values("1e-3:1e-1:log:3")
    [0.001, 0.01, 0.1]
    >>> parse_values("16,32,full")
    [16, 32, 'full']
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from neuralab.errors import SpecError
from neuralab.spec import ExperimentSpec, load_spec
from neuralab.training import Callback
from neuralab.tune.search import TrialReport, TuneResult, tune_study

VALUES_HELP = "start:stop:log|lin:count (e.g. 1e-5:1:log:13) or a comma list (e.g. 16,32,64,full)"


def parse_values(text: str) -> list[Any]:
    """Values from ``start:stop:log|lin:count`` or from a comma list (each item read as YAML).

    A range whose ends are written as whole numbers gives whole numbers (duplicates dropped).

    Raises:
        SpecError: a malformed range or list, naming ``--values``.
    """
    text = text.strip()
    if ":" in text:
        return _range(text)
    try:  # a YAML flow list, so that list values keep their commas: [8],[8,8],full
        items = yaml.safe_load(f"[{text}]")
    except yaml.YAMLError:
        items = [item.strip() for item in text.split(",")]
    items = [item for item in items if item not in (None, "")]
    if not items:
        raise SpecError(f"--values: {text!r} is empty; give {VALUES_HELP}")
    unique = {json.dumps(item, sort_keys=True): item for item in items}
    return list(unique.values())


def _range(text: str) -> list[Any]:
    parts = text.split(":")
    problem = f"--values: {text!r} is not {VALUES_HELP}"
    if len(parts) != 4 or parts[2] not in ("log", "lin"):
        raise SpecError(problem)
    try:
        start, stop, count = float(parts[0]), float(parts[1]), int(parts[3])
    except ValueError:
        raise SpecError(problem) from None
    if count < 2 or not math.isfinite(start) or not math.isfinite(stop) or start == stop:
        raise SpecError(f"--values: {text!r} needs two different finite ends and a count of at least 2")
    if parts[2] == "log" and (start <= 0 or stop <= 0):
        raise SpecError(f"--values: {text!r}: a log range needs ends above 0")
    points = (np.geomspace if parts[2] == "log" else np.linspace)(start, stop, count)
    if _whole(parts[0]) and _whole(parts[1]):
        return list(dict.fromkeys(int(round(v)) for v in points))
    return [float(f"{v:.6g}") for v in points]  # 6 significant digits: readable in trials.csv and plots


def _whole(text: str) -> bool:
    return text.strip().lstrip("+-").isdigit()


def sweep(spec: ExperimentSpec | str | Path | Mapping[str, Any], param: str, values: Sequence[Any] | str, *,
          out_dir: str | Path = "runs", overrides: Mapping[str, Any] | Sequence[str] | None = None,
          storage: str | None = None, study_name: str | None = None, resume: bool = False, final: bool = False,
          callbacks: Iterable[Callback] = (), on_trial: Callable[[TrialReport], None] | None = None) -> TuneResult:
    """Train ``spec`` once per value of the dotted field ``param``; write the sensitivity outputs.

    Args:
        spec: the base spec; param: a dotted spec field, e.g. ``train.learning_rate``.
        values: the values, or a text for :func:`parse_values`.
        out_dir: parent of the output folder ``<study>`` (default ``runs``); a new study is named
            ``<name>-sweep-<param>``, then ``…-2``, ``…-3`` (see :mod:`neuralab.tune.naming`).
        overrides, storage, study_name, resume, callbacks, on_trial: as for :func:`tune_study`.
        final: also train the best value and score the test split (default False).

    Returns:
        The :class:`TuneResult`; ``result.files["sensitivity"]`` is the plot.

    Example:
        >>> import neuralab, tempfile
        >>> spec = neuralab.load_spec({"name": "s", "data": {"dataset": "xor", "n_samples": 100},
        ...                            "model": {"hidden": [4]}, "train": {"epochs": 2}})
        >>> result = neuralab.sweep(spec, "train.learning_rate", "1e-3,1e-1", out_dir=tempfile.mkdtemp())
        >>> result.counts["COMPLETE"]
        2
    """
    spec = load_spec(spec, overrides=overrides)
    values = parse_values(values) if isinstance(values, str) else list(values)
    if not values:
        raise SpecError("--values: no values to sweep")
    return tune_study(spec, {"params": {param: {"choices": values}}}, sampler="grid", pruner="none",
                      trials=len(values), storage=storage, study_name=study_name, resume=resume, out_dir=out_dir,
                      default_name=f"{spec.name}-sweep-{param}", folder_suffix="", final=final, callbacks=callbacks,
                      on_trial=on_trial)
