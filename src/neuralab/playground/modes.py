"""The playground's two modes: ``classic`` gives TensorFlow Playground's numbers, ``modern`` neuralab's choices.

A mode is no hidden switch of the engine: it is a set of ordinary spec settings, so the
exported spec carries it and ``neuralab train`` reproduces the page.

classic (the page opens in it), TF Playground's network and training as its source defines them:
  * weights U(−0.5, 0.5) and biases 0.1 (``model.init: playground``);
  * a tanh output on labels −1/+1 (one per class, +1 for its own, above two classes) and the loss
    ½(o − t)² averaged over the points (``model.output_activation: tanh``, the Loss menu's auto
    is ``train.loss: half_squared``); a linear output for regression, with the same loss; a
    cross-entropy chosen in the Loss menu gets its sigmoid/softmax output;
  * raw inputs and targets, no standardisation (``data.standardize: false``);
  * the ratio's train/test split and no dev split (``data.split: [r, 0, 1 − r]``);
  * L2 at rate r is TF Playground's penalty ½·r·w², a step of lr·r·w (``train.l2: r/2``); L1
    steps lr·r·sign(w) after the gradient step and a weight it carries across zero is 0 for good
    (``train.l1_style: playground``);
  * the rows in the same order every epoch (``train.shuffle: once``) and the training loss
    recomputed on the whole training split after each epoch (``train.train_metrics: full``).
  With the page's defaults (plain SGD, learning rate 0.03, batch size 10) that is TF Playground's
  update rule; it differs only where a batch size does not divide the training points (TF
  Playground carries the last partial batch into the next epoch; neuralab steps on it).

modern, neuralab's choices: cross-entropy on a sigmoid/softmax output (``loss: auto``), Xavier
initialisation, standardised inputs and regression targets, the held-out part shared by a dev
and a test split, neuralab's L2 (``l2·Σw²``) and L1 penalty, rows reshuffled every epoch and the
training loss averaged over the epoch's batches.

Switching the mode sets the initialisation to the mode's and the loss to auto (the other
controls stay as they are).

Example:
    >>> settings("classic", ratio=50, problem="classification", loss="auto")["data"]
    {'split': [0.5, 0.0, 0.5], 'standardize': False}
    >>> regularization("classic", kind="l2", rate=0.1)
    {'l1': 0.0, 'l2': 0.05, 'l1_style': 'playground'}
"""
from __future__ import annotations

from typing import Any

from neuralab.spec import ExperimentSpec
from neuralab.training.losses import DISTANCE_LOSSES

MODES = ("classic", "modern")
PRESETS = {"classic": {"init": "playground", "loss": "auto"},  # what switching to a mode sets
           "modern": {"init": "xavier_uniform", "loss": "auto"}}
CLASSIC_LOSS = "half_squared"  # TF Playground's ½(o − t)²: classic's auto loss


def split_fractions(mode: str, ratio: int) -> list[float]:
    """[train, dev, test] fractions of the ratio control: classic has no dev split; modern shares the rest.

    Example:
        >>> split_fractions("classic", 70), split_fractions("modern", 70)
        ([0.7, 0.0, 0.3], [0.7, 0.15, 0.15])
    """
    if mode == "classic":
        return [round(ratio / 100, 6), 0.0, round(1 - ratio / 100, 6)]
    held_out = round((1 - ratio / 100) / 2, 6)
    return [round(1 - 2 * held_out, 6), held_out, held_out]


def output_activation(mode: str, *, problem: str, loss: str) -> str:
    """Classic classification reads a tanh output with a distance loss; everything else is ``auto``."""
    if mode == "classic" and problem == "classification" and loss in ("auto", *DISTANCE_LOSSES):
        return "tanh"
    return "auto"


def regularization(mode: str, *, kind: str, rate: float) -> dict[str, Any]:
    """``train.l1``, ``train.l2`` and ``train.l1_style`` of the page's regularisation control.

    Classic's L2 rate r is TF Playground's penalty ½·r·w², neuralab's ``l2 = r/2`` (halving is exact
    in floating point, so ``2·l2`` gives r back).
    """
    classic = mode == "classic"
    return {"l1": rate if kind == "l1" else 0.0,
            "l2": (rate / 2 if classic else rate) if kind == "l2" else 0.0,
            "l1_style": "playground" if classic else "penalty"}


def settings(mode: str, *, ratio: int, problem: str, loss: str) -> dict[str, dict[str, Any]]:
    """The spec settings a mode decides, by section (``data`` split and scaling; output and loss; training details)."""
    classic = mode == "classic"
    return {"data": {"split": split_fractions(mode, ratio), "standardize": not classic},
            "model": {"output_activation": output_activation(mode, problem=problem, loss=loss)},
            "train": {"loss": CLASSIC_LOSS if classic and loss == "auto" else loss,
                      "train_metrics": "full" if classic else "running", "shuffle": "once" if classic else "every_epoch"}}


def mode_of(spec: ExperimentSpec) -> str:
    """The mode a spec is closest to: classic when it feeds raw, unstandardised inputs."""
    return "modern" if spec.data.standardize else "classic"


def page_rate(spec: ExperimentSpec, mode: str) -> float:
    """The regularisation rate the page shows for a spec's ``train.l1`` / ``train.l2`` in ``mode``."""
    train = spec.train
    if train.l1 > 0:
        return train.l1
    return 2 * train.l2 if mode == "classic" else train.l2


def page_loss(spec: ExperimentSpec, mode: str) -> str:
    """The Loss menu's entry for a spec's ``train.loss`` in ``mode`` (classic's half_squared is its auto)."""
    loss = spec.train.loss
    if mode == "classic" and loss == CLASSIC_LOSS:
        return "auto"
    return "cross_entropy" if loss == "bce" else loss
