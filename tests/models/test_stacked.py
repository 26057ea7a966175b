"""K stacked MLPs compute what each MLP computes alone, and unstack into it."""
from __future__ import annotations

import torch

from neuralab.models import ModelShape, build_model
from neuralab.models.stacked import StackedMLP, stackable
from neuralab.spec import ModelSpec


def nets(spec: ModelSpec, count: int = 3):
    made = []
    for seed in range(count):
        torch.manual_seed(seed)
        made.append(build_model(spec, ModelShape(n_inputs=3, n_outputs=2)))
    return made


def test_forward_matches_each_network_with_and_without_batch_norm():
    for spec in (ModelSpec(hidden=[5, 4], activation="tanh"), ModelSpec(hidden=[5], batch_norm=True)):
        models = nets(spec)
        stacked = StackedMLP(models)
        x = torch.randn(3, 7, 3)  # each network its own batch
        scores, hidden = stacked.forward(x, training=False, keep_hidden=True)
        for k, model in enumerate(models):
            assert torch.allclose(scores[k], model.eval()(x[k]), atol=1e-6)
        assert [h.shape for h in hidden] == [(3, 7, width) for width in spec.hidden]


def test_member_state_round_trips_and_unstacks_into_a_network():
    models = nets(ModelSpec(hidden=[4]))
    stacked = StackedMLP(models)
    saved = stacked.member_state(1)
    with torch.no_grad():
        for p in stacked.parameters:
            p.zero_()
    stacked.load_member(1, saved)
    target = nets(ModelSpec(hidden=[4]), count=1)[0]
    stacked.unstack(1, target, batches_seen=0)
    assert all(torch.equal(a, b) for a, b in zip(target.state_dict().values(), models[1].state_dict().values()))


def test_only_same_shape_networks_without_dropout_stack():
    assert stackable(nets(ModelSpec(hidden=[4])))
    assert not stackable(nets(ModelSpec(hidden=[4], dropout=0.2)))
    assert not stackable([*nets(ModelSpec(hidden=[4]), 1), *nets(ModelSpec(hidden=[5]), 1)])
