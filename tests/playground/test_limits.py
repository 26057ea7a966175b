"""Expensive playground requests are rate-limited per tab; the session keeps working."""
from __future__ import annotations

import asyncio
import json

from neuralab.playground.limits import LIMITS, RateLimits


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_empties_then_refills_at_its_rate():
    clock = Clock()
    limits = RateLimits({"race": (2.0, 3)}, clock=clock)
    assert [limits.allow("race") for _ in range(4)] == [True, True, True, False]
    clock.now = 0.5  # one token back at 2 per second
    assert limits.allow("race") and not limits.allow("race")
    assert limits.allow("play")  # not listed: not limited
    assert "at most 2 per second" in limits.refusal("race")


def test_every_limit_lets_an_interactive_burst_through():
    for kind, (rate, burst) in LIMITS.items():
        assert rate >= 1 and burst >= 5, kind


def test_a_flood_of_races_is_refused_with_a_message_and_the_tab_goes_on():
    from neuralab.playground.connection import Connection

    sent: list[dict] = []

    class Socket:
        async def send_text(self, text):
            sent.append(json.loads(text))

    class Session:
        stopped = False

    connection = Connection(Socket(), Session())
    connection.limits = RateLimits({"race": (0.001, 2)})
    race = json.dumps({"type": "race", "surface": "rosenbrock", "steps": 2})

    async def flood():
        for _ in range(4):
            await connection.handle(race)
        await connection.handle(json.dumps({"type": "pause"}))

    asyncio.run(flood())
    kinds = [message["type"] for message in sent]
    assert kinds[:2] == ["race", "race"] and kinds[2:4] == ["error", "error"] and kinds[4] == "playing"
    assert "too many 'race' requests" in sent[2]["message"]
