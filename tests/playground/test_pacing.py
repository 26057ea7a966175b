"""Frames are paced to the page: a frame rate, a share of the time for drawing, at most two undrawn frames."""
from __future__ import annotations

from neuralab.playground.pacing import DRAWN_TIMEOUT, FramePacer


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_cheap_frames_come_at_the_frame_rate_and_costly_ones_take_a_quarter_of_the_time():
    clock = Clock()
    pacer = FramePacer(fps=30, share=0.25, clock=clock)
    assert pacer.seconds_to_next() == 0.0
    pacer.sent(cost=0.002)  # frames are due an interval after the last one began
    assert abs(pacer.seconds_to_next() - (1 / 30 - 0.002)) < 1e-9
    clock.now += 1.0
    pacer.sent(cost=0.05)  # a big network's frame: one per 0.2 s, training gets the other 75 %
    assert abs(pacer.seconds_to_next() - (0.2 - 0.05)) < 1e-9


def test_a_page_that_has_not_drawn_two_frames_gets_no_third_until_it_does():
    clock = Clock()
    pacer = FramePacer(in_flight=2, clock=clock)
    pacer.sent(cost=0.001)
    assert pacer.may_send()
    pacer.sent(cost=0.001)
    assert not pacer.may_send()
    pacer.drawn()
    assert pacer.may_send()
    pacer.sent(cost=0.001)
    clock.now += DRAWN_TIMEOUT + 0.1  # a page that never acknowledges still gets frames, slowly
    assert pacer.may_send()
