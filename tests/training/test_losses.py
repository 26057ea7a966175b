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


def _by_hand(task: str, output: str, loss: str, scores: list[list[float]], targets: list[float]) -> float:
    """The mean loss point by point, from the formulas (independent of torch's losses)."""
    total = 0.0
    for row, target in zip(scores, targets):
        if output == "softmax":
            peak = max(row)
            exps = [math.exp(s - peak) for s in row]
            outputs = [e / sum(exps) for e in exps]
        else:
            squash = {"sigmoid": lambda s: 1 / (1 + math.exp(-s)), "tanh": math.tanh, "linear": lambda s: s}[output]
            outputs = [squash(s) for s in row]
        if loss in ("cross_entropy", "bce"):
            total += -math.log(outputs[int(target)]) if output == "softmax" else \
                -math.log(outputs[0] if target == 1 else 1 - outputs[0])
            continue
        if loss == "hinge":
            if output == "sigmoid":
                total += max(0.0, 1 - (2 * target - 1) * row[0])
            else:  # multi-class margin: the mean over the other classes of max(0, 1 − s_y + s_j)
                total += sum(max(0.0, 1 - row[int(target)] + s) for j, s in enumerate(row) if j != target) / len(row)
            continue
        if task == "regression":
            wanted = [target]
        elif len(row) == 1:
            wanted = [2 * target - 1 if output == "tanh" else target]
        else:
            wanted = [(1.0 if j == target else (-1.0 if output == "tanh" else 0.0)) for j in range(len(row))]
        gaps = [o - w for o, w in zip(outputs, wanted)]
        point = {"mse": sum(g * g for g in gaps) / len(gaps), "half_squared": 0.5 * sum(g * g for g in gaps),
                 "mae": sum(abs(g) for g in gaps) / len(gaps),
                 "huber": sum(0.5 * g * g if abs(g) < 1 else abs(g) - 0.5 for g in gaps) / len(gaps)}[loss]
        total += point
    return total / len(scores)


@pytest.mark.parametrize("task, classes, output, loss", [
    ("regression", 0, "linear", "mse"), ("regression", 0, "linear", "mae"), ("regression", 0, "linear", "huber"),
    ("binary", 2, "sigmoid", "bce"), ("binary", 2, "sigmoid", "hinge"), ("binary", 2, "sigmoid", "mse"),
    ("binary", 2, "tanh", "half_squared"), ("binary", 2, "tanh", "mae"), ("binary", 2, "softmax", "cross_entropy"),
    ("binary", 2, "softmax", "mse"), ("multiclass", 3, "softmax", "cross_entropy"), ("multiclass", 3, "softmax", "hinge"),
    ("multiclass", 3, "softmax", "huber"), ("multiclass", 3, "tanh", "half_squared"), ("multiclass", 3, "tanh", "mse"),
])
def test_every_head_matches_its_formula_and_the_prepared_targets_give_the_same_loss(task, classes, output, loss):
    head = make_head(task=task, n_classes=classes, output_activation=output, loss=loss)
    generator = torch.Generator().manual_seed(3)
    scores = torch.randn(6, head.n_outputs, generator=generator)
    targets = torch.randn(6, generator=generator) if task == "regression" else torch.arange(6) % classes
    expected = _by_hand(task, output, head.loss, scores.tolist(), targets.tolist())
    assert math.isclose(float(head.compute_loss(scores, targets)), expected, rel_tol=1e-5, abs_tol=1e-6)
    # the training loop converts an epoch's targets once and slices them: the same loss, bit for bit
    prepared = head.loss_targets(targets)
    assert torch.equal(head.loss_of(scores[2:5], prepared[2:5]), head.compute_loss(scores[2:5], targets[2:5]))
    # a sequence's every step is a prediction: (n, T, K) against (n, T), the mean over all of them
    sequence_scores, sequence_targets = scores.reshape(2, 3, -1), targets.reshape(2, 3)
    assert torch.allclose(head.compute_loss(sequence_scores, sequence_targets), head.compute_loss(scores, targets))
