"""Generating tokens from a language model, one at a time: temperature, top-k, top-p, a seeded generator.

Any model kind that can continue a sequence implements ``generate_step(tokens, state) →
(scores of the next token (batch, V), new state)``: a recurrent network carries its hidden
state, a transformer its key/value cache (``cache=False`` makes it re-read the whole
context at every step instead: same tokens, slower — ``benchmarks/bench_gpt.py`` measures
by how much). :func:`sample_tokens` feeds it the prompt once, then one chosen token at a
time; :func:`choose_token` turns the scores into a token — greedy at temperature 0, else
drawn from ``softmax(scores / temperature)`` over the ``top_k`` most likely tokens and the
smallest set whose probability reaches ``top_p`` (nucleus sampling, Holtzman et al. 2019),
each rule a filter in :func:`filter_scores`. Drawing uses its own ``torch.Generator``: the
same seed gives the same text, and nothing else's random numbers move.

Example:
    >>> import torch
    >>> scores = torch.tensor([[2.0, 1.0, 0.5, -1.0]])
    >>> filter_scores(scores, temperature=1.0, top_k=2).isinf().tolist()
    [[False, False, True, True]]
    >>> filter_scores(scores, temperature=1.0, top_p=0.8).isinf().tolist()
    [[False, False, True, True]]
    >>> int(choose_token(scores, temperature=0.0))
    0
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor, nn

from neuralab.models.eval_mode import evaluation_mode

MAX_LENGTH = 1_000_000  # tokens one call may generate


def filter_scores(scores: Tensor, *, temperature: float, top_k: int | None = None,
                  top_p: float | None = None) -> Tensor:
    """Scores (batch, V) divided by the temperature, with every token outside the ``top_k`` set, and
    outside the smallest set of most likely tokens whose probabilities sum to ``top_p``, set to −inf."""
    scores = scores / temperature
    if top_k is not None and top_k < scores.shape[-1]:
        kth = torch.topk(scores, top_k, dim=-1).values[..., -1:]  # (batch, 1): the k-th largest score
        scores = scores.masked_fill(scores < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        ordered, order = torch.sort(scores, dim=-1, descending=True)  # (batch, V)
        before = torch.softmax(ordered, dim=-1).cumsum(dim=-1) - torch.softmax(ordered, dim=-1)  # mass above each
        drop = before >= top_p  # the most likely token is always kept (nothing is above it)
        scores = scores.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
    return scores


def next_probabilities(scores: Tensor, *, temperature: float = 1.0, top_k: int | None = None,
                       top_p: float | None = None) -> Tensor:
    """The distribution (batch, V) the next token is drawn from; temperature 0 puts all of it on the argmax.

    Example:
        >>> p = next_probabilities(torch.tensor([[2.0, 1.0, 0.0]]), temperature=0.5)
        >>> [round(v, 3) for v in p[0].tolist()]
        [0.867, 0.117, 0.016]
    """
    if temperature <= 0:
        return torch.nn.functional.one_hot(scores.argmax(dim=-1), scores.shape[-1]).float()
    return torch.softmax(filter_scores(scores.float(), temperature=temperature, top_k=top_k, top_p=top_p), dim=-1)


def choose_token(scores: Tensor, *, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, generator: torch.Generator | None = None) -> Tensor:
    """The next token (batch,) from scores (batch, V): the most likely at temperature 0, else a draw."""
    if temperature <= 0:
        return scores.argmax(dim=-1)
    probabilities = next_probabilities(scores, temperature=temperature, top_k=top_k, top_p=top_p)
    return torch.multinomial(probabilities, 1, generator=generator)[:, 0]


@torch.no_grad()
def sample_tokens(model: nn.Module, prompt: Tensor, *, length: int, temperature: float = 1.0,
                  top_k: int | None = None, top_p: float | None = None, generator: torch.Generator | None = None,
                  cache: bool = True) -> Iterator[int]:
    """Yield ``length`` token ids continuing ``prompt`` (t,) int64, one at a time (model in eval mode).

    Args:
        model: a model with ``generate_step`` (see the module docstring).
        prompt: the tokens to continue, at least one.
        length: tokens to generate.
        temperature: 0 picks the most likely token; 1 samples the model's own distribution;
            lower is more conservative, higher more surprising.
        top_k: draw only among the k most likely tokens (None: all).
        top_p: draw only among the most likely tokens that together hold this probability (None: all).
        generator: the random stream of the draws (default: a fresh one seeded 0).
        cache: False makes a transformer re-read its context at every step (no key/value cache).
    """
    if len(prompt) == 0:
        raise ValueError("sample_tokens: the prompt needs at least one token")
    device = next(model.parameters()).device
    generator = generator if generator is not None else torch.Generator(device=device).manual_seed(0)
    with evaluation_mode(model):
        options = {} if cache else {"cache": False}  # only a model with a cache knows the option
        scores, state = model.generate_step(prompt.to(device)[None], None, **options)
        for _ in range(length):
            token = choose_token(scores, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator)
            yield int(token)
            scores, state = model.generate_step(token[:, None], state)
