"""Live gradient health for the network drawing, from the doctor's own recorder and verdicts.

The session trains with :class:`~neuralab.training.callbacks.health_recorder.HealthRecorder` among
its callbacks (it only reads the model, so the numbers stay the CLI's), and each frame
judges the most recent samples with :func:`neuralab.doctor.verdicts.layer_verdicts`: a
layer is marked ``vanishing``, ``exploding``, ``dead_units``, ``saturated`` or
``symmetric`` as ``neuralab diagnose`` would say of the last few hundred steps.

Example:
    >>> import torch
    >>> from neuralab.spec import ExperimentSpec
    >>> recorder = HealthRecorder(every=1)
    >>> live_health(recorder, ExperimentSpec())
    []
"""
from __future__ import annotations

from typing import Any

from neuralab.doctor.verdicts import layer_verdicts
from neuralab.spec import ExperimentSpec
from neuralab.training.callbacks.health_recorder import HealthRecorder

RECENT_SAMPLES = 12  # verdicts judge this many of the latest samples: the marks follow training
HEALTH_SECONDS = 0.5  # a frame judges the samples again at most this often
SAMPLES_PER_SECOND = 8  # at most: the verdicts then judge the last 1.5 s (a sample costs a few steps' time)
MIN_EVERY = 10  # optimiser steps between samples, at least

__all__ = ["HealthRecorder", "live_health", "health_every", "HEALTH_SECONDS"]


def health_every(steps_per_epoch: int, *, steps_per_second: float = 0.0) -> int:
    """Optimiser steps between health samples: about one per epoch, and no more than
    ``SAMPLES_PER_SECOND`` at the training speed ``steps_per_second`` (a sample costs a few steps' time).

    Example:
        >>> health_every(25), health_every(3), health_every(25, steps_per_second=1500)
        (25, 10, 188)
    """
    return max(MIN_EVERY, steps_per_epoch, round(steps_per_second / SAMPLES_PER_SECOND))


def live_health(recorder: HealthRecorder, spec: ExperimentSpec) -> list[dict[str, Any]]:
    """One row per weight layer: name, verdict ("ok" when healthy), gradient norm, dead fraction, cause."""
    if not recorder.samples:
        return []
    recent = {"layers": recorder.layers, "samples": recorder.samples[-RECENT_SAMPLES:],
              "diverged": recorder.diverged, "histograms": {}, "every": recorder.every}
    rows = []
    for layer in layer_verdicts(recent, spec):
        bad = [verdict.replace("_", " ") for verdict in layer.verdicts if verdict != "healthy"]
        rows.append({"layer": layer.name, "verdict": ", ".join(bad) or "ok",
                     "gradient_norm": layer.stats.get("grad_norm"),
                     "dead": layer.stats.get("dead_fraction") or 0.0,
                     "causes": [finding.cause for finding in layer.findings]})
    return rows
