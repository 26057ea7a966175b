"""What a trained language model says about a prompt: the next token's odds, attention, perplexity.

These read a model with ``generate_step`` (any language-model kind) and a vocabulary
(characters or BPE: anything with ``encode``/``decode``/``labels``/``size``) and return plain
data: the CLI's ``neuralab next``, the LLM explorer page and the doctor all call them.

* :func:`next_tokens` — the most likely next tokens with their probabilities, and how each
  temperature reshapes them (low: the favourite takes nearly everything; high: the
  distribution flattens towards uniform 1/V);
* :func:`attention_of` — every layer's and head's attention weights over the prompt's tokens
  (transformers only), read by the explicit attention path;
* a prompt longer than the model's context is cropped to its last ``block_size`` tokens.

Example:
    >>> import torch
    >>> from neuralab.data.text import Vocabulary
    >>> from neuralab.models import ModelShape, build_model
    >>> from neuralab.spec import ModelSpec
    >>> _ = torch.manual_seed(0)
    >>> vocabulary = Vocabulary(list("abc "))
    >>> shape = ModelShape(n_inputs=1, n_outputs=4, vocab_size=4, sequence_length=8, output_steps="every")
    >>> model = build_model(ModelSpec(kind="transformer", transformer={"layers": 1, "heads": 2, "embed_dim": 8}), shape)
    >>> table = next_tokens(model, vocabulary, "ab c", top=2, temperatures=(0.5, 2.0))
    >>> len(table["tokens"]), sorted(table["tokens"][0]["at"]), round(sum(t["probability"] for t in table["all"]), 4)
    (2, ['0.5', '2.0'], 1.0)
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from neuralab.models.eval_mode import evaluation_mode
from neuralab.models.sampling import next_probabilities

DEFAULT_TEMPERATURES = (0.5, 1.0, 2.0)


def context_tokens(model: nn.Module, vocabulary: Any, prompt: str) -> Tensor:
    """The prompt's token ids (1, t), cropped to the model's context (its last ``block_size`` tokens).

    Raises:
        DataError: the prompt holds characters outside a character vocabulary (named).
        ValueError: the prompt is empty.
    """
    ids = torch.from_numpy(vocabulary.encode(prompt))
    if len(ids) == 0:
        raise ValueError("the prompt needs at least one token")
    block = getattr(model, "block_size", None)
    return (ids[-block:] if block else ids)[None].to(next(model.parameters()).device)


@torch.no_grad()
def next_scores(model: nn.Module, tokens: Tensor) -> Tensor:
    """The next token's scores (V,) after ``tokens`` (1, t), in eval mode."""
    with evaluation_mode(model):
        scores, _ = model.generate_step(tokens, None)
    return scores[0].float()


def next_tokens(model: nn.Module, vocabulary: Any, prompt: str, *, top: int = 10, temperature: float = 1.0,
                top_k: int | None = None, top_p: float | None = None,
                temperatures: tuple[float, ...] = DEFAULT_TEMPERATURES) -> dict[str, Any]:
    """The ``top`` most likely next tokens after ``prompt``, and their probability at other temperatures.

    Returns:
        ``{"context": [token texts the model read], "tokens": [{"id", "text", "probability", "at":
        {temperature: probability}}], "all": [{"id", "probability"}], "entropy": nats, "uniform": ln V,
        "temperature", "top_k", "top_p"}`` — ``probability`` under the given temperature, top-k and
        top-p (what sampling draws from); ``at`` the plain softmax at each of ``temperatures``.
    """
    tokens = context_tokens(model, vocabulary, prompt)
    scores = next_scores(model, tokens)[None]  # (1, V)
    chosen = next_probabilities(scores, temperature=temperature, top_k=top_k, top_p=top_p)[0]  # (V,)
    others = {str(float(t)): next_probabilities(scores, temperature=t)[0] for t in temperatures}
    order = torch.argsort(chosen, descending=True, stable=True)[:top]
    positive = chosen[chosen > 0]
    return {
        "context": vocabulary.labels(tokens[0].cpu().numpy()),
        "tokens": [{"id": int(i), "text": vocabulary.labels([int(i)])[0], "probability": float(chosen[i]),
                    "at": {key: float(p[i]) for key, p in others.items()}} for i in order],
        "all": [{"id": index, "probability": float(p)} for index, p in enumerate(chosen.tolist())],
        "entropy": float(-(positive * positive.log()).sum()), "uniform": math.log(vocabulary.size),
        "temperature": temperature, "top_k": top_k, "top_p": top_p,
    }


def attention_of(model: nn.Module, vocabulary: Any, prompt: str) -> dict[str, Any]:
    """Every layer's and head's attention over the prompt's tokens (cropped to the context).

    Returns:
        ``{"tokens": [token texts], "weights": tensor (layers, heads, t, t)}``: row i is how much the
        token at position i reads each position up to itself.

    Raises:
        ValueError: the model has no attention (a recurrent network).
    """
    if not hasattr(model, "attention_maps"):
        raise ValueError("has no attention to show (only model.kind transformer attends)")
    tokens = context_tokens(model, vocabulary, prompt)
    with evaluation_mode(model):
        _, maps = model.attention_maps(tokens)
    return {"tokens": vocabulary.labels(tokens[0].cpu().numpy()), "weights": torch.stack([m[0] for m in maps]).cpu()}
