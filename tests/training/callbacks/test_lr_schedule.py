"""The schedule callback steps the schedule once per epoch with the epoch's metrics."""
from __future__ import annotations

from neuralab.training.callbacks import LearningRateSchedule


def test_steps_schedule_with_metrics():
    seen = []

    class Schedule:
        def step(self, metrics):
            seen.append(metrics)

    class State:
        schedule, metrics = Schedule(), {"dev_loss": 0.3}

    LearningRateSchedule().on_epoch_end(State())
    assert seen == [{"dev_loss": 0.3}]
