"""Rate limits for a tab's expensive requests (a token bucket per request kind).

Rebuilding data, importing a spec, racing optimisers or exporting cost real work on the
server; a page (or a script on it) sending them in a loop must not starve the machine.
Each kind has a bucket of ``burst`` tokens refilled at ``per_second``; a request finding
its bucket empty is refused with a message saying how often it may come.

Example:
    >>> from neuralab.playground.limits import RateLimits
    >>> limits = RateLimits({"race": (1.0, 2)}, clock=lambda: 0.0)
    >>> [limits.allow("race") for _ in range(3)]
    [True, True, False]
"""
from __future__ import annotations

import time
from collections.abc import Callable

# kind → (requests per second, burst). Sliders send `configure` while dragged: generous.
LIMITS: dict[str, tuple[float, int]] = {
    "configure": (30.0, 60), "step": (30.0, 60), "set_weight": (30.0, 60), "add_point": (30.0, 60),
    "reset": (5.0, 10), "new_seed": (5.0, 10), "regenerate": (5.0, 10), "export": (2.0, 5),
    "import": (2.0, 5), "upload_csv": (2.0, 5), "race": (2.0, 5),
}


class RateLimits:
    """Token buckets, one per request kind; kinds not listed are not limited.

    Args:
        limits: kind → (refill rate per second, bucket size); default :data:`LIMITS`.
        clock: seconds, monotonic (default ``time.monotonic``).
    """

    def __init__(self, limits: dict[str, tuple[float, int]] | None = None, *,
                 clock: Callable[[], float] = time.monotonic):
        self.limits = LIMITS if limits is None else limits
        self.clock = clock
        self.tokens = {kind: float(burst) for kind, (_, burst) in self.limits.items()}
        self.updated = {kind: clock() for kind in self.limits}

    def allow(self, kind: str) -> bool:
        """Take a token for ``kind``; False when its bucket is empty."""
        if kind not in self.limits:
            return True
        rate, burst = self.limits[kind]
        now = self.clock()
        self.tokens[kind] = min(burst, self.tokens[kind] + (now - self.updated[kind]) * rate)
        self.updated[kind] = now
        if self.tokens[kind] < 1:
            return False
        self.tokens[kind] -= 1
        return True

    def refusal(self, kind: str) -> str:
        """The message for a refused ``kind``."""
        rate, burst = self.limits[kind]
        return f"too many {kind!r} requests: at most {rate:g} per second (bursts of {burst}); wait a moment"
