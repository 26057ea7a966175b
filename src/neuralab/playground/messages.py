"""The WebSocket protocol: every message the page may send, as a strict pydantic schema.

A message is a JSON object with a ``type``; unknown types, unknown fields, out-of-range
values and oversized payloads are refused by :func:`parse_message` with one readable
line (the server sends it back as an ``error`` message; the session goes on).

Example:
    >>> parse_message('{"type": "configure", "changes": {"learning_rate": 0.1}}').changes
    {'learning_rate': 0.1}
    >>> try:
    ...     parse_message('{"type": "play", "speed": 3}')
    ... except MessageError as error:
    ...     print(error)
    play.speed: unknown field
"""
from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from neuralab.playground.state import MAX_LAYERS, MAX_NEURONS

MAX_MESSAGE_CHARS = 512 * 1024  # a CSV or spec file upload; anything longer is refused


class MessageError(ValueError):
    """A message the server refuses; ``str(error)`` is the line shown in the page."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Configure(_Message):
    """Change some controls; the state table decides what the change does."""

    type: Literal["configure"]
    changes: dict[str, Any] = Field(max_length=64)


class Control(_Message):
    """A button: play, pause, step (one epoch), reset (same seed), new seed, regenerate data."""

    type: Literal["play", "pause", "step", "reset", "new_seed", "regenerate", "export"]


class SetWeight(_Message):
    """Edit one weight (``column`` ≥ 0) or a bias (``column`` = -1) of a layer."""

    type: Literal["set_weight"]
    layer: int = Field(ge=0, le=MAX_LAYERS)
    row: int = Field(ge=0, lt=MAX_NEURONS)
    column: int = Field(ge=-1, lt=MAX_NEURONS)
    value: float = Field(ge=-100.0, le=100.0)


class ImportSpec(_Message):
    """A spec file's text (YAML, or JSON which YAML reads too)."""

    type: Literal["import"]
    text: str = Field(max_length=64 * 1024)


class AddPoint(_Message):
    """Own data: a point clicked on the heat map, at raw (x, y), with its class or value."""

    type: Literal["add_point"]
    x: float = Field(ge=-1000.0, le=1000.0)
    y: float = Field(ge=-1000.0, le=1000.0)
    label: float = Field(ge=-1000.0, le=1000.0)


class UploadCsv(_Message):
    """Own data: CSV text, rows of x1, x2, label (a header row is optional)."""

    type: Literal["upload_csv"]
    text: str = Field(max_length=MAX_MESSAGE_CHARS)


class Race(_Message):
    """Run the optimiser race on a surface from a start point, one learning rate per optimiser."""

    type: Literal["race"]
    surface: str = Field(max_length=40)
    start: tuple[float, float] | None = None
    learning_rates: dict[str, float] = Field(default_factory=dict, max_length=16)
    steps: int = Field(150, ge=1, le=2000)


Message = Annotated[Configure | Control | SetWeight | ImportSpec | AddPoint | UploadCsv | Race,
                    Field(discriminator="type")]
_ADAPTER: TypeAdapter = TypeAdapter(Message)
TYPES = ("configure", "play", "pause", "step", "reset", "new_seed", "regenerate", "export",
         "set_weight", "import", "add_point", "upload_csv", "race")


def parse_message(text: str | bytes) -> Any:
    """Parse and validate one message; raise :class:`MessageError` with one line per problem."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise MessageError(f"message refused: {len(text)} characters, more than the limit of {MAX_MESSAGE_CHARS}")
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise MessageError(f"message refused: not JSON ({error.msg if hasattr(error, 'msg') else error})") from None
    except RecursionError:
        raise MessageError("message refused: nested too deeply") from None
    if not isinstance(raw, dict) or raw.get("type") not in TYPES:
        kind = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        raise MessageError(f"message refused: unknown type {str(kind)[:40]!r}; allowed: {', '.join(TYPES)}")
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as error:
        raise MessageError(problems(error, prefix=raw["type"])) from None


def problems(error: ValidationError, *, prefix: str = "") -> str:
    """One line per pydantic problem, naming the dotted field (``extra`` → "unknown field")."""
    lines = []
    for item in error.errors():
        parts = [str(p) for p in item["loc"] if str(p) not in TYPES and not str(p).startswith("function-")]
        where = ".".join([prefix, *parts] if prefix else parts) or "message"
        message = "unknown field" if item["type"] == "extra_forbidden" else item["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {message}")
    return "; ".join(dict.fromkeys(lines))
