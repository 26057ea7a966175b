"""The doctor learns time: why a recurrent network does not learn a sequence task, and what to change.

It reads what training recorded — ‖∂L/∂h_t‖ at every time step (the health record's
``through_time`` probes), the first batch's loss, the clip rate per epoch — and the run's
memoryless baseline, and finds:

* ``vanishing_through_time`` — the gradient reaching the first step is a tiny fraction of
  the last step's (‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ < 1e-4 late in training): the early steps get no
  learning signal, so nothing far back can be remembered;
* ``exploding_through_time`` — it grows going back (ratio > 100) or became NaN/inf;
* ``stuck_at_baseline`` — the dev loss is within 5 % of what a model without memory scores;
* ``initial_loss_off`` — a classifier's first loss is far (20 %) from ln K, the loss of a
  uniform guess among K classes (ln V for a language model): an initialisation bug;
* ``high_clip_rate`` — most steps of the late epochs were clipped (> 50 %): the step size is
  set by ``train.grad_clip``, not by the gradient.

Example:
    >>> from neuralab.doctor.through_time import judge_ratio
    >>> judge_ratio(1e-9), judge_ratio(0.3), judge_ratio(1e4)
    ('vanishing_through_time', None, 'exploding_through_time')
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from neuralab.doctor.verdicts import Finding
from neuralab.runs.run import Run
from neuralab.training.rules import clip_norm
from neuralab.training.time_gradients import first_to_last_ratio

SEQUENCE_VERDICTS = ("exploding_through_time", "vanishing_through_time", "stuck_at_baseline", "initial_loss_off",
                     "high_clip_rate")
VANISHING_RATIO = 1e-4  # the first step's gradient under 1/10,000 of the last step's
EXPLODING_RATIO = 1e2  # the first step's gradient 100× the last step's
STUCK_MARGIN = 0.05  # a dev loss within 5 % of the memoryless baseline learned nothing of the sequence
INITIAL_LOSS_MARGIN = 0.2  # a first loss more than 20 % away from ln K
HIGH_CLIP_RATE = 0.5  # more than half of the late epochs' steps clipped


@dataclass
class SequenceDiagnosis:
    """What the doctor sees of a recurrent run through time (``report.json``'s ``sequence``).

    Attributes:
        gradient_ratio: ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ of the lowest recurrent layer, median over the later
            half of the probes (None when none was recorded).
        gradient_ratio_start: the same at the first probe (initialisation).
        verdict: the most urgent of ``verdicts``, or ``healthy``.
        baseline_loss: the memoryless loss; ``stuck_at_baseline``: the dev loss is within 5 % of it.
        initial_loss, expected_initial_loss: the first batch's loss and ln K (classifiers).
        clip_rate: mean fraction of clipped steps over the later half of the epochs (None: no clipping).
        curves: the gradient through time (lowest layer) at the first and the last probe, for plots.
    """

    cell: str
    sequence_length: int
    baseline_loss: float
    baseline_rule: str
    dev_loss: float
    stuck_at_baseline: bool
    gradient_ratio: float | None
    gradient_ratio_start: float | None
    initial_loss: float | None
    expected_initial_loss: float | None
    clip_rate: float | None
    verdicts: list[str]
    findings: list[Finding] = field(default_factory=list)
    curves: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return self.verdicts[0] if self.verdicts else "healthy"

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "verdicts": self.verdicts, "gradient_ratio": self.gradient_ratio,
                "gradient_ratio_start": self.gradient_ratio_start, "baseline_loss": self.baseline_loss,
                "baseline_rule": self.baseline_rule, "dev_loss": self.dev_loss,
                "stuck_at_baseline": self.stuck_at_baseline, "initial_loss": self.initial_loss,
                "expected_initial_loss": self.expected_initial_loss, "clip_rate": self.clip_rate,
                "cell": self.cell, "sequence_length": self.sequence_length,
                "findings": [finding.to_dict() for finding in self.findings], "curves": self.curves}


def judge_ratio(ratio: float | None) -> str | None:
    """``vanishing_through_time``, ``exploding_through_time`` or None for a first-to-last gradient ratio."""
    if ratio is None:
        return None
    if not math.isfinite(ratio) or ratio > EXPLODING_RATIO:
        return "exploding_through_time"
    return "vanishing_through_time" if ratio < VANISHING_RATIO else None


def diagnose_sequence(run: Run, health: dict[str, Any] | None) -> SequenceDiagnosis | None:
    """The through-time diagnosis of a run on sequence or text data; None for tabular data."""
    summary, spec = run.summary, run.spec
    if summary.get("baseline_loss") is None:
        return None
    probes = (health or {}).get("through_time") or []
    ratios = [_ratio(probe) for probe in probes]
    later = [r for r in ratios[len(ratios) // 2:] if r is not None]
    ratio = float(median(later)) if later else None
    if any(_nonfinite(probe) for probe in probes):
        ratio = math.inf
    samples = (health or {}).get("samples") or []
    initial = samples[0]["loss"] if samples else None
    expected = math.log(run.head.n_outputs) if run.head.is_classifier and run.head.n_outputs > 1 else None
    rates = [row["clip_rate"] for row in run.history if "clip_rate" in row]
    clip_rate = sum(rates[len(rates) // 2:]) / len(rates[len(rates) // 2:]) if rates else None
    baseline, dev = float(summary["baseline_loss"]), float(summary.get("dev_loss", math.nan))
    diagnosis = SequenceDiagnosis(
        cell=spec.model.kind, sequence_length=int(summary.get("sequence_length") or 0), baseline_loss=baseline,
        baseline_rule=summary.get("baseline_rule", ""), dev_loss=dev,
        stuck_at_baseline=not dev < (1 - STUCK_MARGIN) * baseline, gradient_ratio=ratio,
        gradient_ratio_start=ratios[0] if ratios else None, initial_loss=initial, expected_initial_loss=expected,
        clip_rate=clip_rate, verdicts=[],
        curves={"first": _curve(probes[0]), "last": _curve(probes[-1])} if probes else {})
    diagnosis.findings = _findings(diagnosis, run)
    diagnosis.verdicts = [f.verdict for f in diagnosis.findings]
    return diagnosis


def _findings(d: SequenceDiagnosis, run: Run) -> list[Finding]:
    spec, found = run.spec, []
    steps = d.sequence_length
    cell = f"a {spec.model.recurrent.nonlinearity} RNN" if d.cell == "rnn" else f"an {d.cell.upper()}"
    trend = judge_ratio(d.gradient_ratio)
    if trend == "exploding_through_time":
        found.append(Finding(trend, (f"the gradient grows going back in time (‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ = "
                                     f"{_show(d.gradient_ratio)}): each step back multiplies it by the recurrent "
                                     f"Jacobian, whose gain is above 1 in {cell} (init {spec.model.recurrent.init})"),
                             "clip the gradient norm (train.grad_clip), a lower learning rate, orthogonal recurrent "
                             "weights or a gated cell (lstm, gru)"))
    elif trend == "vanishing_through_time":
        why = ("a tanh RNN multiplies it at every step by the recurrent weights times tanh′ ≤ 1, so it shrinks "
               "geometrically" if d.cell == "rnn" else "the forget gates are below 1 and the cell state fades")
        cure = ("an LSTM or GRU (model.kind lstm): its cell state carries the gradient through the forget gate "
                "almost unchanged" if d.cell == "rnn" else
                "forget-gate bias 1 (model.recurrent.forget_bias), more units, or a shorter data.sequence_length")
        found.append(Finding(trend, (f"the gradient reaching the first of {steps} steps is {_show(d.gradient_ratio)} "
                                     f"of the last step's: {why}, so the early steps get no learning signal"), cure))
    if d.stuck_at_baseline:
        because = " — the gradient from the early steps vanishes" if trend == "vanishing_through_time" else ""
        found.append(Finding("stuck_at_baseline", (f"the dev loss {d.dev_loss:.4g} is within {STUCK_MARGIN:.0%} of "
                                                   f"the memoryless baseline {d.baseline_loss:.4g} ({d.baseline_rule}): "
                                                   f"the network predicts as if it had no memory{because}"),
                             "a cell that remembers (lstm or gru), a lower learning rate or more epochs"))
    if d.initial_loss is not None and d.expected_initial_loss and \
            abs(d.initial_loss / d.expected_initial_loss - 1) > INITIAL_LOSS_MARGIN:
        found.append(Finding("initial_loss_off", (f"the first batch's loss was {d.initial_loss:.3g}, but a uniform "
                                                  f"guess among {run.head.n_outputs} classes scores ln "
                                                  f"{run.head.n_outputs} = {d.expected_initial_loss:.3g}: the initial "
                                                  "outputs are far from uniform (an initialisation problem)"),
                             "the recurrent kinds' own initialisation (model.recurrent.init auto) and a small output "
                             "layer"))
    if d.clip_rate is not None and d.clip_rate > HIGH_CLIP_RATE:
        found.append(Finding("high_clip_rate", (f"{d.clip_rate:.0%} of the later epochs' steps were clipped "
                                                f"(train.grad_clip {clip_norm(spec):g}): the step size is set by "
                                                "clipping, not by the gradient"), "a lower learning rate"))
    return found


def _ratio(probe: dict[str, Any]) -> float | None:
    return first_to_last_ratio(probe["norms"][0]) if probe["norms"] else None


def _nonfinite(probe: dict[str, Any]) -> bool:
    return any(value is None for row in probe["norms"] for value in row)


def _curve(probe: dict[str, Any]) -> dict[str, Any]:
    return {"step": probe["step"], "norms": probe["norms"][0]}


def _show(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    if ratio == 0:
        return "0 (below float32's smallest number)"
    return "inf" if not math.isfinite(ratio) else f"{ratio:.1e}"
