"""The health record turns one sampled step's raw tensors into per-layer numbers."""
from __future__ import annotations

import pytest
import torch

from neuralab.training.health_record import HealthRecord, gradient_norms

LAYERS = [{"name": "hidden1", "activation": "sigmoid", "inputs": 2, "outputs": 3},
          {"name": "output", "activation": None, "inputs": 3, "outputs": 1}]


def add(record: HealthRecord, step: int, *, outputs=None):
    w1, w2 = torch.full((3, 2), 2.0), torch.full((1, 3), 1.0)
    record.add(step=step, epoch=1, loss=0.5, grad_norms=torch.tensor([0.1, 0.2]), weights=[w1, w2],
               before=[w1 - 0.02, w2], biases=[torch.zeros(3), torch.zeros(1)],
               outputs=outputs if outputs is not None else {0: torch.full((4, 3), 0.999)})


def test_a_sample_holds_norms_ratios_saturation_and_symmetry():
    record = HealthRecord(layers=LAYERS, every=1)
    add(record, 1)
    sample = record.samples[0]
    assert sample["grad_norm"] == pytest.approx([0.1, 0.2])
    assert sample["update_ratio"][0] == pytest.approx(0.01, rel=1e-5)  # ‖ΔW‖/‖W‖ = 0.02/2 (float32)
    assert sample["saturated_fraction"] == [1.0, None]  # every sigmoid output within 2 % of 1
    assert sample["symmetric_fraction"][0] == 1.0  # three identical units


def test_the_record_stays_bounded_and_keeps_first_and_last_activations():
    record = HealthRecord(layers=LAYERS, every=1, max_samples=4)
    for step in range(1, 10):
        add(record, step)
    assert len(record.samples) <= 4 and record.every > 1
    record.finish(step=9, weights=[torch.eye(3, 2), torch.ones(1, 3)], biases=[torch.zeros(3), torch.zeros(1)])
    assert record.histograms["first"]["step"] == 1 and record.histograms["last"]["step"] == 9
    assert record.records()["final"]["symmetric_fraction"][1] is None


def test_gradient_norms_read_each_weights_grad():
    weight = torch.ones(2, 2, requires_grad=True)
    weight.grad = torch.full((2, 2), 3.0)
    assert gradient_norms([weight, torch.ones(1, requires_grad=True)]).tolist() == [6.0, 0.0]
