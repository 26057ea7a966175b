"""Evaluation mode for a block: switched on, put back, and left alone when already on."""
import pytest
import torch
from torch import nn

from neuralab.models.eval_mode import evaluation_mode


class CountingSwitches(nn.Sequential):
    """Counts the calls of ``train`` (``eval`` calls ``train(False)``)."""

    switches = 0

    def train(self, mode: bool = True):
        type(self).switches += 1
        return super().train(mode)


def test_dropout_is_off_inside_and_the_training_mode_comes_back():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    inputs = torch.randn(8, 4)
    with evaluation_mode(model):
        assert not model.training and not model[1].training
        assert torch.equal(model(inputs), model(inputs))  # no dropout: the same output twice
    assert model.training and model[1].training


def test_the_mode_comes_back_after_an_error():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    with pytest.raises(RuntimeError), evaluation_mode(model):
        raise RuntimeError("failed in the block")
    assert model.training and model[1].training


def test_a_model_already_in_eval_mode_is_not_switched_at_all():
    model = CountingSwitches(nn.Linear(2, 2)).eval()
    CountingSwitches.switches = 0
    with evaluation_mode(model):
        pass
    assert CountingSwitches.switches == 0 and not model.training
    model.train()
    CountingSwitches.switches = 0
    with evaluation_mode(model):
        pass
    assert CountingSwitches.switches == 2 and model.training  # eval, then train


def test_an_mlp_without_dropout_or_batch_norm_is_not_switched():
    from neuralab.models import ModelShape, build_model
    from neuralab.spec import ModelSpec

    shape = ModelShape(n_inputs=3, n_outputs=2)
    plain = build_model(ModelSpec(hidden=[4, 4]), shape)
    assert plain.mode_matters is False
    switched = []
    plain.hidden[0].linear.register_forward_pre_hook(lambda module, args: switched.append(module.training))
    with evaluation_mode(plain):
        plain(torch.randn(5, 3))
    assert switched == [True]  # left in training mode: nothing in it behaves differently
    for spec in (ModelSpec(hidden=[4], dropout=0.2), ModelSpec(hidden=[4], batch_norm=True)):
        model = build_model(spec, shape)
        assert model.mode_matters is True
        with evaluation_mode(model):
            assert not any(module.training for module in model.modules())
        assert all(module.training for module in model.modules())
