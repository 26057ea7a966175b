"""Recurrent networks: ``rnn``, ``lstm`` and ``gru`` on ``torch.nn.RNN/LSTM/GRU`` (cuDNN on a GPU).

A :class:`RecurrentNet` reads a sequence step by step: token ids (text, copy) go through a
learned embedding, numbers (adding, sine) go in as they are; ``model.recurrent.layers``
recurrent layers (one torch layer each, so every layer's hidden states can be read, with
``model.dropout`` between them) carry a hidden state h_t through time; a linear output layer
reads the last step (one prediction per sequence) or every step (a language model).

Initialisation, as the lecture's story needs it (and as Keras does by default): input weights
Glorot-uniform, recurrent weights orthogonal (one square block per gate) — or the identity
for a ReLU RNN (IRNN, Le et al. 2015) —, biases zero but an LSTM's forget-gate bias
``forget_bias`` (1.0: Keras' ``unit_forget_bias``; PyTorch starts it at 0, which halves the
cell's memory at every step). ``model.recurrent.init: uniform`` keeps torch's own
U(±1/√hidden_size) recurrent weights.

:meth:`RecurrentNet.unrolled` runs the same layers one time step at a time and returns each
layer's hidden state h_t as a tensor of its own, so autograd can give ‖∂L/∂h_t‖ — the
gradient through time the doctor draws; :meth:`RecurrentNet.generate_step` carries the
hidden state from token to token for sampling (:mod:`neuralab.models.sampling`).

Example:
    >>> import torch
    >>> from neuralab.spec import ModelSpec
    >>> from neuralab.models import ModelShape, build_model
    >>> spec = ModelSpec(kind="lstm", recurrent={"hidden_size": 8})
    >>> model = build_model(spec, ModelShape(n_inputs=2, n_outputs=1, sequence_length=5))
    >>> model(torch.zeros(3, 5, 2)).shape, [row["layer"] for row in model.describe()]
    (torch.Size([3, 1]), ['lstm1', 'output'])
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from neuralab.errors import SpecError
from neuralab.models.kinds import ModelKind, ModelShape, register
from neuralab.spec import ModelSpec

LAYERS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # weight blocks per layer: torch stacks them (gates · hidden, ·)
# A recurrent step is a chain of small products (batch × (inputs + hidden) × gates · hidden), T of them in
# turn, and each product's threads meet at a barrier. On the shared 2-core machine (load ~9) two threads made
# an LSTM of 32 units 15–50× slower than one (benchmarks/bench_sequences.py); only big layers may gain.
THREADS_FROM = 2_000_000
FORGET_GATE = 1  # LSTM gate order in torch: input, forget, cell, output


@dataclass(frozen=True)
class WeightView:
    """One weight matrix of a recurrent layer, as the health recorder sees a linear layer."""

    weight: nn.Parameter
    bias: nn.Parameter | None

    @property
    def in_features(self) -> int:
        return self.weight.shape[1]

    @property
    def out_features(self) -> int:
        return self.weight.shape[0]


class RecurrentNet(nn.Module):
    """An rnn, lstm or gru network built from a :class:`~neuralab.spec.ModelSpec` and the data's shape."""

    def __init__(self, spec: ModelSpec, shape: ModelShape):
        super().__init__()
        settings = spec.recurrent
        if settings.bidirectional and shape.output_steps == "every":
            raise SpecError("model.recurrent.bidirectional: true reads each sequence backwards too, so a prediction "
                            "at every step would see the answer; use it for one prediction per sequence")
        self.cell, self.every_step = spec.kind, shape.output_steps == "every"
        self.directions = 2 if settings.bidirectional else 1
        self.embedding = nn.Embedding(shape.vocab_size, settings.embedding_size) if shape.vocab_size else None
        width = settings.embedding_size if shape.vocab_size else shape.n_inputs
        extra = {"nonlinearity": settings.nonlinearity} if spec.kind == "rnn" else {}
        self.layers = nn.ModuleList()
        for _ in range(settings.layers):
            self.layers.append(LAYERS[spec.kind](width, settings.hidden_size, batch_first=True,
                                                 bidirectional=settings.bidirectional, **extra))
            width = settings.hidden_size * self.directions
        self.dropout = nn.Dropout(spec.dropout) if spec.dropout > 0 else None
        self.output = nn.Linear(width, shape.n_outputs)
        self.activation = settings.nonlinearity if spec.kind == "rnn" else "tanh"  # what bounds h_t
        _initialize(self, spec)

    # ------------------------------------------------------------------ forward passes

    def forward(self, inputs: Tensor) -> Tensor:
        # inputs: (batch, T, n_inputs) numbers or (batch, T) token ids
        # → scores (batch, n_outputs), or (batch, T, n_outputs) with a prediction at every step
        hidden = self.embedding(inputs) if self.embedding is not None else inputs  # (batch, T, width)
        state = None
        for index, layer in enumerate(self.layers):
            if index and self.dropout is not None:
                hidden = self.dropout(hidden)
            hidden, state = layer(hidden)  # (batch, T, directions · hidden_size)
        if not self.every_step:
            hidden = _final(state)  # (batch, directions · hidden_size): both directions' last state
        if self.dropout is not None:
            hidden = self.dropout(hidden)
        return self.output(hidden)

    def unrolled(self, inputs: Tensor) -> tuple[Tensor, list[list[Tensor]]]:
        """The forward pass one step at a time: scores and every layer's h_t, each its own tensor.

        ``states[layer][t]`` is the (batch, hidden_size) hidden state after step t that both
        the next step and the layer above read, so ``torch.autograd.grad(loss, states[l])``
        is the total gradient ‖∂L/∂h_t‖ through time. Dropout is not applied (call it in eval
        mode). Bidirectional layers cannot be unrolled this way.
        """
        if self.directions > 1:
            raise ValueError("unrolled: a bidirectional layer reads the sequence both ways at once")
        hidden = self.embedding(inputs) if self.embedding is not None else inputs
        states: list[list[Tensor]] = []
        for layer in self.layers:
            step = _cell_step(layer)
            h = hidden.new_zeros(hidden.shape[0], layer.hidden_size)  # (batch, hidden_size), as the layer starts
            carried, steps = ((h, h) if isinstance(layer, nn.LSTM) else h), []
            for t in range(hidden.shape[1]):
                carried = step(hidden[:, t], carried)
                h = carried[0] if isinstance(carried, tuple) else carried  # (batch, hidden_size)
                steps.append(h)  # the next step and the layer above both read this very tensor
            states.append(steps)
            hidden = torch.stack(steps, dim=1)  # (batch, T, hidden_size): what the layer above reads
        last = hidden if self.every_step else hidden[:, -1]
        return self.output(last), states

    def hidden_states(self, inputs: Tensor) -> list[Tensor]:
        """Every layer's output sequence (batch, T, directions · hidden_size), in eval mode, without gradients."""
        with torch.no_grad():
            hidden = self.embedding(inputs) if self.embedding is not None else inputs
            sequences = []
            for layer in self.layers:
                hidden, _ = layer(hidden)
                sequences.append(hidden)
        return sequences

    def generate_step(self, tokens: Tensor, state: list | None) -> tuple[Tensor, list]:
        """Read ``tokens`` (batch, t) from ``state`` (None: the start); the last step's scores (batch, V) and the new state."""
        if self.embedding is None or not self.every_step:
            raise ValueError("generate_step: only a language model (token inputs, a prediction at every step) "
                             "generates text")
        hidden = self.embedding(tokens)
        carried = []
        for index, layer in enumerate(self.layers):
            hidden, layer_state = layer(hidden, None if state is None else state[index])
            carried.append(layer_state)
        return self.output(hidden[:, -1]), carried

    # ------------------------------------------------------------------ what the doctor and the summary read

    def health_layers(self) -> list[tuple[str, WeightView, nn.Module | None, str | None]]:
        """(name, weight, module whose output to watch, its activation) per weight matrix, input to output."""
        rows: list[tuple[str, WeightView, nn.Module | None, str | None]] = []
        if self.embedding is not None:
            rows.append(("embedding", WeightView(self.embedding.weight, None), None, None))
        for index, layer in enumerate(self.layers):
            for suffix, label in (("", ""), ("_reverse", " (backward)")):
                if not hasattr(layer, f"weight_hh_l0{suffix}"):
                    continue
                name = f"{self.cell}{index + 1}"
                rows.append((f"{name}.input{label}", WeightView(getattr(layer, f"weight_ih_l0{suffix}"),
                                                                 getattr(layer, f"bias_ih_l0{suffix}")), None, None))
                rows.append((f"{name}.recurrent{label}", WeightView(getattr(layer, f"weight_hh_l0{suffix}"),
                                                                     getattr(layer, f"bias_hh_l0{suffix}")),
                             layer if not suffix else None, self.activation if not suffix else None))
        rows.append(("output", WeightView(self.output.weight, self.output.bias), None, None))
        return rows

    def describe(self) -> list[dict[str, object]]:
        """One row per layer: name, inputs, outputs, activation, parameters."""
        rows = []
        if self.embedding is not None:
            rows.append({"layer": "embedding", "inputs": self.embedding.num_embeddings,
                         "outputs": self.embedding.embedding_dim, "activation": "(lookup)",
                         "parameters": self.embedding.weight.numel()})
        for index, layer in enumerate(self.layers):
            rows.append({"layer": f"{self.cell}{index + 1}", "inputs": layer.input_size,
                         "outputs": layer.hidden_size * self.directions,
                         "activation": f"{self.cell} ({self.activation})" if self.cell == "rnn" else f"{self.cell} cell",
                         "parameters": sum(p.numel() for p in layer.parameters())})
        rows.append({"layer": "output", "inputs": self.output.in_features, "outputs": self.output.out_features,
                     "activation": "(output head)", "parameters": self.output.weight.numel() + self.output.bias.numel()})
        return rows


def _final(state: Tensor | tuple[Tensor, Tensor]) -> Tensor:
    """A one-layer torch RNN's h_n (directions, batch, hidden) as (batch, directions · hidden)."""
    h = state[0] if isinstance(state, tuple) else state
    return torch.cat(list(h), dim=-1)


@torch.no_grad()
def _initialize(model: RecurrentNet, spec: ModelSpec) -> None:
    settings, gates = spec.recurrent, GATES[spec.kind]
    init = settings.init
    if init == "auto":
        init = "identity" if spec.kind == "rnn" and settings.nonlinearity == "relu" else "orthogonal"
    for layer in model.layers:
        for name, parameter in layer.named_parameters():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(parameter)
            elif name.startswith("weight_hh") and init != "uniform":
                for block in parameter.view(gates, settings.hidden_size, settings.hidden_size):
                    nn.init.orthogonal_(block) if init == "orthogonal" else block.copy_(torch.eye(len(block)))
            elif name.startswith("bias"):
                nn.init.zeros_(parameter)
                if spec.kind == "lstm" and name.startswith("bias_ih"):  # b_ih + b_hh: one forget bias
                    parameter.view(gates, settings.hidden_size)[FORGET_GATE].fill_(settings.forget_bias)
    nn.init.xavier_uniform_(model.output.weight)
    nn.init.zeros_(model.output.bias)


def _cell_step(layer: nn.RNNBase):
    """One time step of a one-layer, one-way torch recurrent layer, on its own weights: torch's cell
    operation (what ``nn.LSTMCell``, ``nn.GRUCell`` and ``nn.RNNCell`` call). The same numbers as the
    layer run on one step, without the layer's per-call work: the unrolled probe of an LSTM over
    100 steps took 2.3× longer through the layer."""
    weights = (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)
    if isinstance(layer, nn.LSTM):
        return lambda inputs, state: torch.lstm_cell(inputs, state, *weights)  # state: (h, c), each (batch, hidden)
    if isinstance(layer, nn.GRU):
        return lambda inputs, h: torch.gru_cell(inputs, h, *weights)
    cell = torch.rnn_tanh_cell if layer.nonlinearity == "tanh" else torch.rnn_relu_cell
    return lambda inputs, h: cell(inputs, h, *weights)


def count_parameters(spec: ModelSpec, shape: ModelShape) -> int:
    """Parameters the network of ``spec`` would have, computed without building it.

    Example:
        >>> count_parameters(ModelSpec(kind="gru", recurrent={"hidden_size": 4}), ModelShape(n_inputs=2, n_outputs=1))
        101
    """
    settings, gates = spec.recurrent, GATES[spec.kind]
    hidden, directions = settings.hidden_size, 2 if settings.bidirectional else 1
    width = settings.embedding_size if shape.vocab_size else shape.n_inputs
    total = shape.vocab_size * settings.embedding_size if shape.vocab_size else 0
    for _ in range(settings.layers):
        total += directions * gates * hidden * (width + hidden + 2)
        width = hidden * directions
    return total + width * shape.n_outputs + shape.n_outputs


for _name in LAYERS:
    register(ModelKind(
        name=_name,
        build=lambda spec, shape: RecurrentNet(spec, shape),
        count_parameters=count_parameters,
        data_kinds=("sequence", "text"),
        describe=lambda model: model.describe(),
        size_of=lambda spec: (f"model.recurrent: {spec.recurrent.layers} × {spec.recurrent.hidden_size} "
                              f"{spec.kind}{' (bidirectional)' if spec.recurrent.bidirectional else ''}"),
        population=False,
        threads_from=THREADS_FROM,
    ))
