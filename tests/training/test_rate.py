"""The learning rate has one owner: the schedule computes it, rollbacks scale it, one function writes it."""
from __future__ import annotations

import math

import pytest
import torch

from neuralab.spec import TrainSpec
from neuralab.spec.catalog import names
from neuralab.training.rate import LearningRate, write_rate


def run(rate: LearningRate, epochs: int, *, scale_at: int | None = None) -> list[float]:
    used = []
    for epoch in range(epochs):
        if scale_at == epoch:
            rate.scale(0.5)
        used.append(rate.value)
        rate.end_epoch({"train_loss": 1.0 / (epoch + 1), "dev_loss": 1.0})
    return used


@pytest.mark.parametrize("name", names("schedules"))
def test_a_rollback_halves_this_and_every_later_rate(name):
    # A divergence rollback halves the rate: the schedule must keep the cut, not undo it.
    train = TrainSpec(learning_rate=0.1, epochs=10, schedule={"name": name})
    plain, scaled = run(LearningRate(train), 6), run(LearningRate(train), 6, scale_at=2)
    assert scaled[:2] == plain[:2]
    assert scaled[2:] == pytest.approx([value / 2 for value in plain[2:]])


def test_no_schedule_can_push_the_rate_above_ten():
    rate = LearningRate(TrainSpec(learning_rate=5.0, schedule={"name": "bold_driver", "increase": 10.0}))
    used = run(rate, 8)  # the train loss falls every epoch: the rate grows by ×10 each time
    assert max(used) == 10.0 and all(math.isfinite(value) for value in used)


def test_state_round_trips_for_resume():
    train = TrainSpec(learning_rate=0.1, schedule={"name": "plateau", "patience": 1})
    rate = LearningRate(train)
    run(rate, 4, scale_at=1)
    again = LearningRate(train)
    again.load_state_dict(rate.state_dict())
    assert run(again, 3) == run(rate, 3)


def test_write_rate_sets_every_group():
    optimizer = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)]},
                                 {"params": [torch.zeros(1, requires_grad=True)]}], lr=1.0)
    write_rate(optimizer, 0.25)
    assert [group["lr"] for group in optimizer.param_groups] == [0.25, 0.25]


def test_a_live_restart_keeps_the_schedules_shape():
    rate = LearningRate(TrainSpec(learning_rate=0.1, epochs=20, schedule={"name": "step", "step_size": 2}))
    run(rate, 2)
    rate.restart_from(0.4)  # the playground's rate slider moved from 0.1 to 0.4 after a drop to 0.05
    assert rate.value == pytest.approx(0.2)
