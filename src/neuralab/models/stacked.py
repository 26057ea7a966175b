"""K multi-layer perceptrons of one shape as one computation: stacked weights, batched products.

Layer ``l`` of all ``K`` networks is one ``(K, out, in)`` tensor, so ``K`` small matrix
products become one ``torch.baddbmm``. Batch norm runs as ``F.batch_norm`` with one
channel per (network, unit). The population engine (:mod:`neuralab.training.population`)
trains a :class:`StackedMLP` and unstacks it into each member's own :class:`~neuralab.models.MLP`.

Example:
    >>> import torch
    >>> from neuralab.models import ModelShape, build_model
    >>> from neuralab.spec import ModelSpec
    >>> nets = []
    >>> for seed in (0, 1):
    ...     _ = torch.manual_seed(seed)
    ...     nets.append(build_model(ModelSpec(hidden=[3]), ModelShape(n_inputs=2, n_outputs=1)))
    >>> stacked = StackedMLP(nets)
    >>> x = torch.randn(5, 2)
    >>> scores, _ = stacked.forward(x.expand(2, 5, 2), training=False)
    >>> bool(torch.allclose(scores[1], nets[1](x), atol=1e-6))
    True
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from neuralab.models.activations import make_activation
from neuralab.models.mlp import MLP


class StackedMLP:
    """The parameters of K same-shape MLPs, stacked, and their batched forward pass.

    Args:
        models: the K networks (same layers, activations and batch-norm setting; no dropout).
        device: where the stacked tensors live (default: the first model's device).
    """

    def __init__(self, models: list[MLP], device: torch.device | None = None):
        device = device or models[0].output.weight.device
        self.size = len(models)
        layers = [m.linear_layers() for m in models]
        # weights[l] (K, out, in), as nn.Linear keeps them; biases[l] (K, out): the trained leaves.
        self.weights = [torch.stack([ls[i].weight.detach() for ls in layers]).to(device).requires_grad_()
                        for i in range(len(layers[0]))]
        self.biases = [torch.stack([ls[i].bias.detach() for ls in layers]).to(device).requires_grad_()
                       for i in range(len(layers[0]))]
        self.activation_names = list(models[0].activation_names)
        self.activations = [make_activation(name) for name in self.activation_names]
        blocks = [[block.norm for block in m.hidden if hasattr(block, "norm")] for m in models]
        count = len(blocks[0])
        self.norm_weights = [torch.stack([b[i].weight.detach() for b in blocks]).to(device).requires_grad_()
                             for i in range(count)]
        self.norm_biases = [torch.stack([b[i].bias.detach() for b in blocks]).to(device).requires_grad_()
                            for i in range(count)]
        # Running statistics (K·width,) per normalised layer: means, then variances.
        self.running = [torch.stack([b[i].running_mean for b in blocks]).reshape(-1).to(device).clone()
                        for i in range(count)] + \
                       [torch.stack([b[i].running_var for b in blocks]).reshape(-1).to(device).clone()
                        for i in range(count)]
        first = blocks[0][0] if count else None
        self.norm_momentum, self.norm_eps = (first.momentum, first.eps) if first is not None else (0.1, 1e-5)

    @property
    def parameters(self) -> list[Tensor]:
        """Every trained leaf: linear weights, biases, then batch-norm scales and shifts."""
        return [*self.weights, *self.biases, *self.norm_weights, *self.norm_biases]

    def forward(self, inputs: Tensor, *, training: bool, keep_hidden: bool = False) -> tuple[Tensor, list[Tensor]]:
        """Scores (K, batch, n_outputs) for inputs (K, batch, n_inputs), and each hidden layer's
        activations (K, batch, width) when ``keep_hidden`` (for the health record)."""
        # Activations run feature-major, (K, width, batch): every product W @ H then has the
        # batch as its long output side, which keeps the matrix kernels efficient even for a
        # 10-unit output layer (row-major, its 10 output columns ran at a tenth of the speed).
        hidden = inputs.transpose(1, 2)  # (K, n_inputs, batch), a view
        kept = []
        for index, (weight, bias, activation) in enumerate(zip(self.weights, self.biases, self.activations)):
            hidden = torch.baddbmm(bias.unsqueeze(2), weight, hidden)  # (K, width, batch)
            if self.norm_weights:
                hidden = self._normalise(index, hidden, training=training)
            hidden = activation(hidden)
            if keep_hidden:
                kept.append(hidden.detach().transpose(1, 2))
        scores = torch.baddbmm(self.biases[-1].unsqueeze(2), self.weights[-1], hidden)  # (K, n_outputs, batch)
        return scores.transpose(1, 2).contiguous(), kept  # a small copy; the loss and argmax then read rows

    def _normalise(self, index: int, hidden: Tensor, *, training: bool) -> Tensor:
        size, width, batch = hidden.shape
        channels = hidden.reshape(1, size * width, batch)  # (1, K·width, batch): statistics over the batch
        normed = F.batch_norm(channels, self.running[index], self.running[len(self.norm_weights) + index],
                              self.norm_weights[index].reshape(-1), self.norm_biases[index].reshape(-1),
                              training=training, momentum=self.norm_momentum, eps=self.norm_eps)
        return normed.view(size, width, batch)

    # ------------------------------------------------------------------ one member's state

    def member_state(self, k: int) -> list[Tensor]:
        """Network ``k``'s parameters and batch-norm statistics (copies)."""
        return [t.detach().view(self.size, -1)[k].clone() for t in (*self.parameters, *self.running)]

    def load_member(self, k: int, saved: list[Tensor]) -> None:
        """Put back what :meth:`member_state` returned for network ``k``."""
        with torch.no_grad():
            for t, value in zip((*self.parameters, *self.running), saved):
                t.view(self.size, -1)[k] = value

    def snapshot(self) -> list[Tensor]:
        """Every network's state at once (copies), to restore single members from later."""
        return [t.detach().clone() for t in (*self.parameters, *self.running)]

    def member_of(self, snapshot: list[Tensor], k: int) -> list[Tensor]:
        """Network ``k``'s part of a :meth:`snapshot`."""
        return [t.view(self.size, -1)[k] for t in snapshot]

    def unstack(self, k: int, model: MLP, *, batches_seen: int) -> None:
        """Copy network ``k`` into ``model`` (batch norm's counter set to ``batches_seen``)."""
        with torch.no_grad():
            for layer, weight, bias in zip(model.linear_layers(), self.weights, self.biases):
                layer.weight.copy_(weight[k].to(layer.weight.device))
                layer.bias.copy_(bias[k].to(layer.bias.device))
            norms = [block.norm for block in model.hidden if hasattr(block, "norm")]
            count = len(norms)
            for index, norm in enumerate(norms):
                norm.weight.copy_(self.norm_weights[index][k])
                norm.bias.copy_(self.norm_biases[index][k])
                norm.running_mean.copy_(self.running[index].view(self.size, -1)[k])
                norm.running_var.copy_(self.running[count + index].view(self.size, -1)[k])
                norm.num_batches_tracked.fill_(batches_seen)


def stackable(models: list[Any]) -> bool:
    """True when the networks can be stacked: MLPs of one shape and one set of activations, no dropout."""
    first = models[0]
    if not all(isinstance(m, MLP) for m in models):
        return False
    shapes = {tuple((name, tuple(t.shape)) for name, t in m.state_dict().items()) for m in models}
    dropout = any(any(hasattr(block, "dropout") for block in m.hidden) for m in models)
    return len(shapes) == 1 and not dropout and all(m.activation_names == first.activation_names for m in models)
