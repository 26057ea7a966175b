"""Multi-head self-attention: the fast path on ``scaled_dot_product_attention``, an explicit path that
returns the attention weights, and a key/value cache for generation.

Each head projects every token to a query, a key and a value (one ``nn.Linear`` makes all
three for all heads), scores every pair as q·k / √d, masks the future when causal, turns the
scores into weights with a softmax and averages the values with them; the heads' outputs
are concatenated and projected back to the model's width.

* :meth:`SelfAttention.forward` runs ``torch.nn.functional.scaled_dot_product_attention``
  (a fused kernel: the T × T weights are never kept);
* ``weights=True`` computes the same thing by hand and also returns the weights
  (batch, heads, T, T) — what the attention pictures, the doctor's entropy per head and
  the LLM explorer read. A test checks both paths agree;
* ``past`` (keys, values) of the tokens already read lets a generator feed one new token at
  a time (the key/value cache): the new token's query attends to every cached key.

Example:
    >>> import torch
    >>> attention = SelfAttention(width=8, heads=2, dropout=0.0, causal=True).eval()
    >>> x = torch.randn(1, 5, 8)
    >>> fast, _ = attention(x)
    >>> slow, _, weights = attention(x, weights=True)
    >>> torch.allclose(fast, slow, atol=1e-6), weights.shape, bool(weights[0, 0, 0, 1:].eq(0).all())
    (True, torch.Size([1, 2, 5, 5]), True)
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

KeysValues = tuple[Tensor, Tensor]  # keys and values of the tokens read so far, each (batch, heads, S, head_dim)


class SelfAttention(nn.Module):
    """Multi-head self-attention over (batch, T, width) inputs.

    Args:
        width: the model's width (embed_dim); split evenly across ``heads``.
        heads: number of attention heads (must divide ``width``).
        dropout: probability of dropping an attention weight, and the output (training only).
        causal: True for a language model (a token sees itself and the past only).
    """

    def __init__(self, *, width: int, heads: int, dropout: float, causal: bool):
        super().__init__()
        if width % heads:
            raise ValueError(f"{heads} heads do not divide the width {width}")
        self.heads, self.head_dim, self.causal, self.dropout = heads, width // heads, causal, dropout
        self.qkv = nn.Linear(width, 3 * width)  # queries, keys and values of every head, in one product
        self.project = nn.Linear(width, width)  # the heads' outputs back to the residual stream
        self.output_dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, *, past: KeysValues | None = None,
                weights: bool = False) -> tuple[Tensor, KeysValues] | tuple[Tensor, KeysValues, Tensor]:
        """Attend over ``x`` (batch, T, width), after the ``past`` tokens when given.

        Returns:
            (output (batch, T, width), the keys and values of past + these tokens) — and with
            ``weights=True`` the attention weights (batch, heads, T, past + T) as a third item.
        """
        batch, steps, width = x.shape
        q, k, v = (part.view(batch, steps, self.heads, self.head_dim).transpose(1, 2)  # (batch, heads, T, d)
                   for part in self.qkv(x).split(width, dim=2))
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)  # (batch, heads, S + T, d)
        mask = self._mask(steps, k.shape[2], x.device)
        drop = self.dropout if self.training else 0.0
        if weights:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)  # (batch, heads, T, S + T)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            attention = torch.softmax(scores, dim=-1)
            mixed = F.dropout(attention, drop, training=self.training) @ v
        elif mask is None or mask.shape[0] == mask.shape[1]:  # no past: the kernel's own causal mask
            mixed = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, is_causal=mask is not None)
        else:  # new tokens after cached ones: the mask is offset by the cache's length
            mixed = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=drop)
        out = mixed.transpose(1, 2).reshape(batch, steps, width)  # heads side by side again
        out = self.output_dropout(self.project(out))
        return (out, (k, v), attention) if weights else (out, (k, v))

    def _mask(self, steps: int, total: int, device: torch.device) -> Tensor | None:
        """(T, S + T) bool, True where a query may attend: the past and itself; None when not causal
        or when one new token attends to everything cached (nothing to hide)."""
        if not self.causal or steps == 1:
            return None
        return torch.ones(steps, total, dtype=torch.bool, device=device).tril(diagonal=total - steps)


def attention_entropy(weights: Tensor) -> Tensor:
    """Mean entropy (nats) of each head's attention distributions, (heads,), from weights (batch, heads, T, S).

    Query t of a causal model can spread over t + 1 tokens at most, so the doctor compares
    each head with the uniform spread (:func:`uniform_entropy`): near 0 is a head collapsed
    onto one token, near the uniform value a head that looks at everything alike.

    Example:
        >>> w = torch.tensor([[[[1.0, 0.0], [0.5, 0.5]]]])
        >>> round(float(attention_entropy(w)[0]), 4) == round(math.log(2) / 2, 4)
        True
    """
    plogp = torch.where(weights > 0, weights * torch.log(weights.clamp_min(1e-30)), torch.zeros_like(weights))
    return -plogp.sum(dim=-1).mean(dim=(0, 2))


def uniform_entropy(steps: int, *, causal: bool) -> float:
    """Mean entropy of uniform attention over ``steps`` tokens (causal: query t spreads over t + 1).

    Example:
        >>> round(uniform_entropy(2, causal=True), 4) == round(math.log(2) / 2, 4)
        True
    """
    if not causal:
        return math.log(steps)
    return sum(math.log(t + 1) for t in range(steps)) / steps
