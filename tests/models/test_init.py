"""Each initialisation gives the variance it promises; biases start at the catalog's value (0, or TF Playground's 0.1)."""
from __future__ import annotations

import pytest
import torch

from neuralab.models.init import INITS, initialize

FAN_IN, FAN_OUT = 400, 300
EXPECTED_VARIANCE = {
    "zeros": 0.0, "normal": 0.05 ** 2, "uniform": 0.05 ** 2,
    "xavier_uniform": 2 / (FAN_IN + FAN_OUT), "xavier_normal": 2 / (FAN_IN + FAN_OUT),
    "he_uniform": 2 / FAN_IN, "he_normal": 2 / FAN_IN, "lecun_normal": 1 / FAN_IN,
    "orthogonal": 1 / FAN_IN, "playground": 1 / 12,  # U(-0.5, 0.5)
}


@pytest.mark.parametrize("name", sorted(INITS))
def test_variance_matches_the_scheme(name):
    torch.manual_seed(0)
    layer = torch.nn.Linear(FAN_IN, FAN_OUT)
    initialize(layer, name, std=0.05)
    weight = layer.weight.detach()
    variance = float(weight.var(unbiased=False) + weight.mean() ** 2)
    assert variance == pytest.approx(EXPECTED_VARIANCE[name], rel=0.1, abs=1e-12)
    expected_bias = 0.1 if name == "playground" else 0.0
    assert torch.equal(layer.bias.detach(), torch.full((FAN_OUT,), expected_bias))


def test_playgrounds_init_draws_within_half_a_unit():
    layer = torch.nn.Linear(FAN_IN, FAN_OUT)
    initialize(layer, "playground")
    weight = layer.weight.detach()
    assert -0.5 <= float(weight.min()) < -0.49 and 0.49 < float(weight.max()) <= 0.5


def test_orthogonal_rows_are_orthonormal():
    layer = torch.nn.Linear(8, 5)
    initialize(layer, "orthogonal")
    assert torch.allclose(layer.weight @ layer.weight.T, torch.eye(5), atol=1e-5)
