"""Recurrent kinds: shapes, parameter counts, the lecture's initialisations, the unrolled pass, refusals."""
from __future__ import annotations

import pytest
import torch

from neuralab.errors import SpecError
from neuralab.models import ModelShape, build_model
from neuralab.models.recurrent import count_parameters
from neuralab.spec import ModelSpec, load_spec
from neuralab.training.optim import parameter_groups

NUMBERS = ModelShape(n_inputs=2, n_outputs=1, sequence_length=6)
TOKENS = ModelShape(n_inputs=1, n_outputs=9, vocab_size=9, sequence_length=6, output_steps="every")


def model_of(kind, shape=NUMBERS, **recurrent):
    torch.manual_seed(0)
    return build_model(ModelSpec(kind=kind, recurrent={"hidden_size": 5, **recurrent}), shape)


@pytest.mark.parametrize("kind, extra", [("rnn", {}), ("rnn", {"nonlinearity": "relu"}), ("lstm", {}), ("gru", {})])
@pytest.mark.parametrize("shape, inputs, expected", [
    (NUMBERS, torch.rand(3, 6, 2), (3, 1)), (TOKENS, torch.randint(0, 9, (3, 6)), (3, 6, 9))])
def test_shapes_counts_and_the_unrolled_pass_agree(kind, extra, shape, inputs, expected):
    model = model_of(kind, shape, layers=2, **extra)
    assert sum(p.numel() for p in model.parameters()) == count_parameters(
        ModelSpec(kind=kind, recurrent={"hidden_size": 5, "layers": 2, **extra}), shape)
    scores = model(inputs)
    again, states = model.unrolled(inputs)
    assert scores.shape == expected and len(states) == 2 and len(states[1]) == 6
    torch.testing.assert_close(again, scores, atol=1e-5, rtol=1e-5)
    assert [row["layer"] for row in model.describe()][-1] == "output"


def test_recurrent_weights_start_orthogonal_per_gate_and_the_forget_bias_is_one():
    model = model_of("lstm", hidden_size=6)
    layer = model.layers[0]
    for block in layer.weight_hh_l0.view(4, 6, 6):
        torch.testing.assert_close(block @ block.T, torch.eye(6), atol=1e-5, rtol=0)
    total_bias = (layer.bias_ih_l0 + layer.bias_hh_l0).view(4, 6)
    assert total_bias[1].tolist() == [1.0] * 6 and total_bias[[0, 2, 3]].abs().sum() == 0


def test_a_relu_rnn_starts_from_the_identity_irnn():
    weight = model_of("rnn", nonlinearity="relu").layers[0].weight_hh_l0
    torch.testing.assert_close(weight, torch.eye(5))


def test_uniform_keeps_torchs_own_recurrent_weights():
    torch.manual_seed(0)
    reference = torch.nn.GRU(2, 5, batch_first=True).weight_hh_l0.detach().clone()
    weight = model_of("gru", init="uniform").layers[0].weight_hh_l0
    torch.testing.assert_close(weight.detach(), reference)


def test_bidirectional_reads_both_ways_for_one_prediction_per_sequence():
    model = model_of("gru", bidirectional=True)
    inputs = torch.rand(4, 6, 2)
    outputs, _ = model.layers[0](inputs)  # (4, 6, 10): forward halves, then backward halves
    final = torch.cat([outputs[:, -1, :5], outputs[:, 0, 5:]], dim=1)  # each direction's last step
    torch.testing.assert_close(model(inputs), model.output(final))
    with pytest.raises(SpecError, match="bidirectional: true reads each sequence backwards"):
        model_of("gru", TOKENS, bidirectional=True)


def test_dropout_sits_between_layers_and_before_the_output_only_while_training():
    torch.manual_seed(0)
    model = build_model(ModelSpec(kind="lstm", dropout=0.5, recurrent={"hidden_size": 5, "layers": 2}), NUMBERS)
    inputs = torch.rand(2, 6, 2)
    model.eval()
    assert torch.equal(model(inputs), model(inputs))
    model.train()
    assert not torch.equal(model(inputs), model(inputs))


def test_l2_reaches_the_weight_matrices_embedding_included_but_not_biases():
    model = model_of("lstm", TOKENS)  # as GPT-2 and nanoGPT decay them: every matrix, embeddings too
    weights, others = parameter_groups(model)
    names = {id(p): n for n, p in model.named_parameters()}
    assert sorted(names[id(p)] for p in weights) == ["embedding.weight", "layers.0.weight_hh_l0",
                                                     "layers.0.weight_ih_l0", "output.weight"]
    assert all("bias" in names[id(p)] for p in others)


def test_batch_norm_is_refused_for_recurrent_kinds():
    with pytest.raises(SpecError, match="model.batch_norm: true applies to mlp"):
        load_spec(None, overrides={"model.kind": "gru", "model.batch_norm": True})
