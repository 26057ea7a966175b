"""The gradient through time against a hand-unrolled nn.RNNCell, and how it behaves for each cell."""
from __future__ import annotations

import pytest
import torch

from neuralab.models import ModelShape, build_model
from neuralab.spec import ModelSpec
from neuralab.training.losses import Head
from neuralab.training.time_gradients import first_to_last_ratio, gradient_through_time

HEAD = Head(task="regression", output_activation="linear", loss="mse", n_outputs=1)
SHAPE = ModelShape(n_inputs=2, n_outputs=1, sequence_length=40)


def rnn(kind="rnn", **recurrent):
    torch.manual_seed(0)
    return build_model(ModelSpec(kind=kind, recurrent={"hidden_size": 16, **recurrent}), SHAPE)


def test_matches_a_hand_unrolled_cell():
    model = rnn()
    layer = model.layers[0]
    cell = torch.nn.RNNCell(2, 16)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(layer, f"{name}_l0"))
    inputs, targets = torch.rand(8, 40, 2), torch.rand(8)
    h, states = torch.zeros(8, 16), []
    for t in range(40):
        h = cell(inputs[:, t], h)
        h.retain_grad()
        states.append(h)
    torch.nn.functional.mse_loss(model.output(h)[:, 0], targets).backward()
    expected = torch.stack([state.grad.norm() for state in states])
    torch.testing.assert_close(gradient_through_time(model, HEAD, inputs, targets)[0], expected, rtol=1e-4, atol=1e-9)


def test_tanh_rnn_gradients_shrink_back_in_time_and_the_probe_leaves_grads_alone():
    model = rnn(init="uniform")  # torch's small uniform recurrent weights: the classic vanishing case
    inputs, targets = torch.rand(16, 40, 2), torch.rand(16)
    norms = gradient_through_time(model, HEAD, inputs, targets)[0].tolist()
    assert first_to_last_ratio(norms) < 1e-3
    assert all(p.grad is None for p in model.parameters())


def test_every_step_predictions_use_the_last_steps_loss_and_bidirectional_is_skipped():
    torch.manual_seed(0)
    model = build_model(ModelSpec(kind="gru", recurrent={"hidden_size": 8}),
                        ModelShape(n_inputs=1, n_outputs=5, vocab_size=5, sequence_length=12, output_steps="every"))
    head = Head(task="multiclass", output_activation="softmax", loss="cross_entropy", n_outputs=5)
    norms = gradient_through_time(model, head, torch.randint(0, 5, (4, 12)), torch.randint(0, 5, (4, 12)))
    assert norms.shape == (1, 12) and bool((norms > 0).all())
    assert gradient_through_time(rnn(bidirectional=True), HEAD, torch.rand(2, 40, 2), torch.rand(2)) is None


@pytest.mark.parametrize("norms, ratio", [([2.0, 1.0], 2.0), ([1.0, 0.0], None), ([], None)])
def test_first_to_last_ratio(norms, ratio):
    assert first_to_last_ratio(norms) == ratio
