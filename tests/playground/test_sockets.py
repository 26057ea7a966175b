"""The one admission rule of the playground's sockets (main page, sequence page, explorer)."""
from __future__ import annotations

import asyncio

from neuralab.playground.sockets import next_text, serve_tab


class FakeSocket:
    def __init__(self, origin: str, frames=()):
        self.headers = {"origin": origin, "host": "127.0.0.1:8000"}
        self.frames, self.closed, self.accepted = list(frames), None, False

    async def close(self, code: int) -> None:
        self.closed = code

    async def accept(self) -> None:
        self.accepted = True

    async def receive(self) -> dict:
        return self.frames.pop(0) if self.frames else {"type": "websocket.disconnect"}


class Tab:
    def __init__(self, tabs: set):
        self.tabs, self.seen = tabs, None

    async def run(self) -> None:
        self.seen = set(self.tabs)  # counted while it is served


def serve(socket: FakeSocket, tabs: set, *, allowed: bool = True, limit: int = 2) -> list[Tab]:
    made = []

    async def connect() -> Tab:
        made.append(Tab(tabs))
        return made[-1]

    asyncio.run(serve_tab(socket, tabs, origin_allowed=lambda origin, host: allowed, max_sessions=limit,
                          connect=connect, page="test"))
    return made


def test_a_foreign_origin_is_refused_before_any_session_is_made():
    socket = FakeSocket("http://evil.example")
    assert serve(socket, set(), allowed=False) == [] and socket.closed == 1008 and not socket.accepted


def test_a_full_page_asks_the_tab_to_come_back_later():
    socket = FakeSocket("http://127.0.0.1:8000")
    assert serve(socket, {"one", "two"}, limit=2) == [] and socket.closed == 1013


def test_an_admitted_tab_is_counted_while_served_and_released_after():
    tabs: set = set()
    [tab] = serve(FakeSocket("http://127.0.0.1:8000"), tabs)
    assert tab.seen == {tab} and tabs == set()


def test_text_and_binary_frames_read_as_text_until_the_tab_closes():
    socket = FakeSocket("", [{"type": "websocket.receive", "text": "a"},
                             {"type": "websocket.receive", "bytes": b"b\xff"}])
    assert [asyncio.run(next_text(socket)) for _ in range(3)] == ["a", "b\ufffd", None]
