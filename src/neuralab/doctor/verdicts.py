"""Per-layer health verdicts from the recorded samples, each with its cause and cure.

Verdicts: ``vanishing``, ``exploding``, ``dead_units``, ``saturated``, ``symmetric`` or
``healthy``. Gradients are compared *between layers* (per-weight RMS, relative to the
strongest layer at the same step), so the verdicts hold for any loss scale; the fixed
limits below are the ones the tests and the lecture's examples bear out. Vanishing is
judged at the initial weights (the first sample, taken at the first step) as well as over
the whole run, as the lecture describes it: the early layers barely learn from the start,
even when their gradients recover later (e.g. once sigmoid units saturate).

Example:
    >>> from neuralab.doctor.verdicts import VERDICTS
    >>> VERDICTS
    ('vanishing', 'exploding', 'dead_units', 'saturated', 'symmetric', 'healthy')
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from neuralab.doctor.advice import SCALED_INITS, SQUASHING
from neuralab.spec import ExperimentSpec
from neuralab.training.rules import clip_norm
from neuralab.training.outcome import rate_too_high

VERDICTS = ("vanishing", "exploding", "dead_units", "saturated", "symmetric", "healthy")
VANISHING_RATIO = 1e-2  # per-weight gradient RMS below 1 % of the strongest layer's
EXPLODING_GROWTH = 100.0  # gradient norm grew 100× from the first to the last third of training
LARGE_UPDATE = 0.3  # a step that changes the weights by 30 % of their norm
DEAD_LIMIT = 0.5  # half of a ReLU layer's units output 0 for a whole batch
SATURATED_LIMIT = 0.5  # half of the outputs sit at the flat ends of sigmoid/tanh…
CHOKED_GRADIENT = 0.1  # …and the layer's gradient is under 10 % of the strongest layer's
ALL_SATURATED = 0.9  # or nearly all outputs sit at the flat ends
SYMMETRIC_LIMIT = 0.5  # half of the units have an identical twin
LARGE_INIT_SCALE = 2.0  # init_std·√fan_in; He init's is √2 ≈ 1.4


@dataclass
class Finding:
    """One verdict on one layer, with the likely cause and the cure."""

    verdict: str
    cause: str
    cure: str

    def to_dict(self) -> dict[str, str]:
        return {"verdict": self.verdict, "cause": self.cause, "cure": self.cure}


@dataclass
class LayerHealth:
    """A layer's verdicts and the numbers behind them (medians over the samples)."""

    name: str
    activation: str | None
    verdicts: list[str]
    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "activation": self.activation, "verdicts": self.verdicts,
                "findings": [f.to_dict() for f in self.findings], **self.stats}


def layer_verdicts(health: dict[str, Any], spec: ExperimentSpec) -> list[LayerHealth]:
    """Judge every recorded layer: vanishing, exploding, dead units, saturated, symmetric, healthy."""
    samples, layers = health["samples"], health["layers"]
    relative = _relative_gradients(samples, layers)
    initial = relative[0] if relative and samples[0]["step"] == 1 else [None] * len(layers)  # the first step
    growth = _growth([s["grad_norm"] for s in samples], len(layers))
    later = samples[len(samples) // 2:] or samples
    nonfinite = _nonfinite_layers(health)
    # The final weights when training has ended, else the latest sample (live use, e.g. the playground).
    symmetric = (health.get("final") or {}).get("symmetric_fraction") or \
        (samples[-1].get("symmetric_fraction") if samples else None) or [None] * len(layers)
    results = []
    for index, layer in enumerate(layers):
        stats = {
            "grad_norm": _median(s["grad_norm"][index] for s in samples),
            "relative_gradient": _median(r[index] for r in relative),
            "initial_relative_gradient": initial[index],
            "gradient_growth": growth[index],
            "update_ratio": _median(s["update_ratio"][index] for s in later),
            "dead_fraction": _median(s["dead_fraction"][index] for s in later),
            "saturated_fraction": _median(s["saturated_fraction"][index] for s in later),
            "symmetric_fraction": symmetric[index],
        }
        findings = _findings(layer, stats, index in nonfinite, spec, depth=len(layers) - 1)
        if spec.model.is_recurrent:  # between-layer gradients of an embedding, gates and a head are not a depth
            findings = [f for f in findings if f.verdict != "vanishing"]  # story: time is (doctor/through_time.py)
        verdicts = [f.verdict for f in findings] or ["healthy"]
        results.append(LayerHealth(layer["name"], layer.get("activation"), verdicts, findings, stats))
    return results


def _findings(layer: dict, stats: dict, nonfinite: bool, spec: ExperimentSpec, *, depth: int) -> list[Finding]:
    name, activation = layer["name"], layer.get("activation")
    if (stats["symmetric_fraction"] or 0) >= SYMMETRIC_LIMIT:
        # Symmetry explains everything else this layer shows (no gradient, dead units).
        return [Finding("symmetric", f"{stats['symmetric_fraction']:.0%} of {name}'s units have a twin with identical "
                        f"weights: they started equal (model.init {spec.model.init}) and get equal gradients",
                        "random initial weights: he_normal for ReLU, xavier_normal for sigmoid/tanh")]
    found = []
    relative, initial = stats["relative_gradient"], stats.get("initial_relative_gradient")
    weakest = min((value for value in (relative, initial) if value is not None), default=None)
    if weakest is not None and weakest < VANISHING_RATIO:
        when = "over training" if relative is not None and relative < VANISHING_RATIO else "at the initial weights"
        found.append(Finding("vanishing", _vanishing_cause(name, weakest, spec, depth, when=when),
                             "use ReLU with He init (model.activation relu, model.init he_normal) or batch norm"))
    growth, update = stats["gradient_growth"], stats["update_ratio"]
    if nonfinite or (growth or 0) > EXPLODING_GROWTH or (update or 0) > LARGE_UPDATE:
        found.append(Finding("exploding", _exploding_cause(name, nonfinite, growth, update),
                             "lower the learning rate, clip gradients (train.grad_clip), Xavier/He init"))
    if (stats["dead_fraction"] or 0) >= DEAD_LIMIT:
        found.append(Finding("dead_units", f"{stats['dead_fraction']:.0%} of {name}'s ReLU units output 0 for every "
                             "sample of a batch, so they get no gradient (often too high a learning rate)",
                             "leaky_relu, a lower learning rate, He init"))
    saturated = stats["saturated_fraction"] or 0
    # Confident units at the rails are fine while gradients still flow; it is a problem when
    # they choke the gradient, or when nearly every output sits at a rail.
    if saturated >= ALL_SATURATED or (saturated >= SATURATED_LIMIT and (relative or 1.0) < CHOKED_GRADIENT):
        found.append(Finding("saturated", f"{stats['saturated_fraction']:.0%} of {name}'s {activation} outputs sit at "
                             "the flat ends, where the gradient is about 0 (weights or inputs too large)",
                             "a lower learning rate, gradient clipping, or a gated cell (lstm, gru)"
                             if spec.model.is_recurrent else "Xavier init, standardised inputs, batch norm, or ReLU"))
    return found


def _vanishing_cause(name: str, relative: float, spec: ExperimentSpec, depth: int, *, when: str) -> str:
    activations = set(spec.model.layer_activations())
    squashing = sorted(activations & set(SQUASHING))
    reasons = [f"{name}'s gradients are {relative:.0e} of the strongest layer's {when}"]
    if squashing:
        reasons.append(f"{depth} {'/'.join(squashing)} layers each multiply the gradient by g′ ≤ "
                       f"{'0.25' if 'sigmoid' in squashing else '1'}")
    if spec.model.init in SCALED_INITS and spec.model.init_std < 0.1:
        reasons.append(f"small initial weights (model.init {spec.model.init}, init_std {spec.model.init_std:g}) "
                       "shrink it further at each layer")
    return "; ".join(reasons)


def _exploding_cause(name: str, nonfinite: bool, growth: float | None, update: float | None) -> str:
    if nonfinite:
        return f"{name}'s gradient became NaN/inf"
    if growth is not None and growth > EXPLODING_GROWTH:
        return f"{name}'s gradient norm grew {growth:.0f}× during training"
    return f"each step changes {name}'s weights by {update:.0%} of their norm: updates overshoot"


def divergence_cause(spec: ExperimentSpec, health: dict[str, Any] | None) -> str:
    """Name the likely cause of a NaN/inf loss from the settings and the recorded gradients."""
    causes = []
    train, model = spec.train, spec.model
    if rate_too_high(train):
        causes.append(rate_too_high(train))
    scale = _init_scale(spec, health)
    if scale is not None and scale > LARGE_INIT_SCALE:
        causes.append(f"exploding gradients from large initial weights (model.init {model.init}, init_std "
                      f"{model.init_std:g}: each layer scales the signal by about {scale:.1f}; He init's is 1.4)")
    growth = max((g for g in _growth([s["grad_norm"] for s in health["samples"]], len(health["layers"]))
                  if g is not None), default=None) if health else None
    if health and _nonfinite_layers(health):
        causes.append("exploding gradients: the gradient norms became NaN/inf")
    elif growth is not None and growth > EXPLODING_GROWTH:
        causes.append(f"exploding gradients: the gradient norms grew {growth:.0f}× during training")
    if clip_norm(spec) is None and causes:
        causes.append("no gradient clipping (train.grad_clip is off)")
    if not causes:
        causes.append(f"the loss became NaN/inf with learning rate {train.learning_rate:g}; "
                      "try a lower learning rate or gradient clipping")
    return "; ".join(causes)


def _init_scale(spec: ExperimentSpec, health: dict[str, Any] | None) -> float | None:
    if spec.model.init not in SCALED_INITS or not health:
        return None
    fan_ins = [layer["inputs"] for layer in health["layers"]]
    return spec.model.init_std * math.sqrt(max(fan_ins)) if fan_ins else None


def _relative_gradients(samples: list[dict], layers: list[dict]) -> list[list[float | None]]:
    """Per sample: each layer's per-weight gradient RMS divided by the largest layer's."""
    sizes = [math.sqrt(layer["inputs"] * layer["outputs"]) for layer in layers]
    rows = []
    for sample in samples:
        rms = [None if g is None else g / size for g, size in zip(sample["grad_norm"], sizes)]
        finite = [value for value in rms if value is not None]
        top = max(finite) if finite else 0.0
        rows.append([None if value is None or top <= 0 else value / top for value in rms])
    return rows


def _growth(norms: list[list[float | None]], n_layers: int) -> list[float | None]:
    """Median gradient norm of the last third of the samples over that of the first third."""
    if len(norms) < 3:
        return [None] * n_layers
    third = len(norms) // 3
    result = []
    for index in range(n_layers):
        first = _median(row[index] for row in norms[:third])
        last = _median(row[index] for row in norms[-third:])
        result.append(last / first if first and last is not None and first > 0 else None)
    return result


def _nonfinite_layers(health: dict[str, Any]) -> set[int]:
    rows = [s["grad_norm"] for s in health["samples"]]
    if health.get("diverged"):
        rows.append(health["diverged"]["grad_norm"])
    return {index for row in rows for index, value in enumerate(row) if value is None}


def _median(values) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(median(finite)) if finite else None
