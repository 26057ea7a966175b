"""``neuralab.diagnose(run)``: why a network is (not) learning, as one structured answer.

It reads a run — its summary (train/dev errors), spec and the gradient/activation health
recorded while training — and returns a :class:`Diagnosis`: bias/variance against the
optimal error, per-layer verdicts with cause and cure, whether the run diverged and why,
optionally a learning curve, and the advice as ordered spec changes. With a run directory
it also writes ``report.json``, ``report.md`` and the pictures there.

Example:
    >>> import neuralab
    >>> spec = neuralab.load_spec({"data": {"dataset": "circle", "n_samples": 120}},
    ...                           overrides={"train.epochs": 3, "model.hidden": [2]})
    >>> diagnosis = neuralab.diagnose(neuralab.train(spec, out_dir=None), learning_curves=False)
    >>> sorted(diagnosis.to_dict())[:4]
    ['advice', 'bias_variance', 'diverged', 'divergence_cause']
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuralab.doctor.advice import PROBLEMS, Advice, advise, renumber
from neuralab.doctor.bias_and_variance import BiasVariance, bias_variance
from neuralab.doctor.curves import LearningCurve, learning_curve
from neuralab.doctor.verdicts import LayerHealth, divergence_cause, layer_verdicts
from neuralab.runs.run import Run, load_run
from neuralab.errors import SpecError
from neuralab.runs.records import read_health
from neuralab.spec.fields import no_dev_split

log = logging.getLogger(__name__)


@dataclass
class Diagnosis:
    """What is wrong with a run and what to change.

    Attributes:
        bias_variance: verdict, avoidable bias, variance and the optimal error used.
        layers: per-layer health verdicts (empty when the run recorded no health).
        diverged: the loss became NaN/inf; ``divergence_cause`` names the likely cause.
        advice: ordered spec changes, most urgent problem first (see ``neuralab.doctor.advice``).
        learning_curve: train/dev error against the training-set size, when computed.
    """

    run_name: str
    bias_variance: BiasVariance
    layers: list[LayerHealth]
    diverged: bool
    divergence_cause: str | None
    advice: list[Advice]
    learning_curve: LearningCurve | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    report_dir: Path | None = None

    @property
    def problems(self) -> list[str]:
        """Every problem found, most urgent first (names from ``neuralab.doctor.advice.PROBLEMS``)."""
        found = {verdict for layer in self.layers for verdict in layer.verdicts}
        found |= {"diverged"} if self.diverged else set()
        found |= {"high_bias"} if self.bias_variance.high_bias else set()
        found |= {"high_variance"} if self.bias_variance.high_variance else set()
        return [problem for problem in PROBLEMS if problem in found]

    def grouped_findings(self) -> list[tuple[str, list[str], str, str]]:
        """Findings grouped by verdict: (verdict, layer names, cause in the first layer, cure)."""
        groups: dict[str, tuple[str, list[str], str, str]] = {}
        for layer in self.layers:
            for finding in layer.findings:
                group = groups.setdefault(finding.verdict, (finding.verdict, [], finding.cause, finding.cure))
                group[1].append(layer.name)
        return list(groups.values())

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``report.json`` and ``neuralab diagnose --json``."""
        return {
            "run": self.run_name,
            "bias_variance": self.bias_variance.to_dict(),
            "layers": [layer.to_dict() for layer in self.layers],
            "diverged": self.diverged,
            "divergence_cause": self.divergence_cause,
            "problems": self.problems,
            "advice": [item.to_dict() for item in self.advice],
            "learning_curve": self.learning_curve.to_dict() if self.learning_curve else None,
            "errors": {key: self.summary.get(key) for key in ("train_error", "dev_error", "test_error")},
        }


def diagnose(run: Run | str | Path, *, optimal_error: float | None = None, learning_curves: bool = True,
             train_dev_fraction: float = 0.0, write_report: bool = True) -> Diagnosis:
    """Diagnose a trained run: bias/variance, gradient health, divergence, learning curves, advice.

    Args:
        run: a :class:`~neuralab.runs.Run` or a run directory.
        optimal_error: the optimal (e.g. human-level) error; default the spec's ``diagnose.optimal_error``.
        learning_curves: retrain on fractions of the training data to draw learning curves (default True;
            costs about two trainings).
        train_dev_fraction: hold out this share of the training split as a train-dev set for the
            data-mismatch check (default 0: off).
        write_report: write ``report.json``, ``report.md`` and PNGs into the run directory, if it has one.

    Returns:
        A :class:`Diagnosis`; ``.to_dict()`` is the report's JSON.
    """
    run = run if isinstance(run, Run) else load_run(run)
    spec = run.spec
    if "dev_error" not in run.summary:
        raise SpecError(no_dev_split("diagnose: bias and variance compare the train and the dev error",
                                     "this run has no dev split", remedy="and train again"))
    optimal = spec.diagnose.optimal_error if optimal_error is None else optimal_error
    verdict = bias_variance(train_error=run.summary["train_error"], dev_error=run.summary["dev_error"],
                            optimal_error=optimal, bias_tolerance=spec.diagnose.bias_tolerance,
                            variance_tolerance=spec.diagnose.variance_tolerance, spec=spec,
                            percent=run.head.task != "regression")
    health = run.health or (read_health(run.dir) if run.dir else None)
    layers = layer_verdicts(health, spec) if health and health["samples"] else []
    diverged = bool(run.summary.get("diverged"))
    cause = divergence_cause(spec, health) if diverged else None
    curve = None
    if learning_curves and not diverged:
        curve = learning_curve(spec, train_dev_fraction=train_dev_fraction)
    diagnosis = Diagnosis(run_name=str(run.summary.get("name", spec.name)), bias_variance=verdict, layers=layers,
                          diverged=diverged, divergence_cause=cause, advice=[], learning_curve=curve,
                          summary=run.summary)
    diagnosis.advice = _advice(diagnosis, spec)
    if write_report and run.dir is not None:
        from neuralab.doctor.report import write_report as write

        diagnosis.report_dir = write(diagnosis, run, run.dir)
    return diagnosis


def _advice(diagnosis: Diagnosis, spec) -> list[Advice]:
    """Advice for every problem, most urgent first; a learning curve vetoes "more data" when flat."""
    items: list[Advice] = []
    for problem in diagnosis.problems:
        if diagnosis.diverged and problem in ("high_bias", "high_variance"):
            continue  # the errors are those of the last finite weights: fix the divergence first
        advice = advise(problem, spec)
        if problem == "high_variance" and diagnosis.learning_curve and not diagnosis.learning_curve.more_data_helps:
            # The curve has flattened: more data would help little, so regularisation comes first.
            advice = [a for a in advice if a.field != "data.n_samples"] + \
                     [a for a in advice if a.field == "data.n_samples"]
        items.extend(advice)
    return renumber(_unique(items))


def _unique(items: list[Advice]) -> list[Advice]:
    """Drop an item whose field a more urgent problem's advice already changes."""
    owner: dict[str, str] = {}
    kept = []
    for item in items:
        if item.field is not None and owner.setdefault(item.field, item.problem) != item.problem:
            continue
        kept.append(item)
    return kept
