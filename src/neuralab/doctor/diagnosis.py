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
    ['advice', 'baselines', 'baselines_ahead', 'bias_variance']
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuralab.data import DataBundle, load_data
from neuralab.doctor.advice import PROBLEMS, Advice, advise, renumber
from neuralab.doctor.bias_and_variance import BiasVariance, bias_variance, fix_order
from neuralab.doctor.classical import BaselineResult, baselines as fit_baselines
from neuralab.doctor.curves import LearningCurve, learning_curve
from neuralab.doctor.through_time import SequenceDiagnosis, diagnose_sequence
from neuralab.doctor.transformer_checks import TransformerDiagnosis, diagnose_transformer
from neuralab.doctor.optimal import baselines_ahead, choose_optimal_error
from neuralab.doctor.verdicts import LayerHealth, divergence_cause, layer_verdicts
from neuralab.errors import SpecError
from neuralab.runs.run import Run, load_run
from neuralab.runs.records import read_health
from neuralab.spec.problems import no_dev_split

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
        optimal_source: where the optimal error came from (given, the spec, assumed, estimated).
        baselines: the classical baselines fitted on the run's split (see ``baselines_ahead``).
        health_samples, health_every: how many health samples the layer verdicts rest on, and
            the optimiser steps between them.
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
    sequence: SequenceDiagnosis | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)
    transformer: TransformerDiagnosis | None = None
    optimal_source: str = ""
    baselines: list[BaselineResult] = field(default_factory=list)
    health_samples: int = 0
    health_every: int | None = None
    penalties: dict[str, float] = field(default_factory=dict)  # train.l1 / train.l2 in use

    @property
    def penalty_note(self) -> str:
        """What the losses leave out, when the run trained with L1/L2 penalties ('' without)."""
        if not self.penalties:
            return ""
        used = " and ".join(f"{name} {value:g}" for name, value in self.penalties.items())
        return (f"losses are the data loss alone: the {used} penalty the optimiser also minimised is left out "
                "(as in metrics.csv and summary.json)")

    @property
    def task(self) -> str:
        return str(self.summary.get("task", "binary"))

    @property
    def baselines_ahead(self) -> list[BaselineResult]:
        """Classical baselines with a lower dev error than the network's on the same split (for a
        classifier: by more than chance allows over the dev points), best first."""
        rows = self.summary.get("n_dev") if self.task != "regression" else None
        return baselines_ahead(self.baselines, dev_error=self.bias_variance.dev_error, dev_rows=rows)

    @property
    def problems(self) -> list[str]:
        """Every problem found, most urgent first (names from ``neuralab.doctor.advice.PROBLEMS``)."""
        found = {verdict for layer in self.layers for verdict in layer.verdicts}
        found |= set(self.sequence.verdicts) if self.sequence else set()
        found |= set(self.transformer.verdicts) if self.transformer else set()
        found |= {"diverged"} if self.diverged else set()
        ordered = [problem for problem in PROBLEMS if problem in found]
        if self.summary.get("data_kind") == "text":  # next-token errors have no known optimal error: a language
            return ordered                           # model is judged on its losses
        bv = self.bias_variance  # bias before variance, unless the variance is the larger
        return ordered + fix_order(high_bias=bv.high_bias, high_variance=bv.high_variance,
                                   avoidable_bias=bv.avoidable_bias, variance=bv.variance)

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
            "sequence": self.sequence.to_dict() if self.sequence else None,
            "transformer": self.transformer.to_dict() if self.transformer else None,
            "samples": self.samples,
            "optimal_error_source": self.optimal_source,
            "baselines": [result.to_dict() for result in self.baselines],
            "baselines_ahead": [result.name for result in self.baselines_ahead],
            "health_samples": self.health_samples, "health_every": self.health_every,
            "penalty_note": self.penalty_note,
        }


def diagnose(run: Run | str | Path, *, optimal_error: float | None = None, learning_curves: bool | None = None,
             train_dev_fraction: float = 0.0, write_report: bool = True, baselines: bool = True) -> Diagnosis:
    """Diagnose a trained run: bias/variance, gradient health, divergence, learning curves, advice.

    Args:
        run: a :class:`~neuralab.runs.Run` or a run directory.
        optimal_error: the optimal (e.g. human-level) error; default the spec's ``diagnose.optimal_error``,
            else 0 for classification and, for regression, the best classical baseline's dev error
            (see :mod:`neuralab.doctor.optimal`).
        learning_curves: retrain on fractions of the training data to draw learning curves (costs about
            two trainings); default: for tabular data (a recurrent network's trainings take minutes).
        train_dev_fraction: hold out this share of the training split as a train-dev set for the
            data-mismatch check (default 0: off; it needs the learning curves).
        write_report: write ``report.json``, ``report.md`` and PNGs into the run directory, if it has one.
        baselines: compare with the classical baselines on the same split (linear models: a
            fraction of a second; regression fits gradient boosting too for its optimal error).

    Returns:
        A :class:`Diagnosis`; ``.to_dict()`` is the report's JSON.

    Raises:
        SpecError: ``train_dev_fraction`` without learning curves (the check trains on their points).
    """
    run = run if isinstance(run, Run) else load_run(run)
    spec, task = run.spec, run.head.task
    if "dev_error" not in run.summary:
        raise SpecError(no_dev_split("diagnose: bias and variance compare the train and the dev error",
                                     "this run has no dev split", remedy="and train again"))
    tabular = run.shape.sequence_length is None  # sequences: judged against their memoryless baseline instead
    if learning_curves is None:  # tabular data: a recurrent network's or transformer's trainings take minutes
        learning_curves = tabular or bool(train_dev_fraction)
    if train_dev_fraction and not learning_curves:
        raise SpecError("train_dev_fraction (--train-dev): the data-mismatch check trains on the learning curve's "
                        "points; leave the learning curves on (drop --no-curves)")
    estimate = task == "regression" and optimal_error is None and spec.diagnose.optimal_error is None
    bundle = load_data(spec.data, seed=spec.seed) if (tabular and (baselines or estimate)) or learning_curves else None
    results = _classical(spec, bundle, every=estimate) if (baselines or estimate) else []
    optimal = choose_optimal_error(task=task, given=optimal_error, from_spec=spec.diagnose.optimal_error,
                                   baselines=results)
    verdict = bias_variance(train_error=run.summary["train_error"], dev_error=run.summary["dev_error"],
                            optimal_error=optimal.value, bias_tolerance=spec.diagnose.bias_tolerance,
                            variance_tolerance=spec.diagnose.variance_tolerance, spec=spec,
                            percent=task != "regression")
    health = run.health or (read_health(run.dir) if run.dir else None)
    samples = len(health["samples"]) if health else 0
    layers = layer_verdicts(health, spec) if samples else []
    diverged = bool(run.summary.get("diverged"))
    cause = divergence_cause(spec, health) if diverged else None
    curve = None
    if learning_curves and not diverged:
        curve = learning_curve(spec, train_dev_fraction=train_dev_fraction, bundle=bundle, optimal_error=optimal.value)
    diagnosis = Diagnosis(run_name=str(run.summary.get("name", spec.name)), bias_variance=verdict, layers=layers,
                          diverged=diverged, divergence_cause=cause, advice=[], learning_curve=curve,
                          summary=run.summary, sequence=diagnose_sequence(run, health),
                          samples=list(run.samples or []), transformer=diagnose_transformer(run, health),
                          optimal_source=optimal.source, baselines=results if baselines else [],
                          health_samples=samples, health_every=health.get("every") if health else None,
                          penalties={f"train.{name}": getattr(spec.train, name) for name in ("l1", "l2")
                                     if getattr(spec.train, name) > 0})
    diagnosis.advice = _advice(diagnosis, spec)
    if write_report and run.dir is not None:
        from neuralab.doctor.report import write_report as write

        diagnosis.report_dir = write(diagnosis, run, run.dir)
    return diagnosis


def _classical(spec, bundle: DataBundle | None, *, every: bool) -> list[BaselineResult]:
    """The classical baselines on the run's split: the linear one, or every one (regression's estimate)."""
    if bundle is None or bundle.kind != "tabular":
        return []
    return fit_baselines(spec, bundle=bundle, linear_only=not every)


def _advice(diagnosis: Diagnosis, spec) -> list[Advice]:
    """Advice for every problem, most urgent first; a learning curve vetoes "more data" when flat, and a
    run that early stopping ended is not told to train longer (its dev score had stopped improving)."""
    summary = diagnosis.summary
    stopped_early = not diagnosis.diverged and summary.get("epochs_run", spec.train.epochs) < spec.train.epochs
    items: list[Advice] = []
    for problem in diagnosis.problems:
        if diagnosis.diverged and problem in ("high_bias", "high_variance"):
            continue  # the errors are those of the last finite weights: fix the divergence first
        advice = advise(problem, spec)
        if stopped_early:
            advice = [a for a in advice if a.field != "train.epochs"]
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
