"""Activations by name: each is the torch module with the catalog's properties."""
from __future__ import annotations

import pytest
import torch

from neuralab.spec.catalog import ACTIVATIONS as DESCRIBED
from neuralab.models.activations import ACTIVATIONS, make_activation


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_each_activation_is_differentiable_and_matches_its_zero_centring(name):
    z = torch.linspace(-6, 6, 101, requires_grad=True)
    out = make_activation(name)(z)
    out.sum().backward()
    assert torch.isfinite(z.grad).all()
    described = DESCRIBED[name].properties["zero-centred"]
    if described == "yes":
        assert abs(float(out[50].detach())) < 1e-6  # g(0) = 0
    if described == "no":
        assert float(out.min().detach()) >= 0  # never negative


def test_saturating_activations_have_vanishing_slopes_far_from_zero():
    for name in ("sigmoid", "tanh"):
        z = torch.tensor([10.0], requires_grad=True)
        make_activation(name)(z).backward()
        assert float(z.grad) < 1e-3
    z = torch.tensor([10.0], requires_grad=True)
    make_activation("relu")(z).backward()
    assert float(z.grad) == 1.0
