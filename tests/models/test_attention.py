"""Self-attention: the fused and the explicit path agree (with and without a cache); entropy per head."""
from __future__ import annotations

import math

import torch

from neuralab.models.attention import SelfAttention, attention_entropy, uniform_entropy


def reference_attention(attention: SelfAttention, x: torch.Tensor) -> torch.Tensor:
    """Multi-head causal attention written out with torch.nn.MultiheadAttention's weights."""
    width = x.shape[-1]
    reference = torch.nn.MultiheadAttention(width, attention.heads, bias=True, batch_first=True)
    with torch.no_grad():
        reference.in_proj_weight.copy_(attention.qkv.weight)
        reference.in_proj_bias.copy_(attention.qkv.bias)
        reference.out_proj.weight.copy_(attention.project.weight)
        reference.out_proj.bias.copy_(attention.project.bias)
    mask = torch.ones(x.shape[1], x.shape[1], dtype=torch.bool).triu(diagonal=1)  # True = may not attend
    return reference(x, x, x, attn_mask=mask, need_weights=False)[0]


def test_fused_and_explicit_paths_agree_with_torchs_multihead_attention():
    torch.manual_seed(0)
    attention = SelfAttention(width=12, heads=3, dropout=0.1, causal=True).eval()
    x = torch.randn(2, 7, 12)
    fused, (keys, values) = attention(x)
    explicit, _, weights = attention(x, weights=True)
    assert torch.allclose(fused, explicit, atol=1e-6)
    assert torch.allclose(fused, reference_attention(attention, x), atol=1e-5)
    assert keys.shape == values.shape == (2, 3, 7, 4) and weights.shape == (2, 3, 7, 7)


def test_new_tokens_after_a_cache_see_the_cached_ones():
    torch.manual_seed(0)
    attention = SelfAttention(width=8, heads=2, dropout=0.0, causal=True).eval()
    x = torch.randn(1, 6, 8)
    whole, _ = attention(x)
    _, past = attention(x[:, :4])
    for use_weights in (False, True):
        tail = attention(x[:, 4:], past=past, weights=use_weights)  # two new tokens: an offset causal mask
        assert torch.allclose(tail[0], whole[:, 4:], atol=1e-6)


def test_entropy_tells_collapsed_from_uniform_heads():
    steps = 6
    collapsed = torch.eye(steps)[None, None]  # every query looks at itself only
    uniform = torch.tril(torch.ones(steps, steps))
    uniform = (uniform / uniform.sum(-1, keepdim=True))[None, None]
    weights = torch.cat([collapsed, uniform], dim=1)  # (1, 2 heads, T, T)
    entropy = attention_entropy(weights)
    assert float(entropy[0]) == 0.0
    assert math.isclose(float(entropy[1]), uniform_entropy(steps, causal=True), rel_tol=1e-6)
    assert math.isclose(uniform_entropy(4, causal=False), math.log(4))
