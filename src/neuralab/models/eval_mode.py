"""Evaluation mode for a block: dropout off, batch norm on its running statistics, then the mode put back.

Example:
    >>> import torch
    >>> from neuralab.models.eval_mode import evaluation_mode
    >>> model = torch.nn.Dropout(0.5)
    >>> with evaluation_mode(model):
    ...     model.training
    False
    >>> model.training
    True
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def evaluation_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Run a block with ``model`` in eval mode, then restore the mode it had.

    A model already in eval mode is left alone, and so is one that says its mode does not matter
    (``model.mode_matters`` False: an MLP without dropout or batch norm computes the same in both):
    switching a mode walks every submodule, which on a small network costs as much as one of its
    layers (the playground scores and draws many times a second).
    """
    was_training = model.training and getattr(model, "mode_matters", True)
    if was_training:
        model.eval()
    try:
        yield model
    finally:
        if was_training:
            model.train()
