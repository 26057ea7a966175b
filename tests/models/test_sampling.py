"""Sampling: the filters, the draws' distribution, seeds, and the carried state matching a full forward pass."""
from __future__ import annotations

import torch

from neuralab.models import ModelShape, build_model
from neuralab.models.sampling import choose_token, filter_scores, sample_tokens
from neuralab.spec import ModelSpec


def language_model(kind="lstm"):
    torch.manual_seed(0)
    return build_model(ModelSpec(kind=kind, recurrent={"hidden_size": 12, "layers": 2}),
                       ModelShape(n_inputs=1, n_outputs=7, vocab_size=7, sequence_length=10, output_steps="every"))


def test_top_k_keeps_the_k_largest_and_temperature_divides():
    scores = torch.tensor([[0.5, 3.0, -1.0, 2.0]])
    filtered = filter_scores(scores, temperature=2.0, top_k=2)
    assert filtered[0, 1] == 1.5 and filtered[0, 3] == 1.0 and filtered[0, [0, 2]].isinf().all()


def test_draws_follow_softmax_of_scores_over_temperature():
    scores = torch.tensor([[1.0, 0.0, -1.0]]).expand(20_000, 3)
    generator = torch.Generator().manual_seed(0)
    counts = torch.bincount(choose_token(scores, temperature=0.5, generator=generator), minlength=3).double()
    expected = torch.softmax(torch.tensor([2.0, 0.0, -2.0], dtype=torch.float64), dim=0)
    torch.testing.assert_close(counts / 20_000, expected, atol=0.01, rtol=0)


def test_temperature_zero_and_top_one_are_greedy_and_seeds_repeat():
    model, prompt = language_model(), torch.tensor([1, 2, 3])
    greedy = list(sample_tokens(model, prompt, length=15, temperature=0.0))
    top_one = list(sample_tokens(model, prompt, length=15, temperature=1.3, top_k=1))
    first = list(sample_tokens(model, prompt, length=15, generator=torch.Generator().manual_seed(5)))
    again = list(sample_tokens(model, prompt, length=15, generator=torch.Generator().manual_seed(5)))
    assert greedy == top_one and first == again and len(first) == 15


def test_the_carried_state_gives_what_a_full_forward_pass_gives():
    for kind in ("rnn", "gru", "lstm"):
        model = language_model(kind).eval()
        prompt = torch.tensor([4, 0, 6])
        tokens = list(sample_tokens(model, prompt, length=6, temperature=0.0))
        sequence = torch.tensor([[4, 0, 6, *tokens]])
        with torch.no_grad():
            full = model(sequence)[0]  # (9, 7): every step's scores at once
        assert full[2:-1].argmax(dim=-1).tolist() == tokens  # each greedy token is the full pass's argmax


def test_top_p_keeps_the_smallest_set_holding_the_probability():
    scores = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = lambda p: (~filter_scores(scores, temperature=1.0, top_p=p).isinf()).tolist()[0]  # noqa: E731
    assert kept(0.5) == [True, False, False, False]  # the favourite alone holds 0.5
    assert kept(0.6) == [True, True, False, False]
    assert kept(0.95) == [True, True, True, False] and kept(1.0) == [True] * 4
    assert kept(1e-6) == [True, False, False, False]  # the most likely token is always kept


def test_the_transformers_cache_gives_the_same_text_as_rereading():
    torch.manual_seed(0)
    model = build_model(ModelSpec(kind="transformer", transformer={"layers": 2, "heads": 2, "embed_dim": 16}),
                        ModelShape(n_inputs=1, n_outputs=7, vocab_size=7, sequence_length=12, output_steps="every"))
    prompt = torch.tensor([1, 2, 3])
    texts = [list(sample_tokens(model, prompt, length=8, top_p=0.9, cache=cache,
                                generator=torch.Generator().manual_seed(5))) for cache in (True, False)]
    assert texts[0] == texts[1]  # 3 + 8 tokens fit the context: both read exactly the same
