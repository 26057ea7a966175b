"""What a language model says about a prompt: next-token odds under temperatures, attention, cropping."""
from __future__ import annotations

import math

import pytest
import torch

from neuralab.data.text import Vocabulary
from neuralab.errors import DataError
from neuralab.models import ModelShape, build_model
from neuralab.models.language import attention_of, next_tokens
from neuralab.spec import ModelSpec

VOCABULARY = Vocabulary(list(" abcdefgh"))


def model(kind="transformer"):
    torch.manual_seed(0)
    settings = {"transformer": {"layers": 2, "heads": 2, "embed_dim": 16}} if kind == "transformer" else \
        {"recurrent": {"hidden_size": 8}}
    return build_model(ModelSpec(kind=kind, **settings),
                       ModelShape(n_inputs=1, n_outputs=9, vocab_size=9, sequence_length=6, output_steps="every"))


def test_next_tokens_are_the_softmax_reshaped_by_temperature():
    network = model()
    table = next_tokens(network, VOCABULARY, "abc", top=9, temperatures=(0.5, 1.0, 4.0))
    with torch.no_grad():
        scores = network(torch.tensor([[1, 2, 3]]))[0, -1]
    expected = torch.softmax(scores, dim=0)
    assert [row["probability"] for row in table["tokens"]] == pytest.approx(sorted(expected.tolist(), reverse=True),
                                                                            abs=1e-6)
    top = table["tokens"][0]
    assert top["at"]["0.5"] > top["at"]["1.0"] > top["at"]["4.0"]  # a cold softmax favours the favourite
    bottom = table["tokens"][-1]
    assert bottom["at"]["0.5"] < bottom["at"]["4.0"]  # a hot one lifts the unlikely towards 1/V
    assert table["uniform"] == pytest.approx(math.log(9)) and 0 < table["entropy"] < table["uniform"]


def test_filters_shape_what_sampling_draws_from():
    table = next_tokens(model(), VOCABULARY, "abc", top=9, top_k=2)
    assert sum(row["probability"] > 0 for row in table["tokens"]) == 2
    greedy = next_tokens(model(), VOCABULARY, "abc", temperature=0.0)
    assert greedy["tokens"][0]["probability"] == 1.0


def test_a_prompt_longer_than_the_context_is_cropped_and_attention_is_per_layer_and_head():
    network = model()
    long_prompt = "abcdefgh" * 3
    table = next_tokens(network, VOCABULARY, long_prompt)
    assert table["context"] == list(long_prompt[-6:])
    shown = attention_of(network, VOCABULARY, long_prompt)
    assert shown["tokens"] == list(long_prompt[-6:]) and shown["weights"].shape == (2, 2, 6, 6)
    assert torch.allclose(shown["weights"].sum(-1), torch.ones(2, 2, 6), atol=1e-5)


def test_recurrent_models_have_no_attention_and_unknown_characters_are_named():
    with pytest.raises(ValueError, match="no attention"):
        attention_of(model("lstm"), VOCABULARY, "abc")
    assert next_tokens(model("lstm"), VOCABULARY, "abc")["context"] == ["a", "b", "c"]
    with pytest.raises(DataError, match="'z'"):
        next_tokens(model(), VOCABULARY, "abz")
