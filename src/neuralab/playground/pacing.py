"""When the playground draws: frames paced to the page, and a pause between batches for one.

Training and drawing share one worker thread per tab. :class:`FramePacer` says how long
to train before the next frame; :class:`PauseForFrame` lets a big network's epoch pause
between two batches when that time is up (the loop's own pause, ``state.pause_epoch()``:
the next epoch call goes on from there, bit for bit as an epoch that never paused).
"""
from __future__ import annotations

import time
from collections.abc import Callable

from neuralab.training.events import Callback

FRAMES_PER_SECOND = 32  # a little above 30, so a frame a bit late still keeps 30 a second
FRAME_SHARE = 0.25  # drawing takes at most this share of the time; training gets the rest
IN_FLIGHT = 2  # frames sent but not yet drawn by the page
DRAWN_TIMEOUT = 1.0  # seconds; a page that never says "drawn" still gets frames this often


class FramePacer:
    """When the next frame is due, from the frame rate, the cost of a frame and the page's pace.

    Example:
        >>> clock = [0.0]
        >>> pacer = FramePacer(clock=lambda: clock[0])
        >>> pacer.sent(cost=0.02)  # a 20 ms frame: at most one per 80 ms, counted from its start
        >>> round(pacer.seconds_to_next(), 3)
        0.06
    """

    def __init__(self, *, fps: float = FRAMES_PER_SECOND, share: float = FRAME_SHARE, in_flight: int = IN_FLIGHT,
                 clock: Callable[[], float] = time.perf_counter):
        self.interval, self.share, self.in_flight, self.clock = 1.0 / fps, share, in_flight, clock
        self.last = -1e9
        self.cost = 0.0
        self.unacknowledged: list[float] = []  # when each frame not yet drawn was sent

    def seconds_to_next(self) -> float:
        """Seconds of training before the next frame may be drawn."""
        return max(0.0, self.last + max(self.interval, self.cost / self.share) - self.clock())

    def may_send(self) -> bool:
        """False while the page still has ``in_flight`` frames to draw."""
        now = self.clock()
        self.unacknowledged = [sent for sent in self.unacknowledged if now - sent < DRAWN_TIMEOUT]
        return len(self.unacknowledged) < self.in_flight

    def sent(self, *, cost: float) -> None:
        """A frame that took ``cost`` seconds to draw was sent now (the next one is due an interval after it began)."""
        now = self.clock()
        self.last, self.cost = now - cost, cost
        self.unacknowledged.append(now)

    def drawn(self) -> None:
        """The page drew a frame."""
        if self.unacknowledged:
            self.unacknowledged.pop(0)


class PauseForFrame(Callback):
    """Pauses the loop between two batches once the training budget is spent (a big network's
    epoch can outlast a frame); the next epoch call goes on from where it paused."""

    batch_every = 4  # look at the clock every few steps only

    def __init__(self) -> None:
        self.deadline: float | None = None

    def on_batch_end(self, state) -> None:
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            state.pause_epoch()
