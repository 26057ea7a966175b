"""Fuzz the WebSocket message handler: any text a page sends is answered, never raised."""
from __future__ import annotations

import asyncio
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuralab.playground.connection import Connection
from neuralab.playground.messages import TYPES as MESSAGE_TYPES
from neuralab.playground.session import Session

_SCALARS = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=20)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                             max_size=4), max_leaves=12)
_MESSAGES = st.fixed_dictionaries({"type": st.sampled_from([*MESSAGE_TYPES, "bogus"])},
                                  optional={key: _VALUES for key in ("changes", "text", "layer", "row", "column",
                                                                     "value", "x", "y", "label", "surface", "start",
                                                                     "learning_rates", "steps", "epochs")})
_KNOWN_REPLIES = {"error", "playing", "frame", "data", "state", "spec", "race"}


class Socket:
    def __init__(self):
        self.sent: list[dict] = []

    async def send_text(self, text):
        self.sent.append(json.loads(text))


SESSION = Session()  # one session: the fuzzer checks that it survives whatever comes


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(payload=_MESSAGES.map(json.dumps) | st.text(max_size=200))
def test_any_text_gets_replies_and_the_session_keeps_working(payload):
    socket = Socket()
    connection = Connection(socket, SESSION)
    asyncio.run(connection.handle(payload))
    assert socket.sent, "every message is answered"
    assert all(reply.get("type") in _KNOWN_REPLIES for reply in socket.sent), socket.sent
    assert not any("internal error" in str(reply.get("message", "")) for reply in socket.sent), socket.sent
    follow_up = Socket()
    asyncio.run(Connection(follow_up, SESSION).handle(json.dumps({"type": "pause"})))
    assert follow_up.sent == [{"type": "playing", "playing": False}]
