"""The schedule callback advances the run's learning rate with each epoch's metrics and writes it."""
from __future__ import annotations

import torch

from neuralab.spec import TrainSpec
from neuralab.training.callbacks import LearningRateSchedule
from neuralab.training.events import TrainingState
from neuralab.training.rate import LearningRate


def test_steps_the_rate_with_the_epoch_metrics_and_writes_it_into_the_optimizer():
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=123.0)
    rate = LearningRate(TrainSpec(learning_rate=0.1, schedule={"name": "plateau", "patience": 1, "factor": 0.5}))
    state = TrainingState(model=model, optimizer=optimizer, rate=rate, spec=None)
    callback = LearningRateSchedule()
    callback.on_fit_start(state)
    assert optimizer.param_groups[0]["lr"] == 0.1
    for dev_loss in (0.5, 0.6):  # the second epoch brings no improvement: a cut
        state.metrics = {"dev_loss": dev_loss, "train_loss": 1.0}
        callback.on_epoch_end(state)
    assert optimizer.param_groups[0]["lr"] == 0.05
