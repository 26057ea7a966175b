"""The transformer kind: shapes, GPT-2 initialisation, tying, causality, the KV cache and bad settings."""
from __future__ import annotations

import math

import pytest
import torch

from neuralab.errors import SpecError
from neuralab.models import ModelShape, build_model
from neuralab.models.transformer import GenerationState, Transformer, count_parameters, sinusoids
from neuralab.spec import ModelSpec, load_spec

TEXT = ModelShape(n_inputs=1, n_outputs=13, vocab_size=13, sequence_length=10, output_steps="every")


def language_model(**settings) -> Transformer:
    torch.manual_seed(0)
    spec = ModelSpec(kind="transformer", transformer={"layers": 2, "heads": 2, "embed_dim": 16, **settings})
    return build_model(spec, TEXT).eval()


@pytest.mark.parametrize("positional", ["learned", "sinusoidal"])
def test_decoder_is_causal_and_its_count_is_exact(positional):
    model = language_model(positional=positional)
    tokens = torch.randint(0, 13, (2, 10), generator=torch.Generator().manual_seed(1))
    changed = tokens.clone()
    changed[:, 6:] = (changed[:, 6:] + 1) % 13
    with torch.no_grad():
        before, after = model(tokens), model(changed)
    assert before.shape == (2, 10, 13)
    assert torch.allclose(before[:, :6], after[:, :6], atol=1e-6)  # the future never reaches the past
    assert not torch.allclose(before[:, 6:], after[:, 6:])
    assert count_parameters(model_spec(positional), TEXT) == sum(p.numel() for p in model.parameters())


def model_spec(positional: str = "learned") -> ModelSpec:
    return ModelSpec(kind="transformer", transformer={"layers": 2, "heads": 2, "embed_dim": 16, "positional": positional})


def test_gpt2_initialisation_and_weight_tying():
    torch.manual_seed(0)
    spec = ModelSpec(kind="transformer", transformer={"layers": 8, "heads": 4, "embed_dim": 128})
    model = build_model(spec, TEXT)
    assert model.tied and model.output is None and "output.weight" not in model.state_dict()
    x = torch.randn(1, 3, 128)
    assert torch.allclose(model._scores(x), model.final_norm(x) @ model.token_embedding.weight.T, atol=1e-6)
    qkv = torch.cat([block.attention.qkv.weight.flatten() for block in model.blocks])
    residual = torch.cat([w.flatten() for block in model.blocks
                          for w in (block.attention.project.weight, block.mlp.project.weight)])
    assert qkv.std().item() == pytest.approx(0.02, rel=0.02)
    assert residual.std().item() == pytest.approx(0.02 / math.sqrt(2 * 8), rel=0.02)
    assert all(float(block.mlp.fc.bias.detach().abs().max()) == 0 for block in model.blocks)
    untied = build_model(ModelSpec(kind="transformer", transformer={"tie_weights": False, "embed_dim": 16,
                                                                     "heads": 2}), TEXT)
    assert not untied.tied and untied.output.weight.shape == (13, 16)


def test_encoder_pools_numeric_sequences_and_sees_the_whole_sequence():
    torch.manual_seed(0)
    spec = ModelSpec(kind="transformer", transformer={"layers": 1, "heads": 2, "embed_dim": 8})
    model = build_model(spec, ModelShape(n_inputs=2, n_outputs=1, sequence_length=6)).eval()
    x = torch.randn(4, 6, 2)
    y = x.clone()
    y[:, -1] += 1.0
    assert model(x).shape == (4, 1) and not model.causal
    assert not torch.allclose(model(x), model(y))


def test_both_attention_paths_agree_and_weights_are_distributions():
    model = language_model()
    tokens = torch.randint(0, 13, (3, 10), generator=torch.Generator().manual_seed(2))
    scores, maps = model.attention_maps(tokens)
    assert torch.allclose(scores, model(tokens), atol=1e-5)
    assert len(maps) == 2 and maps[0].shape == (3, 2, 10, 10)
    assert torch.allclose(maps[1].sum(-1), torch.ones(3, 2, 10), atol=1e-6)
    assert float(maps[0].triu(diagonal=1).abs().max()) == 0.0  # causal: no weight on the future


def test_key_value_cache_gives_the_same_next_token_scores_as_rereading():
    model = language_model()
    prompt = torch.tensor([[1, 2, 3]])
    cached, plain = None, None
    step_tokens = prompt
    for _ in range(6):  # 3 + 6 ≤ block_size 10: both read exactly the same context
        with_cache, cached = model.generate_step(step_tokens, cached)
        without, plain = model.generate_step(step_tokens, plain, cache=False)
        assert torch.allclose(with_cache, without, atol=1e-5)
        step_tokens = with_cache.argmax(-1, keepdim=True)
    assert cached.cached == 8 and plain.past is None
    full = model(cached.tokens)[:, -1]
    assert torch.allclose(with_cache, full, atol=1e-5)


def test_a_context_longer_than_the_block_is_cropped_not_a_crash():
    model = language_model()
    long_prompt = torch.randint(0, 13, (1, 25), generator=torch.Generator().manual_seed(3))
    scores, state = model.generate_step(long_prompt, None)
    assert torch.allclose(scores, model(long_prompt[:, -10:])[:, -1], atol=1e-5)
    for _ in range(12):  # the cache fills and is rebuilt from the last block_size // 2 tokens
        scores, state = model.generate_step(scores.argmax(-1, keepdim=True), state)
        assert state.cached <= 10 and torch.isfinite(scores).all()
    assert state.tokens.shape == (1, 37)
    _, maps = model.attention_maps(state.tokens)
    assert maps[0].shape[-1] == 10


def test_sinusoids_are_the_papers_formula():
    table = sinusoids(50, 8)
    assert torch.allclose(table[7, 2], torch.sin(torch.tensor(7 / 10_000 ** (2 / 8))))
    assert torch.allclose(table[7, 3], torch.cos(torch.tensor(7 / 10_000 ** (2 / 8))))


def test_bad_settings_are_one_line_errors():
    with pytest.raises(SpecError) as heads:
        load_spec({"model": {"kind": "transformer", "transformer": {"heads": 3, "embed_dim": 128}}})
    assert heads.value.problems == ["model.transformer.heads: 3 heads do not divide model.transformer.embed_dim "
                                    "128; each head needs embed_dim / heads dimensions (e.g. heads 2)"]
    with pytest.raises(SpecError, match=r"model.transformer.block_size: 4 is shorter than the training sequences"):
        build_model(ModelSpec(kind="transformer", transformer={"block_size": 4, "embed_dim": 8, "heads": 2}), TEXT)
    assert isinstance(GenerationState(tokens=torch.zeros(1, 1)).cached, int)


@pytest.mark.parametrize("dataset", ["copy", "adding"])
def test_the_transformer_trains_on_sequence_tasks_beside_the_recurrent_kinds(dataset):
    import neuralab

    run = neuralab.train({"seed": 0, "data": {"dataset": dataset, "n_samples": 120, "sequence_length": 6},
                          "model": {"kind": "transformer", "transformer": {"layers": 1, "heads": 2, "embed_dim": 16}},
                          "train": {"epochs": 3, "batch_size": 16, "learning_rate": 0.003}}, out_dir=None)
    losses = [row["train_loss"] for row in run.history]
    assert losses[-1] < losses[0] and run.model.causal == (dataset == "copy")
