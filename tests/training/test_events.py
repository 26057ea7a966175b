"""Event dispatch: handlers in order, and batch events only on the steps some callback wants."""
from __future__ import annotations

from neuralab.training.events import Callback, CallbackList


class Sampler(Callback):
    def __init__(self, every: int):
        self.batch_every = every
        self.seen: list[int] = []

    def on_batch_end(self, state):
        self.seen.append(state)


class EveryStep(Callback):
    def on_after_step(self, state):
        pass


class EpochOnly(Callback):
    def on_epoch_end(self, state):
        pass


def test_batch_events_are_due_only_on_the_sampled_steps():
    events = CallbackList([Sampler(3), EpochOnly()])
    assert [step for step in range(10) if events.batch_due(step)] == [0, 3, 6, 9]


def test_a_callback_listening_every_step_makes_every_step_due():
    events = CallbackList([Sampler(100), EveryStep()])
    assert all(events.batch_due(step) for step in range(10))


def test_no_batch_listener_means_no_batch_dispatch():
    assert not any(CallbackList([EpochOnly()]).batch_due(step) for step in range(5))


def test_handlers_fire_in_the_order_given():
    order = []

    class Named(Callback):
        def __init__(self, name):
            self.name = name

        def on_epoch_end(self, state):
            order.append(self.name)

    CallbackList([Named("a"), Named("b")]).fire("epoch_end", None)
    assert order == ["a", "b"]
