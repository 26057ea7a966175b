"""What a finished training's scores say beyond their numbers: a classifier no better than a guess.

A classifier whose train *and* dev errors end at (or near) the error of always guessing the
most frequent class learned nothing, even when no loss became NaN: an adaptive optimiser at
a far too high learning rate (Adam at 10) or weights that start all equal end there
quietly. :func:`chance_warning` says so and names the likely cause; the run's summary keeps
it under ``warnings`` and ``neuralab train`` prints it. :func:`rate_too_high` is the one
rule for "this learning rate is too high for this optimiser" (the doctor's divergence cause
uses it too), from the catalog's ``high rate`` of each optimiser.

Example:
    >>> import numpy as np
    >>> from neuralab.spec import load_spec
    >>> chance_error(np.array([0, 0, 0, 1]))
    0.25
    >>> spec = load_spec({"train": {"optimizer": "adam", "learning_rate": 10}})
    >>> chance_warning(spec, errors={"train": 0.9, "dev": 0.88}, chance=0.9)  # doctest: +ELLIPSIS
    'the classifier ended at chance level (train error 90.0%, dev error 88.0%; ... learning rate too high ...'
    >>> chance_warning(spec, errors={"train": 0.1, "dev": 0.12}, chance=0.9)
    ''
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from neuralab.spec import ExperimentSpec, TrainSpec
from neuralab.spec.catalog import OPTIMIZERS

# "Near chance": the errors closed less than a tenth of the gap between guessing and perfect.
CHANCE_SHARE = 0.9
LOW_RATE_SHARE = 1e-3  # a rate below a thousandth of the optimiser's high rate barely moves the weights


def high_rate(optimizer: str) -> float:
    """The learning rate from which ``optimizer`` often diverges or stalls (the catalog's ``high rate``)."""
    return float(OPTIMIZERS[optimizer].properties["high rate"])


def rate_too_high(train: TrainSpec) -> str:
    """'learning rate too high (…)' when ``train.learning_rate`` is above the optimiser's high rate, else ''."""
    limit = high_rate(train.optimizer)
    if train.learning_rate <= limit:
        return ""
    return (f"learning rate too high ({train.learning_rate:g} for {train.optimizer}; "
            f"above {limit:g} often diverges)")


def chance_error(targets: np.ndarray) -> float:
    """The error of always guessing the most frequent class of ``targets`` (class indices, any shape)."""
    counts = np.bincount(np.asarray(targets, dtype=np.int64).ravel())
    return 1.0 - float(counts.max()) / float(counts.sum()) if counts.sum() else 0.0


def chance_warning(spec: ExperimentSpec, *, errors: Mapping[str, float], chance: float) -> str:
    """A warning when a classifier's train and dev errors are both near ``chance`` ('' otherwise).

    Args:
        spec: the experiment (for the likely cause).
        errors: ``{"train": error, "dev": error}`` of the kept weights, as fractions.
        chance: the error of guessing the most frequent training class (:func:`chance_error`).
    """
    if chance <= 0 or any(split not in errors for split in ("train", "dev")):
        return ""
    if min(errors["train"], errors["dev"]) < CHANCE_SHARE * chance:
        return ""
    return (f"the classifier ended at chance level (train error {errors['train']:.1%}, dev error "
            f"{errors['dev']:.1%}; guessing the most frequent class gives {chance:.1%}): it learned nothing. "
            f"Likely cause: {_stall_cause(spec)}")


def _stall_cause(spec: ExperimentSpec) -> str:
    train, model = spec.train, spec.model
    if rate_too_high(train):
        return (f"{rate_too_high(train)}; try {high_rate(train.optimizer) / 10:g} "
                "or `neuralab lr-find`")
    if model.init == "zeros":
        return "model.init zeros: every hidden unit starts and stays identical (the symmetry problem); use he_normal"
    if train.learning_rate < LOW_RATE_SHARE * high_rate(train.optimizer):
        return (f"learning rate too low ({train.learning_rate:g} for {train.optimizer}): the weights barely move; "
                "try a higher rate or `neuralab lr-find`")
    return ("the network did not learn with these settings; check the learning rate (`neuralab lr-find`), "
            "the data and the layers' health (`neuralab diagnose`)")
