"""The divergence guard puts back the last finite weights."""
from __future__ import annotations

import torch

from neuralab.training.callbacks import DivergenceGuard
from neuralab.training.events import TrainingState


def test_restores_snapshot_from_the_last_finite_epoch():
    model = torch.nn.Linear(2, 1)
    state = TrainingState(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), schedule=None, spec=None)
    guard = DivergenceGuard()
    guard.on_fit_start(state)
    state.history.append({"train_loss": 1.0})
    guard.on_epoch_end(state)
    kept = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.fill_(float("nan"))
    guard.on_diverged(state)
    assert torch.equal(model.weight, kept) and state.best_epoch == 1
