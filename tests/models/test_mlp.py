"""The MLP builder: layers, shapes, per-layer activations, batch norm, dropout, parameter counts."""
from __future__ import annotations

import torch
from torch import nn

from neuralab.models import ModelShape, build_model, layer_summary
from neuralab.spec import ModelSpec


def test_forward_shapes_and_layer_names():
    model = build_model(ModelSpec(hidden=[5, 4, 3]), ModelShape(n_inputs=2, n_outputs=7))
    assert model(torch.randn(11, 2)).shape == (11, 7)
    assert model.layer_names() == ["hidden1", "hidden2", "hidden3", "output"]


def test_empty_hidden_is_a_linear_model():
    model = build_model(ModelSpec(hidden=[]), ModelShape(n_inputs=3, n_outputs=1))
    assert len(model.hidden) == 0 and isinstance(model.output, nn.Linear)
    assert [row["parameters"] for row in layer_summary(model)] == [4]


def test_per_layer_activations_batch_norm_and_dropout():
    spec = ModelSpec(hidden=[4, 4], activation=["tanh", "gelu"], batch_norm=True, dropout=0.25)
    model = build_model(spec, ModelShape(n_inputs=2, n_outputs=1))
    first, second = model.hidden
    assert isinstance(first.activation, nn.Tanh) and isinstance(second.activation, nn.GELU)
    assert isinstance(first.norm, nn.BatchNorm1d) and first.dropout.p == 0.25


def test_parameter_counts_per_layer_add_up():
    model = build_model(ModelSpec(hidden=[128, 128]), ModelShape(n_inputs=64, n_outputs=10))
    rows = layer_summary(model)
    assert [r["parameters"] for r in rows] == [64 * 128 + 128, 128 * 128 + 128, 128 * 10 + 10]
    assert sum(r["parameters"] for r in rows) == sum(p.numel() for p in model.parameters())


def test_same_seed_same_initial_weights():
    torch.manual_seed(3)
    a = build_model(ModelSpec(hidden=[6]), ModelShape(n_inputs=2, n_outputs=1))
    torch.manual_seed(3)
    b = build_model(ModelSpec(hidden=[6]), ModelShape(n_inputs=2, n_outputs=1))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_a_network_beyond_the_parameter_limit_is_refused_before_allocation():
    import pytest

    from neuralab.errors import SpecError
    from neuralab.models.mlp import count_parameters
    from neuralab.spec import MAX_PARAMETERS

    spec = ModelSpec(hidden=[1000])  # fine between hidden layers, too big with 100,000 input columns
    assert count_parameters(spec, ModelShape(n_inputs=100_000, n_outputs=2)) > MAX_PARAMETERS
    with pytest.raises(SpecError, match=r"model\.hidden: \[1000\] with 100,000 inputs"):
        build_model(spec, ModelShape(n_inputs=100_000, n_outputs=2))
