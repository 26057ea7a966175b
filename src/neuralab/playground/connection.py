"""One tab's WebSocket conversation: messages in, frames out, training between frames.

Training and drawing are decoupled. While playing, a worker thread trains for as long as
the next frame is not due (many epochs of a small network; a big network's epoch pauses
between two batches), then draws a frame, and goes on training while the event loop
sends it; the event loop meanwhile reads the tab's messages, so a learning-rate change made
while playing applies to the next epoch. A
:class:`~neuralab.playground.pacing.FramePacer` decides when a frame is due: about 30 a
second, drawing at most a quarter of the time (a big network's frame is costly: fewer frames, more
training), and never more than two frames the page has not drawn yet (it says ``drawn``
after each), so a slow browser gets fewer frames instead of a growing queue.
A refused message answers with an ``error`` message; the session goes on.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from neuralab.playground.limits import RateLimits
from neuralab.playground.pacing import FramePacer
from neuralab.playground.messages import MessageError, encode_reply, parse_message
from neuralab.playground.session import Session
from neuralab.playground.sockets import next_text

log = logging.getLogger(__name__)

class Connection:
    """A session and the socket of the tab that owns it."""

    def __init__(self, websocket: WebSocket, session: Session):
        self.websocket = websocket
        self.session = session
        self.playing = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self.limits = RateLimits()
        self.pacer = FramePacer()

    async def run(self) -> None:
        """Serve the tab until it closes; the play loop and the session end with it."""
        player = asyncio.create_task(self._play_loop())
        try:
            await self.send_all(await asyncio.to_thread(self.session.restart_messages))
            while (text := await next_text(self.websocket)) is not None:
                await self.handle(text)
        except WebSocketDisconnect:
            pass
        finally:
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await player
            self.session.close()

    async def handle(self, text: str) -> None:
        """Validate one message and answer it (an ``error`` message when it is refused)."""
        try:
            replies = await self._dispatch(parse_message(text))
        except MessageError as error:
            replies = [{"type": "error", "message": str(error)}]
        except Exception as error:  # a bug must not end the tab's session: report it and go on
            log.exception("message failed")
            replies = [{"type": "error", "message": f"internal error: {type(error).__name__}: {error}"[:300]}]
        await self.send_all(replies)

    async def _dispatch(self, message: Any) -> list[dict[str, Any]]:
        kind, session = message.type, self.session
        if not self.limits.allow(kind):
            raise MessageError(self.limits.refusal(kind))
        if kind == "drawn":
            self.pacer.drawn()
            return []
        if kind in ("play", "pause"):
            self.playing.set() if kind == "play" and not session.stopped else self.playing.clear()
            return [self._playing_message()]
        if kind == "step":
            self.playing.clear()
            return [self._playing_message(), await asyncio.to_thread(session.advance, epochs=1)]
        if kind == "configure":
            return await asyncio.to_thread(session.configure, message.changes, link=message.link)
        if kind in ("reset", "new_seed"):
            replies = await asyncio.to_thread(getattr(session, kind))
            return replies + [self._playing_message()]
        if kind == "regenerate":
            return await asyncio.to_thread(session.regenerate)
        if kind == "export":
            return [await asyncio.to_thread(session.export)]
        if kind == "import":
            self.playing.clear()
            return await asyncio.to_thread(session.import_spec, message.text) + [self._playing_message()]
        if kind == "set_weight":
            return await asyncio.to_thread(session.set_weight, layer=message.layer, row=message.row,
                                           column=message.column, value=message.value)
        if kind == "add_point":
            return await asyncio.to_thread(session.add_point, x=message.x, y=message.y, label=message.label,
                                           split=message.split)
        if kind == "upload_csv":
            self.playing.clear()
            return await asyncio.to_thread(session.upload_csv, message.text) + [self._playing_message()]
        if kind == "race":
            from neuralab.playground.race_view import race_message

            return [await asyncio.to_thread(race_message, surface=message.surface, start=message.start,
                                            learning_rates=message.learning_rates, steps=message.steps)]
        raise MessageError(f"message refused: {kind!r} is not handled")  # pragma: no cover

    def _playing_message(self) -> dict[str, Any]:
        return {"type": "playing", "playing": self.playing.is_set()}

    async def _play_loop(self) -> None:
        sending: asyncio.Task | None = None  # the last frame on its way out
        try:
            while True:
                await self.playing.wait()
                try:
                    text, stopped = await asyncio.to_thread(self._train_then_frame)
                except Exception as error:  # an engine failure must not kill the tab's session
                    log.exception("training step failed")
                    self.playing.clear()
                    await self.send_all([{"type": "error", "message": f"training stopped: {error}"},
                                         self._playing_message()])
                    continue
                if text is not None:
                    if sending is not None:
                        await sending  # frames go out one at a time, in order
                    # the next slice of training starts while this frame goes out (not after it)
                    sending = asyncio.create_task(self.send_text(text))
                if stopped:
                    if sending is not None:
                        await sending
                    self.playing.clear()
                    await self.send(self._playing_message())
        finally:
            if sending is not None and not sending.done():
                sending.cancel()

    def _train_then_frame(self) -> tuple[str | None, bool]:
        """In a worker thread: train until a frame is due, then draw it (as JSON text) if the page can take it."""
        self.session.train(seconds=max(self.pacer.seconds_to_next(), 0.002))
        if not (self.pacer.may_send() or self.session.stopped):
            return None, False
        started = time.perf_counter()
        text = encode_reply(self.session.frame())
        self.pacer.sent(cost=time.perf_counter() - started)
        return text, bool(self.session.stopped)

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_text(encode_reply(message))

    async def send_text(self, text: str) -> None:
        async with self._send_lock:
            await self.websocket.send_text(text)

    async def send_all(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            await self.send(message)
