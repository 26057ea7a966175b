"""Comparing two of the doctor's rounds on the same held-out points.

Rounds that train on the same data compare their dev errors: the same rows. A round that
changes the data (``data.n_samples 120 → 240`` draws a new, larger set with its own split)
has another dev split, so its dev error says nothing about the change; worse, the
generators of spiral, xor and plane draw the smaller set's points again, so the old dev
rows may be in the new training split. Such rounds are compared on fresh points of the
same distribution (a generator seeded apart, ``rules.stream_seed(seed, "held_out")``) that
neither network trained on — classification by error rate, regression by RMSE in the
target's units (each run standardises its own target).

Example:
    >>> import neuralab
    >>> base = {"data": {"dataset": "xor", "n_samples": 60}, "model": {"hidden": [4]}, "train": {"epochs": 2}}
    >>> small = neuralab.train(base, out_dir=None)
    >>> large = neuralab.train(base, out_dir=None, overrides={"data.n_samples": 120})
    >>> comparison = compare_on_fresh_points(large, small)
    >>> comparison.rows >= 200, comparison.measure
    (True, 'error')
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from neuralab.data import load_data, load_raw
from neuralab.runs.run import Run
from neuralab.spec.catalog import SYNTHETIC_DATASETS
from neuralab.training.evaluate import evaluate_split
from neuralab.training.rules import stream_seed

FRESH_ROWS = 500  # fresh points drawn (those equal to a training row of either run are left out)


@dataclass(frozen=True)
class Comparison:
    """Both runs scored on the same fresh points."""

    candidate: float
    best: float
    rows: int
    measure: str  # "error" (classification) or "rmse" (regression, target units)

    def describe(self) -> str:
        shown = (lambda v: f"{v:.1%}") if self.measure == "error" else (lambda v: f"RMSE {v:.4g}")
        return f"on {self.rows} fresh points: {shown(self.candidate)} against the best's {shown(self.best)}"


def same_rows(candidate: Run, best: Run) -> bool:
    """True when both runs trained and were scored on the same data (their splits' fingerprints agree)."""
    return candidate.summary.get("data_fingerprint") == best.summary.get("data_fingerprint")


def compare_on_fresh_points(candidate: Run, best: Run) -> Comparison | None:
    """Score both runs on fresh points of the best run's data set; None when it cannot draw any.

    Only generated (synthetic 2-D) data sets can draw fresh points; a file or a bundled set
    never changes its rows between rounds.
    """
    data = best.spec.data
    if data.dataset not in SYNTHETIC_DATASETS or candidate.spec.data.dataset != data.dataset:
        return None
    fresh = load_raw(data.model_copy(update={"n_samples": max(FRESH_ROWS, data.n_samples)}),
                     seed=stream_seed(best.spec.seed, "held_out"))
    seen = np.concatenate([load_data(run.spec.data, seed=run.spec.seed).raw_train for run in (candidate, best)])
    keep = ~_rows_in(fresh.inputs.astype(np.float32), seen)
    if not keep.any():
        return None
    measure = "error" if best.head.is_classifier else "rmse"
    scores = [_score(run, fresh.inputs[keep], fresh.targets[keep], fresh.classes, measure) for run in (candidate, best)]
    return Comparison(candidate=scores[0], best=scores[1], rows=int(keep.sum()), measure=measure)


def _rows_in(rows: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """A mask of ``rows`` that equal some row of ``seen`` (both float32, compared exactly)."""
    known = {row.tobytes() for row in np.ascontiguousarray(seen)}
    return np.array([row.tobytes() in known for row in np.ascontiguousarray(rows)], dtype=bool)


def _score(run: Run, inputs: np.ndarray, targets: np.ndarray, classes: list, measure: str) -> float:
    pre = run.preprocessor
    x = torch.from_numpy(pre.transform_inputs(inputs))
    if measure == "error":
        order = {label: index for index, label in enumerate(run.summary.get("classes") or pre.classes)}
        y = torch.tensor([order[classes[int(t)]] for t in targets], dtype=torch.int64)
        return evaluate_split(run.model, run.head, x, y)["error"]
    y = torch.from_numpy(pre.transform_target(targets))
    scale = float(pre.inverse_target(np.array([0.0, 1.0]))[1] - pre.inverse_target(np.array([0.0, 1.0]))[0])
    return evaluate_split(run.model, run.head, x, y, target_scale=scale)["rmse"]
