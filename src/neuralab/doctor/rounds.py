"""The automatic doctor: diagnose → apply the advice → retrain → compare, round after round.

Round 0 trains the spec as given. Each later round takes the best spec so far, applies the
first step of its diagnosis' advice not tried yet (e.g. ``model.hidden [2] → [16, 16]``),
retrains and keeps the new spec when its dev error is lower — on the same held-out points:
a round that changes the data (``data.n_samples``) is compared with the best on fresh points
neither trained on (:mod:`neuralab.doctor.held_out`). Regression's optimal error is
estimated once, in round 0, and kept for every round. It stops early when the
diagnosis finds nothing to fix or no applicable advice is left. Every round's run
directory, and a table of the rounds (``doctor.md``, ``doctor.csv``, ``doctor.json``) and the
best spec (``best_spec.yaml``), are written into one folder.

Example:
    >>> from neuralab.spec import load_spec
    >>> from neuralab.doctor import improve
    >>> spec = load_spec({"data": {"dataset": "circle", "n_samples": 120}},
    ...                  overrides={"train.epochs": 5, "model.hidden": [2]})
    >>> result = improve(spec, rounds=1, out_dir=None)
    >>> [row.number for row in result.rounds]
    [0, 1]
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuralab.doctor.advice import Advice, apply_advice
from neuralab.doctor.curves import error_format
from neuralab.doctor.diagnosis import Diagnosis, diagnose
from neuralab.doctor.held_out import Comparison, compare_on_fresh_points, same_rows
from neuralab.doctor.report import markdown_table
from neuralab.runs.files import claim_folder, write_csv, write_json, write_text_atomic
from neuralab.runs.trainer import train_run
from neuralab.runs.run import Run
from neuralab.spec import ExperimentSpec, dump_spec, load_spec


@dataclass
class Round:
    """One round: the change made, the errors it reached, the verdict, and whether it was kept."""

    number: int
    change: str
    changes: list[dict[str, Any]]
    train_error: float
    dev_error: float
    test_error: float
    verdict: str
    problems: list[str]
    diverged: bool
    kept: bool
    run_dir: str | None = None
    compared: str = ""  # how it was compared with the best when the data changed (fresh points)

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class DoctorResult:
    """Every round, the best spec found and where the rounds were written."""

    rounds: list[Round]
    best_spec: ExperimentSpec
    best_round: int
    stop_reason: str
    folder: Path | None = None
    diagnoses: list[Diagnosis] = field(default_factory=list, repr=False)

    @property
    def task(self) -> str:
        return self.diagnoses[0].task if self.diagnoses else "binary"

    def table(self) -> str:
        """The rounds as a Markdown table (errors as rates, or regression's standardised MSE)."""
        fmt = error_format(self.task)
        return markdown_table(
            ["round", "change", "train error", "dev error", "verdict", "problems", "kept"],
            [[r.number, r.change, fmt(r.train_error), fmt(r.dev_error) + (f" ({r.compared})" if r.compared else ""),
              r.verdict, ", ".join(r.problems) or "—",
              "best" if r.number == self.best_round else ("yes" if r.kept else "no")]
             for r in self.rounds])


def improve(spec: ExperimentSpec, *, rounds: int = 4, out_dir: str | Path | None = "runs",
            optimal_error: float | None = None,
            on_round: Callable[[Round], None] | None = None) -> DoctorResult:
    """Diagnose, apply the advice, retrain and compare, for up to ``rounds`` rounds after the first run.

    Args:
        spec: the experiment to improve.
        rounds: retraining rounds after round 0 (default 4).
        out_dir: where the doctor's folder (``doctor-<name>-<time>``) is created; None writes nothing.
        optimal_error: the optimal error for the bias/variance verdict (default: the spec's).
        on_round: called with each finished :class:`Round` (the CLI prints it).

    Returns:
        A :class:`DoctorResult`: the rounds, the best spec and why the doctor stopped.
    """
    folder = claim_folder(out_dir, f"doctor-{spec.name}") if out_dir is not None else None
    best_spec, best_run, best = spec, *_train_and_diagnose(spec, 0, folder, optimal_error)
    optimal_error = best.bias_variance.optimal_error  # estimated once (regression), the same for every round
    history = [_round(0, [], best_run, best, kept=True)]
    diagnoses, tried, stop_reason = [best], set(), f"ran all {rounds} rounds"
    _notify(on_round, history[-1])
    for number in range(1, rounds + 1):
        step = _next_step(best, tried)
        if not best.problems:
            stop_reason = "nothing left to fix: good fit and healthy layers"
            break
        if step is None:
            stop_reason = "no advice left that a spec change can carry out"
            break
        tried.add(_signature(step))
        candidate = apply_advice(best_spec, step)
        run, diagnosis = _train_and_diagnose(candidate, number, folder, optimal_error)
        comparison = None if same_rows(run, best_run) else compare_on_fresh_points(run, best_run)
        kept = _better(run, best_run, comparison)
        history.append(_round(number, step, run, diagnosis, kept=kept,
                              compared=comparison.describe() if comparison else ""))
        diagnoses.append(diagnosis)
        if kept:
            best_spec, best_run, best = candidate, run, diagnosis
        _notify(on_round, history[-1])
    best_round = max((r.number for r in history if r.kept), default=0)
    result = DoctorResult(history, best_spec, best_round, stop_reason, folder, diagnoses)
    if folder is not None:
        _write(result, folder)
    return result


def _train_and_diagnose(spec: ExperimentSpec, number: int, folder: Path | None,
                        optimal_error: float | None) -> tuple[Run, Diagnosis]:
    named = load_spec(spec, overrides={"name": f"{spec.name}-round{number}"})
    run = train_run(named, out_dir=folder)
    return run, diagnose(run, optimal_error=optimal_error, learning_curves=False, write_report=folder is not None,
                         baselines=False)


def _next_step(diagnosis: Diagnosis, tried: set) -> list[Advice] | None:
    steps: dict[int, list[Advice]] = {}
    for item in diagnosis.advice:
        steps.setdefault(item.step, []).append(item)
    for items in steps.values():
        applicable = [item for item in items if item.applicable]
        if applicable and _signature(applicable) not in tried:
            return applicable
    return None


def _signature(step: list[Advice]) -> tuple:
    return tuple(sorted((item.field, json.dumps(item.to)) for item in step))


def _better(run: Run, best: Run, comparison: Comparison | None = None) -> bool:
    """A run that did not diverge beats one that did; then the lower error on the same held-out points
    (the fresh points of ``comparison`` when the data changed, else the dev split); ties go to the dev loss."""
    if bool(run.summary.get("diverged")) != bool(best.summary.get("diverged")):
        return not run.summary.get("diverged")
    if comparison is not None:
        return comparison.candidate < comparison.best
    return (run.summary["dev_error"], run.summary.get("dev_loss", 0.0)) < \
        (best.summary["dev_error"], best.summary.get("dev_loss", 0.0))


def _round(number: int, step: list[Advice], run: Run, diagnosis: Diagnosis, *, kept: bool, compared: str = "") -> Round:
    change = "; ".join(item.describe().split(": ")[0] for item in step) if step else "as given"
    return Round(number=number, change=change, changes=[item.to_dict() for item in step],
                 train_error=run.summary["train_error"], dev_error=run.summary["dev_error"],
                 test_error=run.summary["test_error"], verdict=diagnosis.bias_variance.verdict,
                 problems=diagnosis.problems, diverged=bool(run.summary.get("diverged")), kept=kept,
                 run_dir=str(run.dir) if run.dir else None, compared=compared)


def _notify(on_round: Callable[[Round], None] | None, row: Round) -> None:
    if on_round is not None:
        on_round(row)


def _write(result: DoctorResult, folder: Path) -> None:
    rows = [r.to_dict() for r in result.rounds]
    write_json(folder / "doctor.json", {"rounds": rows, "best_round": result.best_round,
                                        "stop_reason": result.stop_reason})
    columns = ["number", "change", "train_error", "dev_error", "test_error", "verdict", "problems", "kept",
               "compared", "run_dir"]
    write_csv(folder / "doctor.csv", [{**row, "problems": " ".join(row["problems"])} for row in rows], columns)
    unit = " Errors are the MSE of the standardised target." if result.task == "regression" else ""
    write_text_atomic(folder / "doctor.md", f"# Doctor: {result.best_spec.name}\n\n{result.table()}\n\n"
                                            f"Stopped: {result.stop_reason}. Best: round {result.best_round} "
                                            f"(`best_spec.yaml`).{unit}\n")
    write_text_atomic(folder / "best_spec.yaml", dump_spec(result.best_spec))
