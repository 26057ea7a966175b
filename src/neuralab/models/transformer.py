"""The transformer kind: a GPT-style decoder for language models, an encoder with pooling for sequence tasks.

Tokens (or, for numeric sequences, each step's numbers through a linear layer) become
vectors of ``embed_dim``; a position embedding — learned (GPT-2) or fixed sinusoids
(Vaswani et al.) — is added; ``layers`` pre-LayerNorm blocks each add multi-head
self-attention (:mod:`neuralab.models.attention`) and a GELU MLP (4 × wider) to the residual
stream; a final LayerNorm and a linear layer give the scores.

* **Decoder** (data with a prediction at every step: text, copy): attention is causal, the
  output layer shares the token embedding's weights (``tie_weights``, GPT-2), and
  :meth:`Transformer.generate_step` reads tokens one at a time with a key/value cache.
* **Encoder** (one prediction per sequence: adding, sine): attention sees the whole
  sequence, and the blocks' outputs are averaged over time before the output layer.

Initialisation is GPT-2's: every weight N(0, 0.02²), biases 0, and the two projections that
write into the residual stream (attention and MLP outputs) N(0, (0.02/√(2·layers))²), so
the stream's variance does not grow with depth.

Example:
    >>> import torch
    >>> from neuralab.spec import ModelSpec
    >>> from neuralab.models import ModelShape, build_model
    >>> spec = ModelSpec(kind="transformer", transformer={"layers": 2, "heads": 2, "embed_dim": 16})
    >>> shape = ModelShape(n_inputs=1, n_outputs=11, vocab_size=11, sequence_length=8, output_steps="every")
    >>> model = build_model(spec, shape)
    >>> model(torch.zeros(3, 8, dtype=torch.long)).shape, model.tied  # the output layer is the token embedding
    (torch.Size([3, 8, 11]), True)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from neuralab.errors import SpecError
from neuralab.models.attention import KeysValues, SelfAttention
from neuralab.models.kinds import ModelKind, ModelShape, register
from neuralab.spec import ModelSpec

INIT_STD = 0.02  # GPT-2's weight scale
MLP_RATIO = 4  # the MLP's hidden width, in multiples of embed_dim


class Block(nn.Module):
    """One pre-LayerNorm transformer block: x + attention(norm(x)), then x + MLP(norm(x))."""

    def __init__(self, *, width: int, heads: int, dropout: float, causal: bool):
        super().__init__()
        self.attention_norm = nn.LayerNorm(width)
        self.attention = SelfAttention(width=width, heads=heads, dropout=dropout, causal=causal)
        self.mlp_norm = nn.LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.add_module("fc", nn.Linear(width, MLP_RATIO * width))
        self.mlp.add_module("gelu", nn.GELU())
        self.mlp.add_module("project", nn.Linear(MLP_RATIO * width, width))
        self.mlp.add_module("dropout", nn.Dropout(dropout))

    def forward(self, x: Tensor, *, past: KeysValues | None = None,
                weights: bool = False) -> tuple[Tensor, KeysValues, Tensor | None]:
        # x: (batch, T, width) → the same, plus this block's keys/values and (weights=True) its attention
        attended = self.attention(self.attention_norm(x), past=past, weights=weights)
        x = x + attended[0]
        x = x + self.mlp(self.mlp_norm(x))
        return x, attended[1], attended[2] if weights else None


@dataclass
class GenerationState:
    """Where generation stands: every token read so far and, with the cache, their keys and values.

    Attributes:
        tokens: (batch, n) every token read so far (the prompt and what was sampled).
        cache: True to keep each block's keys and values; False re-reads the context each step.
        past: per block, the cached keys and values (batch, heads, S, head_dim) of the last S tokens.
    """

    tokens: Tensor
    cache: bool = True
    past: list[KeysValues] | None = field(default=None, repr=False)

    @property
    def cached(self) -> int:
        """How many tokens the cache holds."""
        return 0 if self.past is None else self.past[0][0].shape[2]


class Transformer(nn.Module):
    """A decoder (causal, tied output) or an encoder (pooled) built from ``spec.transformer`` and the data's shape."""

    def __init__(self, spec: ModelSpec, shape: ModelShape):
        super().__init__()
        settings = spec.transformer
        self.causal = shape.output_steps == "every"
        self.block_size = context_of(spec, shape)
        width = settings.embed_dim
        self.token_embedding = nn.Embedding(shape.vocab_size, width) if shape.vocab_size else None
        self.input_projection = None if shape.vocab_size else nn.Linear(shape.n_inputs, width)
        self.positional = settings.positional
        if settings.positional == "learned":
            self.position_embedding = nn.Embedding(self.block_size, width)
        else:  # fixed: a buffer, not a parameter (nor saved: it is rebuilt from the spec)
            self.register_buffer("sinusoids", sinusoids(self.block_size, width), persistent=False)
        self.dropout = nn.Dropout(spec.dropout)
        self.blocks = nn.ModuleList(Block(width=width, heads=settings.heads, dropout=spec.dropout, causal=self.causal)
                                    for _ in range(settings.layers))
        self.final_norm = nn.LayerNorm(width)
        self.tied = tied(spec, shape)
        # Tied: the token embedding (V, width) also writes the scores — one matrix reads and writes tokens,
        # and it is saved once (a second name for the same tensor would be a second copy in a checkpoint).
        self.output = None if self.tied else nn.Linear(width, shape.n_outputs)
        self.n_outputs = shape.n_outputs
        _initialize(self, settings.layers)

    # ------------------------------------------------------------------ forward passes

    def forward(self, inputs: Tensor) -> Tensor:
        # inputs: (batch, T) token ids or (batch, T, n_inputs) numbers
        # → (batch, T, n_outputs) scores at every step (decoder), or (batch, n_outputs) (encoder)
        x, _, _ = self._blocks(inputs, start=0, past=None, weights=False)
        return self._scores(x)

    def attention_maps(self, inputs: Tensor) -> tuple[Tensor, list[Tensor]]:
        """Scores and every block's attention weights (batch, heads, T, T), by the explicit path, without gradients.

        Longer inputs than ``block_size`` are cropped to their last ``block_size`` steps.
        """
        inputs = inputs[:, -self.block_size:]
        with torch.no_grad():
            x, _, weights = self._blocks(inputs, start=0, past=None, weights=True)
            return self._scores(x), weights

    def generate_step(self, tokens: Tensor, state: GenerationState | None = None, *,
                      cache: bool = True) -> tuple[Tensor, GenerationState]:
        """Read ``tokens`` (batch, t) after ``state`` (None: the start); next-token scores (batch, V) and the new state.

        With the cache (the default) only the new tokens are run through the blocks, their
        queries attending to the cached keys and values. A context longer than
        ``block_size`` is cropped: without the cache every step re-reads the last
        ``block_size`` tokens; with it, when the cache is full it is rebuilt from the last
        ``block_size // 2`` tokens (absolute positions shift, so old keys cannot be kept).
        """
        if self.token_embedding is None or not self.causal:
            raise ValueError("generate_step: only a language model (token inputs, causal attention) generates text")
        history = tokens if state is None else torch.cat([state.tokens, tokens], dim=1)
        use_cache = cache if state is None else state.cache
        past = state.past if state is not None and use_cache else None
        cached = 0 if past is None else past[0][0].shape[2]
        if not use_cache:
            fresh, past, start = history[:, -self.block_size:], None, 0
        elif cached + tokens.shape[1] > self.block_size or past is None:
            keep = self.block_size if past is None else max(1, self.block_size // 2)
            fresh, past, start = history[:, -min(keep, history.shape[1]):], None, 0
        else:
            fresh, start = tokens, cached
        with torch.no_grad():
            x, present, _ = self._blocks(fresh, start=start, past=past, weights=False)
            scores = self._scores(x[:, -1:])[:, -1]  # (batch, V): the next token's scores
        return scores, GenerationState(tokens=history, cache=use_cache, past=present if use_cache else None)

    def _blocks(self, inputs: Tensor, *, start: int, past: list[KeysValues] | None,
                weights: bool) -> tuple[Tensor, list[KeysValues], list[Tensor]]:
        steps = inputs.shape[1]
        if start + steps > self.block_size:
            raise ValueError(f"{start + steps} positions exceed the context of {self.block_size} tokens "
                             "(model.transformer.block_size)")
        x = self.token_embedding(inputs) if self.token_embedding is not None else self.input_projection(inputs)
        x = self.dropout(x + self._positions(start, steps))  # (batch, T, width)
        presents, maps = [], []
        for index, block in enumerate(self.blocks):
            x, present, attention = block(x, past=None if past is None else past[index], weights=weights)
            presents.append(present)
            if weights:
                maps.append(attention)
        return x, presents, maps

    def _positions(self, start: int, steps: int) -> Tensor:
        """(T, width) position vectors of positions start … start + T − 1."""
        if self.positional == "learned":
            return self.position_embedding(torch.arange(start, start + steps, device=self.final_norm.weight.device))
        return self.sinusoids[start:start + steps]

    def _scores(self, x: Tensor) -> Tensor:
        x = self.final_norm(x)
        if self.tied:
            return F.linear(x, self.token_embedding.weight)  # (batch, T, V)
        return self.output(x if self.causal else x.mean(dim=1))  # encoder: the average over time

    # ------------------------------------------------------------------ what the summary reads

    def describe(self) -> list[dict[str, object]]:
        """One row per layer: name, inputs, outputs, activation, parameters."""
        width = self.final_norm.normalized_shape[0]
        rows = []
        if self.token_embedding is not None:
            rows.append({"layer": "token embedding", "inputs": self.token_embedding.num_embeddings, "outputs": width,
                         "activation": "(lookup)", "parameters": self.token_embedding.weight.numel()})
        else:
            rows.append({"layer": "input projection", "inputs": self.input_projection.in_features, "outputs": width,
                         "activation": "(linear)", "parameters": _count(self.input_projection)})
        rows.append({"layer": "position embedding", "inputs": self.block_size, "outputs": width,
                     "activation": f"({self.positional})",
                     "parameters": self.position_embedding.weight.numel() if self.positional == "learned" else 0})
        heads = self.blocks[0].attention.heads if len(self.blocks) else 0
        for index, block in enumerate(self.blocks):
            rows.append({"layer": f"block{index + 1}", "inputs": width, "outputs": width,
                         "activation": f"{heads}-head {'causal ' if self.causal else ''}attention + GELU MLP",
                         "parameters": _count(block)})
        rows.append({"layer": "output", "inputs": width, "outputs": self.n_outputs,
                     "activation": "(tied to the token embedding)" if self.tied else
                     "(output head)" if self.causal else "(mean over time, output head)",
                     "parameters": _count(self.final_norm) + (0 if self.tied else _count(self.output))})
        return rows


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def context_of(spec: ModelSpec, shape: ModelShape) -> int:
    """The context length: ``model.transformer.block_size``, or the data's sequence length when null.

    Raises:
        SpecError: no length is known, or the block is shorter than the data's sequences.
    """
    block = spec.transformer.block_size
    if block is None:
        if shape.sequence_length is None:
            raise SpecError("model.transformer.block_size: null needs sequence data (data.sequence_length); "
                            "set the context length")
        return shape.sequence_length
    if shape.sequence_length is not None and block < shape.sequence_length:
        raise SpecError(f"model.transformer.block_size: {block} is shorter than the training sequences "
                        f"(data.sequence_length {shape.sequence_length}); use at least {shape.sequence_length} "
                        "or null")
    return block


def tied(spec: ModelSpec, shape: ModelShape) -> bool:
    """True when the output layer shares the token embedding (a language model with ``tie_weights``)."""
    return (spec.transformer.tie_weights and shape.vocab_size is not None and shape.output_steps == "every"
            and shape.vocab_size == shape.n_outputs)


def sinusoids(length: int, width: int) -> Tensor:
    """(length, width) fixed position vectors: sin/cos of position / 10000^(2i/width) (Vaswani et al. 2017).

    Example:
        >>> table = sinusoids(4, 6)
        >>> table.shape, float(table[0, 0]), float(table[0, 1])
        (torch.Size([4, 6]), 0.0, 1.0)
    """
    position = torch.arange(length, dtype=torch.float32)[:, None]  # (length, 1)
    frequency = torch.exp(-math.log(10_000.0) * torch.arange(0, width, 2, dtype=torch.float32) / width)  # (⌈w/2⌉,)
    table = torch.zeros(length, width)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: width // 2])
    return table


@torch.no_grad()
def _initialize(model: Transformer, layers: int) -> None:
    """GPT-2: weights N(0, 0.02²), biases 0, LayerNorms 1 and 0; residual projections 0.02/√(2·layers)."""
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=INIT_STD)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)
    for block in model.blocks:  # the two writes into the residual stream: scaled by depth
        for projection in (block.attention.project, block.mlp.project):
            nn.init.normal_(projection.weight, mean=0.0, std=INIT_STD / math.sqrt(2 * layers))


def count_parameters(spec: ModelSpec, shape: ModelShape) -> int:
    """Parameters the network of ``spec`` would have, computed without building it.

    Example:
        >>> spec = ModelSpec(kind="transformer", transformer={"layers": 1, "heads": 1, "embed_dim": 4})
        >>> shape = ModelShape(n_inputs=1, n_outputs=5, vocab_size=5, sequence_length=3, output_steps="every")
        >>> count_parameters(spec, shape) == sum(p.numel() for p in Transformer(spec, shape).parameters())
        True
    """
    settings, width = spec.transformer, spec.transformer.embed_dim
    block = 2 * 2 * width + (3 * width * width + 3 * width) + (width * width + width) \
        + (MLP_RATIO * width * width + MLP_RATIO * width) + (MLP_RATIO * width * width + width)
    inputs = shape.vocab_size * width if shape.vocab_size else shape.n_inputs * width + width
    positions = context_of(spec, shape) * width if settings.positional == "learned" else 0
    output = 0 if tied(spec, shape) else width * shape.n_outputs + shape.n_outputs
    return inputs + positions + settings.layers * block + 2 * width + output


register(ModelKind(
    name="transformer",
    build=lambda spec, shape: Transformer(spec, shape),
    count_parameters=count_parameters,
    data_kinds=("sequence", "text"),
    describe=lambda model: model.describe(),
    size_of=lambda spec: (f"model.transformer: {spec.transformer.layers} layers × {spec.transformer.embed_dim} wide "
                          f"({spec.transformer.heads} heads)"),
    population=False,
))
