"""The playground's sequence page: an rnn, lstm or gru learning a sequence task, watched through time.

One :class:`SequenceSession` per tab builds an :class:`~neuralab.training.experiment.Experiment`
from a small spec (:func:`sequence_spec`: the chosen cell, task and T, sized to train an
epoch in well under a second) and trains it epoch by epoch with the engine's own
``run_epoch``. Each frame carries the train and dev loss against the task's memoryless
baseline, ‖∂L/∂h_t‖ at every step of a fixed dev batch (the doctor's probe,
:func:`~neuralab.training.time_gradients.gradient_through_time`) and the top layer's hidden
units over the first dev sequence, for the page's heat map.

Messages the page sends (:func:`parse_sequence_message`, strict: unknown fields and
out-of-range values are refused with one line): ``configure`` (any of cell, task, length,
hidden_size, learning_rate, seed), ``play``, ``pause``, ``step``, ``reset``.

Example:
    >>> session = SequenceSession(Settings(task="adding", length=10, hidden_size=8))
    >>> frame = session.advance()
    >>> frame["type"], frame["epoch"], len(frame["gradient"]), len(frame["hidden"]), len(frame["hidden"][0])
    ('frame', 1, 10, 8, 10)
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import threading
from typing import Annotated, Any, Literal

import numpy as np
import torch
from fastapi import WebSocket
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from neuralab.playground.sockets import next_text, serve_tab
from neuralab.spec import ExperimentSpec, load_spec
from neuralab.spec.catalog import RECURRENT_KINDS, family
from neuralab.training.experiment import Experiment
from neuralab.training.time_gradients import gradient_through_time

log = logging.getLogger(__name__)

TASKS = (*family("datasets", "data kind", "sequence"), "shakespeare")
MAX_MESSAGE_CHARS = 4096
PAGE_SIZES = {"adding": 1200, "copy": 1200, "sine": 1500}  # sequences per task: an epoch in a fraction of a second
TEXT_CHARACTERS = 60_000  # the first 60,000 characters of Shakespeare
PROBE_ROWS = 16


class Settings(BaseModel):
    """What the page controls (every field has a default and a range)."""

    model_config = ConfigDict(extra="forbid")
    cell: Literal[RECURRENT_KINDS] = "rnn"  # type: ignore[valid-type]
    task: Literal[TASKS] = "adding"  # type: ignore[valid-type]
    length: int = Field(30, ge=2, le=200)
    hidden_size: int = Field(32, ge=2, le=128)
    learning_rate: float = Field(0.01, gt=0.0, le=1.0)
    seed: int = Field(0, ge=0, le=2**32 - 1)


class Configure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["configure"]
    cell: Literal[RECURRENT_KINDS] | None = None  # type: ignore[valid-type]
    task: Literal[TASKS] | None = None  # type: ignore[valid-type]
    length: int | None = Field(None, ge=2, le=200)
    hidden_size: int | None = Field(None, ge=2, le=128)
    learning_rate: float | None = Field(None, gt=0.0, le=1.0)
    seed: int | None = Field(None, ge=0, le=2**32 - 1)


class Control(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["play", "pause", "step", "reset"]


_MESSAGES = TypeAdapter(Annotated[Configure | Control, Field(discriminator="type")])


class MessageRefused(ValueError):
    """A message the page may not send; ``str(error)`` is the line shown to the user."""


def parse_sequence_message(text: str) -> Configure | Control:
    """Validate one message from the page.

    Example:
        >>> parse_sequence_message('{"type": "configure", "cell": "lstm"}').cell
        'lstm'
        >>> try:
        ...     parse_sequence_message('{"type": "configure", "length": 1}')
        ... except MessageRefused as error:
        ...     print(error)
        configure.length: input should be greater than or equal to 2
    """
    if len(text) > MAX_MESSAGE_CHARS:
        raise MessageRefused(f"message refused: longer than {MAX_MESSAGE_CHARS} characters")
    try:
        return _MESSAGES.validate_python(json.loads(text))
    except (json.JSONDecodeError, RecursionError):
        raise MessageRefused("message refused: not a JSON object") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"] if part not in ("Configure", "Control"))
        raise MessageRefused(f"{where}: {first['msg'][0].lower()}{first['msg'][1:]}") from None


def sequence_spec(settings: Settings) -> ExperimentSpec:
    """The spec the page trains: its cell, task and T, sized for a live page (``neuralab train`` takes it too)."""
    data: dict[str, Any] = {"dataset": settings.task, "sequence_length": settings.length}
    if settings.task == "shakespeare":
        data["max_characters"] = TEXT_CHARACTERS
    else:
        data["n_samples"] = PAGE_SIZES[settings.task]
    return load_spec({"name": f"sequence-{settings.cell}-{settings.task}", "seed": settings.seed, "data": data,
                      "model": {"kind": settings.cell, "recurrent": {"hidden_size": settings.hidden_size}},
                      "train": {"optimizer": "adam", "learning_rate": settings.learning_rate, "batch_size": 32,
                                "epochs": 100_000, "threads": 1},
                      "diagnose": {"health_every": 0, "text_samples": 0}})


class SequenceSession:
    """One tab's recurrent experiment; every method is thread-safe and returns what to send."""

    def __init__(self, settings: Settings | None = None):
        self.lock = threading.RLock()
        self.settings = settings or Settings()
        self._build()

    def _build(self) -> None:
        self.spec = sequence_spec(self.settings)
        self.experiment = Experiment.from_spec(self.spec)
        with self.experiment.training():
            self.experiment.begin()
        bundle = self.experiment.bundle
        device = self.experiment.device
        self.probe = tuple(split[:PROBE_ROWS].to(device) for split in self.experiment.splits["dev"])
        self.shown = bundle.x_dev[:1]  # the sequence whose hidden units the heat map shows
        self.stopped = False

    def configure(self, message: Configure) -> list[dict[str, Any]]:
        """Apply the changed settings and start a fresh network with them."""
        with self.lock:
            changes = {key: value for key, value in message.model_dump().items() if key != "type" and value is not None}
            self.settings = Settings(**{**self.settings.model_dump(), **changes})
            self._build()
            return self.restart_messages()

    def reset(self) -> list[dict[str, Any]]:
        with self.lock:
            self._build()
            return self.restart_messages()

    def restart_messages(self) -> list[dict[str, Any]]:
        """What a (re)started page needs: the settings, the choices, and the untrained network's frame."""
        with self.lock:
            return [{"type": "config", "settings": self.settings.model_dump(),
                     "choices": {"cell": list(RECURRENT_KINDS), "task": list(TASKS)},
                     "spec": self.spec.model_dump(mode="json")}, self.frame()]

    def advance(self) -> dict[str, Any]:
        """Train one more epoch and return its frame."""
        with self.lock:
            with self.experiment.training():
                if not self.experiment.run_epoch():
                    self.stopped = True
            return self.frame()

    def frame(self) -> dict[str, Any]:
        """Losses against the baseline, the gradient through time and the hidden units over one sequence."""
        with self.lock:
            experiment, bundle = self.experiment, self.experiment.bundle
            model, history = experiment.model, experiment.state.history
            with experiment.training():
                norms = gradient_through_time(model, experiment.head, *self.probe, rows=PROBE_ROWS)
                hidden = model.hidden_states(torch.from_numpy(self.shown).to(experiment.device))[-1][0]  # (T, H)
            gradient = norms[0].tolist()
            return {
                "type": "frame", "epoch": len(history), "stopped": self.stopped,
                "losses": [{"epoch": row["epoch"], "train": _finite(row["train_loss"]), "dev": _finite(row["dev_loss"]),
                            "clip_rate": row.get("clip_rate")} for row in history],
                "baseline": bundle.baseline_loss, "baseline_rule": bundle.baseline_rule,
                "gradient": [_finite(value) for value in gradient],
                "ratio": _finite(gradient[0] / gradient[-1]) if gradient[-1] > 0 else None,
                "hidden": np.round(hidden.cpu().numpy().T, 3).tolist(),  # (units, T)
                "sequence": _describe(bundle, self.shown[0]),
            }


def _describe(bundle, inputs: np.ndarray) -> list[str]:
    """The shown sequence, one label per step: characters, symbols, or values (and the adding task's marks)."""
    if bundle.kind == "text":
        return list(bundle.preprocessor.decode(inputs))
    if bundle.vocab_size:
        return [bundle.classes[int(token)][:1] for token in inputs]
    if inputs.shape[-1] == 2:  # adding: value and marker
        return [f"{value:.2f}{'*' if mark else ''}" for value, mark in inputs]
    return [f"{value:.2f}" for value in inputs[:, 0]]


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


# --------------------------------------------------------------------------- the page's socket


class SequenceConnection:
    """One tab's socket: messages in, frames out; while playing, one epoch per frame in a worker thread."""

    def __init__(self, websocket: Any):
        self.websocket, self.playing = websocket, asyncio.Event()
        self.session: SequenceSession | None = None

    async def run(self) -> None:
        self.session = await asyncio.to_thread(SequenceSession)
        player = asyncio.create_task(self._play())
        try:
            await self._send(await asyncio.to_thread(self.session.restart_messages))
            while (text := await next_text(self.websocket)) is not None:
                await self._send(await self._answer(text))
        finally:
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await player

    async def _answer(self, text: str) -> list[dict[str, Any]]:
        session = self.session
        try:
            message = parse_sequence_message(text)
            if message.type in ("play", "pause"):
                self.playing.set() if message.type == "play" and not session.stopped else self.playing.clear()
                return [{"type": "playing", "playing": self.playing.is_set()}]
            self.playing.clear()
            if message.type == "step":
                return [await asyncio.to_thread(session.advance), {"type": "playing", "playing": False}]
            replies = await asyncio.to_thread(session.reset if message.type == "reset" else
                                              (lambda: session.configure(message)))
            return [*replies, {"type": "playing", "playing": False}]
        except MessageRefused as error:
            return [{"type": "error", "message": str(error)}]
        except Exception as error:  # an engine failure must not end the tab's session
            log.exception("sequence page message failed")
            return [{"type": "error", "message": f"{type(error).__name__}: {error}"[:300]}]

    async def _play(self) -> None:
        while True:
            await self.playing.wait()
            frame = await asyncio.to_thread(self.session.advance)
            if frame["stopped"]:
                self.playing.clear()
            if self.playing.is_set() or frame["stopped"]:
                await self._send([frame])

    async def _send(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            await self.websocket.send_text(json.dumps(message))


def add_sequence_routes(app: Any, *, static: Any, origin_allowed: Any, max_sessions: int) -> None:
    """The page (``/sequence``) and its socket (``/ws/sequence``), with the playground's origin rule."""
    from fastapi.responses import FileResponse

    app.state.sequence_tabs = set()

    @app.get("/sequence")
    async def sequence_page() -> FileResponse:
        return FileResponse(static / "sequence.html", headers={"Cache-Control": "no-store"})

    @app.websocket("/ws/sequence")
    async def sequence_socket(websocket: WebSocket) -> None:
        async def connect() -> SequenceConnection:
            return SequenceConnection(websocket)

        await serve_tab(websocket, app.state.sequence_tabs, origin_allowed=origin_allowed, max_sessions=max_sessions,
                        connect=connect, page="sequence")
