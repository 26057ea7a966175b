"""Early stopping stops after `patience` epochs without improvement and restores the best weights."""
from __future__ import annotations

import torch

from neuralab.spec import EarlyStoppingSpec
from neuralab.training.callbacks import EarlyStopping
from neuralab.training.events import TrainingState


def state_for(model) -> TrainingState:
    return TrainingState(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), rate=None, spec=None)


def feed(callback, state, dev_losses):
    for epoch, loss in enumerate(dev_losses):
        with torch.no_grad():
            state.model.weight.fill_(float(epoch))  # weights remember the epoch they come from
        state.metrics = {"dev_loss": loss, "dev_error": loss}
        state.history.append(state.metrics)
        callback.on_epoch_end(state)
        if state.stop_training:
            break
    callback.on_fit_end(state)


def test_stops_after_patience_and_restores_best():
    state = state_for(torch.nn.Linear(1, 1))
    feed(EarlyStopping(EarlyStoppingSpec(patience=3)), state, [1.0, 0.5, 0.6, 0.7, 0.8, 0.1])
    assert len(state.history) == 5 and "has not improved for 3 epochs" in state.stop_reason
    assert state.best_epoch == state.kept_epoch == 2 and float(state.model.weight.detach()) == 1.0  # epoch 2 wrote weight 1


def test_min_delta_ignores_tiny_improvements():
    state = state_for(torch.nn.Linear(1, 1))
    feed(EarlyStopping(EarlyStoppingSpec(patience=2, min_delta=0.1)), state, [1.0, 0.95, 0.93, 0.5])
    assert len(state.history) == 3 and state.best_epoch == 1


def test_without_restore_the_last_weights_stay():
    state = state_for(torch.nn.Linear(1, 1))
    feed(EarlyStopping(EarlyStoppingSpec(patience=1, restore_best=False)), state, [1.0, 2.0, 3.0])
    # the best epoch is still reported; the weights kept are the last ones (not the best's)
    assert float(state.model.weight.detach()) == 1.0 and state.best_epoch == 1 and state.kept_epoch is None
