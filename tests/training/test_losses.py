"""Heads: auto output activation and loss by task, each loss's value, predictions."""
from __future__ import annotations

import math

import pytest
import torch

from neuralab.errors import SpecError
from neuralab.training.losses import make_head


@pytest.mark.parametrize("task, output, loss, outputs", [
    ("regression", "linear", "mse", 1), ("binary", "sigmoid", "bce", 1), ("multiclass", "softmax", "cross_entropy", 5),
])
def test_auto_resolution(task, output, loss, outputs):
    head = make_head(task=task, n_classes=5 if task == "multiclass" else 2)
    assert (head.output_activation, head.loss, head.n_outputs) == (output, loss, outputs)


def test_binary_with_softmax_uses_two_outputs_and_cross_entropy():
    head = make_head(task="binary", n_classes=2, output_activation="softmax", loss="bce")
    assert (head.n_outputs, head.loss) == (2, "cross_entropy")


@pytest.mark.parametrize("kwargs, field", [
    ({"task": "regression", "n_classes": 2, "loss": "cross_entropy"}, "train.loss"),
    ({"task": "multiclass", "n_classes": 3, "loss": "bce"}, "train.loss"),
    ({"task": "regression", "n_classes": 2, "output_activation": "softmax"}, "model.output_activation"),
    ({"task": "multiclass", "n_classes": 3, "output_activation": "sigmoid"}, "model.output_activation"),
])
def test_mismatched_choices_are_spec_errors(kwargs, field):
    with pytest.raises(SpecError) as caught:
        make_head(**kwargs)
    assert caught.value.problems[0].startswith(field)


def test_loss_values_match_their_formulas():
    scores = torch.tensor([[2.0], [-1.0]])
    targets = torch.tensor([1, 0])
    bce = make_head(task="binary", n_classes=2)
    expected = -(math.log(1 / (1 + math.exp(-2))) + math.log(1 - 1 / (1 + math.exp(1)))) / 2
    assert math.isclose(float(bce.compute_loss(scores, targets)), expected, rel_tol=1e-6)
    hinge = make_head(task="binary", n_classes=2, loss="hinge")
    assert math.isclose(float(hinge.compute_loss(scores, targets)), 0.0)  # both beyond the margin
    mse = make_head(task="binary", n_classes=2, loss="mse")
    p = 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(1))
    assert math.isclose(float(mse.compute_loss(scores, targets)), ((1 - p[0]) ** 2 + p[1] ** 2) / 2, rel_tol=1e-6)
    mae = make_head(task="regression", n_classes=2, loss="mae")
    assert math.isclose(float(mae.compute_loss(torch.tensor([[1.0], [3.0]]), torch.tensor([0.0, 0.0]))), 2.0)


def test_predictions_and_probabilities():
    multi = make_head(task="multiclass", n_classes=3)
    scores = torch.tensor([[0.0, 5.0, 1.0], [3.0, 0.0, 0.0]])
    assert multi.predict(scores).tolist() == [1, 0]
    assert torch.allclose(multi.probabilities(scores).sum(dim=1), torch.ones(2))
    binary = make_head(task="binary", n_classes=2)
    assert binary.predict(torch.tensor([[0.3], [-0.2]])).tolist() == [1, 0]
    assert binary.probabilities(torch.tensor([[0.0]])).tolist() == [[0.5, 0.5]]
