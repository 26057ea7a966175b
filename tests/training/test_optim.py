"""Optimisers come from torch.optim, take the spec's settings, and put L2 on weights only."""
from __future__ import annotations

import pytest
import torch

from neuralab.spec import TrainSpec
from neuralab.spec.catalog import names
from neuralab.training.optim import TORCH_OPTIMIZERS, build_optimizer

EXPECTED_CLASS = {"sgd": "SGD", "momentum": "SGD", "nesterov": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop",
                  "adadelta": "Adadelta", "adam": "Adam", "adamw": "AdamW", "nadam": "NAdam"}


@pytest.mark.parametrize("name", names("optimizers"))
def test_each_name_builds_its_torch_optimizer(name):
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 1))
    optimizer = build_optimizer(model, TrainSpec(optimizer=name, learning_rate=0.05, momentum=0.8, l2=0.01))
    assert type(optimizer).__name__ == EXPECTED_CLASS[name]
    assert optimizer.defaults["lr"] == 0.05
    weights, others = optimizer.param_groups
    assert len(weights["params"]) == 2 and len(others["params"]) == 4  # 2 weights; 2 biases + BN scale/shift
    assert weights["weight_decay"] == (0.01 if name == "adamw" else 0.02) and others["weight_decay"] == 0.0


def test_momentum_settings_reach_torch():
    model = torch.nn.Linear(2, 1)
    assert build_optimizer(model, TrainSpec(optimizer="momentum", momentum=0.7)).defaults["momentum"] == 0.7
    assert build_optimizer(model, TrainSpec(optimizer="nesterov")).defaults["nesterov"] is True
    assert build_optimizer(model, TrainSpec(optimizer="adam", momentum=0.8)).defaults["betas"] == (0.8, 0.999)
    assert build_optimizer(model, TrainSpec(optimizer="sgd")).defaults["momentum"] == 0
    assert build_optimizer(model, TrainSpec(optimizer="rmsprop", momentum=0.6)).defaults["momentum"] == 0.6


def test_a_null_momentum_is_each_optimisers_usual_value():
    model = torch.nn.Linear(2, 1)
    assert build_optimizer(model, TrainSpec(optimizer="momentum")).defaults["momentum"] == 0.9
    assert build_optimizer(model, TrainSpec(optimizer="adam")).defaults["betas"] == (0.9, 0.999)
    assert build_optimizer(model, TrainSpec(optimizer="rmsprop")).defaults["momentum"] == 0  # plain RMSProp


def test_the_registry_covers_the_catalog():
    assert set(TORCH_OPTIMIZERS) == set(names("optimizers"))


def test_adamw_decays_decoupled_by_l2_and_l2_can_be_switched_on_live():
    from neuralab.training.optim import set_weight_decay

    model = torch.nn.Linear(2, 1)
    optimizer = build_optimizer(model, TrainSpec(optimizer="adam", learning_rate=0.1))  # l2 = 0: one group
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.0]
    model(torch.ones(3, 2)).sum().backward()
    optimizer.step()
    moments = {id(p): state["exp_avg"].clone() for p, state in optimizer.state.items()}
    set_weight_decay(optimizer, model, TrainSpec(optimizer="adam", l2=0.1))
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.2, 0.0]
    assert [len(g["params"]) for g in optimizer.param_groups] == [1, 1] and optimizer.param_groups[1]["lr"] == 0.1
    assert all(torch.equal(optimizer.state[p]["exp_avg"], moments[id(p)]) for p in model.parameters())


def test_l2_as_weight_decay_equals_the_loss_penalty_for_sgd():
    torch.manual_seed(0)
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    a, b = torch.nn.Linear(3, 1), torch.nn.Linear(3, 1)
    b.load_state_dict(a.state_dict())
    opt_a = build_optimizer(a, TrainSpec(optimizer="sgd", learning_rate=0.1, l2=0.05))
    opt_b = torch.optim.SGD(b.parameters(), lr=0.1)
    torch.nn.functional.mse_loss(a(x), y).backward()
    (torch.nn.functional.mse_loss(b(x), y) + 0.05 * (b.weight ** 2).sum()).backward()
    opt_a.step(), opt_b.step()
    assert torch.allclose(a.weight, b.weight, atol=1e-6) and torch.allclose(a.bias, b.bias, atol=1e-6)
