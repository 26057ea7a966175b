"""The one rule every page's WebSocket follows: who is let in, and how a message is read.

A socket is refused (1008, policy) unless its Origin is the page's own, and told to come
back later (1013) when ``max_sessions`` tabs are open; an admitted tab is counted in its
page's set while it is served. Frames are read as text (a binary frame as UTF-8, bad bytes
replaced); the page's own schema then checks what they say.

Example:
    >>> import asyncio
    >>> class Frames:  # a socket that receives one binary frame, then closes
    ...     def __init__(self): self.frames = [{"type": "websocket.receive", "bytes": b"{}"},
    ...                                        {"type": "websocket.disconnect"}]
    ...     async def receive(self): return self.frames.pop(0)
    >>> socket = Frames()
    >>> asyncio.run(next_text(socket)), asyncio.run(next_text(socket))
    ('{}', None)
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


async def serve_tab(websocket: Any, tabs: set, *, origin_allowed: Callable[[str | None, str | None], bool],
                    max_sessions: int, connect: Callable[[], Awaitable[Any]], page: str) -> None:
    """Admit ``websocket`` by the rule above, make its connection (``connect``) and run it while it is open.

    Args:
        tabs: the page's open connections (counted against ``max_sessions``).
        page: the page's name, for the log line of a refused origin.
    """
    if not origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host")):
        log.warning("refused a %s socket from origin %r", page, websocket.headers.get("origin"))
        await websocket.close(code=1008)
        return
    if len(tabs) >= max_sessions:
        await websocket.close(code=1013)
        return
    await websocket.accept()
    connection = await connect()
    tabs.add(connection)
    try:
        await connection.run()
    finally:
        tabs.discard(connection)


async def next_text(websocket: Any) -> str | None:
    """The next message's text, or None once the tab has closed."""
    received = await websocket.receive()
    if received["type"] == "websocket.disconnect":
        return None
    text = received.get("text")
    return text if text is not None else (received.get("bytes") or b"").decode("utf-8", errors="replace")
