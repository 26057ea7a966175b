"""The gradient through time: ‖∂L/∂h_t‖ at every time step of a recurrent network, layer by layer.

Back-propagation through time multiplies the gradient by the recurrent Jacobian at every
step back, so in a tanh RNN it shrinks geometrically (vanishes) or grows (explodes) with the
distance from the loss; an LSTM's cell state lets it through. The fused torch layers do the
whole recurrence in one operation, so their output sequence's ``.grad`` holds only each
step's *direct* share; the total gradient needs each h_t as a tensor of its own, which the
model's ``unrolled`` pass gives (the same layers' weights, one step at a time through torch's cell
operation).

For a prediction at every step (a language model) the loss is that of the **last** step
alone: how far back one prediction's gradient reaches. The probe reads the batch it is given
(its first ``rows`` rows), computes gradients with ``torch.autograd.grad`` — the parameters'
``.grad`` are untouched — and draws no random numbers, so training is unchanged by it.

Example:
    >>> import torch
    >>> from neuralab.spec import ModelSpec
    >>> from neuralab.models import ModelShape, build_model
    >>> from neuralab.training.losses import Head
    >>> _ = torch.manual_seed(0)
    >>> model = build_model(ModelSpec(kind="rnn", recurrent={"hidden_size": 8}), ModelShape(n_inputs=2, n_outputs=1))
    >>> head = Head(task="regression", output_activation="linear", loss="mse", n_outputs=1)
    >>> norms = gradient_through_time(model, head, torch.rand(4, 30, 2), torch.rand(4))
    >>> norms.shape, bool(norms[0, 0] < norms[0, -1])
    (torch.Size([1, 30]), True)
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from neuralab.training.losses import Head

PROBE_ROWS = 32  # rows of the batch the probe unrolls: enough for a stable norm, cheap next to a step


def can_unroll(model: nn.Module) -> bool:
    """True when ``model`` is a recurrent network whose hidden states can be read step by step."""
    return hasattr(model, "unrolled") and getattr(model, "directions", 1) == 1


def gradient_through_time(model: nn.Module, head: Head, inputs: Tensor, targets: Tensor, *,
                          rows: int = PROBE_ROWS) -> Tensor | None:
    """‖∂L/∂h_t‖ per layer and step: (layers, T) float32, or None when ``model`` cannot be unrolled.

    Args:
        model: a recurrent network (see :func:`can_unroll`).
        head: its output head (the loss).
        inputs, targets: a batch, (batch, T, d) or (batch, T) and (batch,) or (batch, T).
        rows: how many of the batch's rows to use (default 32).
    """
    if not can_unroll(model):
        return None
    inputs, targets = inputs[:rows], targets[:rows]
    with torch.enable_grad():
        scores, states = model.unrolled(inputs)  # states[layer][t]: (rows, hidden_size)
        if scores.dim() == 3:  # a prediction at every step: the last one's loss
            scores, targets = scores[:, -1], targets[:, -1]
        loss = head.compute_loss(scores, targets)
        flat = [h for layer in states for h in layer]
        grads = torch.autograd.grad(loss, flat, allow_unused=True)
    norms = [torch.linalg.vector_norm(g) if g is not None else flat[0].new_zeros(()) for g in grads]
    return torch.stack(norms).detach().float().view(len(states), -1)


def first_to_last_ratio(norms: list[float]) -> float | None:
    """‖∂L/∂h_1‖ / ‖∂L/∂h_T‖: ≪ 1 when the gradient vanishes through time, ≫ 1 when it explodes.

    Example:
        >>> first_to_last_ratio([1e-6, 1e-3, 1.0])
        1e-06
    """
    if not norms or norms[-1] is None or norms[0] is None or norms[-1] <= 0:
        return None
    return float(norms[0]) / float(norms[-1])
