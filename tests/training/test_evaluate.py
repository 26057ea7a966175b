"""Scoring: misclassification rate for classifiers; loss, RMSE and R² for regression."""
from __future__ import annotations

import math

import torch

from neuralab.training.evaluate import evaluate_split
from neuralab.training.losses import make_head


class Fixed(torch.nn.Module):
    def __init__(self, scores):
        super().__init__()
        self.scores = scores

    def forward(self, inputs):
        return self.scores


def test_classification_error_is_the_misclassified_fraction():
    head = make_head(task="multiclass", n_classes=3)
    scores = torch.tensor([[3.0, 0, 0], [0, 3.0, 0], [0, 0, 3.0], [3.0, 0, 0]])
    result = evaluate_split(Fixed(scores), head, torch.zeros(4, 1), torch.tensor([0, 1, 2, 2]))
    assert result["error"] == 0.25


def test_regression_reports_rmse_in_original_units_and_r2():
    head = make_head(task="regression", n_classes=2)
    targets = torch.tensor([1.0, -1.0, 1.0, -1.0])
    result = evaluate_split(Fixed(torch.tensor([[0.5], [-0.5], [0.5], [-0.5]])), head, torch.zeros(4, 1), targets,
                            target_scale=10.0)
    assert math.isclose(result["loss"], 0.25) and result["error"] == result["loss"]
    assert math.isclose(result["rmse"], 5.0, rel_tol=1e-6) and math.isclose(result["r2"], 0.75, rel_tol=1e-6)
