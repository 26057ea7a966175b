"""The WebSocket protocol: every message the page may send, as a strict pydantic schema.

A message is a JSON object with a ``type``; unknown types, unknown fields, values of the
wrong type (``true`` for a number, ``"yes"`` for a switch), numbers that are not finite
(``NaN``, ``Infinity``), out-of-range values and oversized payloads are refused by
:func:`parse_message` with one readable line (the server sends it back as an ``error``
message; the session goes on). Replies are encoded by :func:`encode_reply`, which never
writes the bare ``NaN`` tokens JSON does not have.

Example:
    >>> parse_message('{"type": "configure", "changes": {"learning_rate": 0.1}}').changes
    {'learning_rate': 0.1}
    >>> try:
    ...     parse_message('{"type": "play", "speed": 3}')
    ... except MessageError as error:
    ...     print(error)
    play.speed: unknown field
    >>> encode_reply({"type": "race", "final": {"sgd": float("nan")}})
    '{"type": "race", "final": {"sgd": null}}'
"""
from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from neuralab.playground.state import MAX_LAYERS, MAX_NEURONS

MAX_MESSAGE_CHARS = 512 * 1024  # a CSV or spec file upload; anything longer is refused


class MessageError(ValueError):
    """A message the server refuses; ``str(error)`` is the line shown in the page."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # true is not 1.0, "yes" is not a switch


class Configure(_Message):
    """Change some controls; the state table decides what the change does.

    ``link``: the changes come from a link (the URL): every valid one is applied and the
    refused ones are named, instead of refusing them all.
    """

    type: Literal["configure"]
    changes: dict[str, Any] = Field(max_length=64)
    link: bool = False


class Control(_Message):
    """A button: play, pause, step (one epoch), reset (same seed), new seed, regenerate data."""

    type: Literal["play", "pause", "step", "reset", "new_seed", "regenerate", "export", "drawn"]


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
    """Own data: a point clicked on the heat map, at raw (x, y), with its class or value,
    added to the training split (or the test split)."""

    type: Literal["add_point"]
    x: float = Field(ge=-1000.0, le=1000.0)
    y: float = Field(ge=-1000.0, le=1000.0)
    label: float = Field(ge=-1000.0, le=1000.0)
    split: Literal["train", "test"] = "train"


class UploadCsv(_Message):
    """Own data: CSV text, rows of x1, x2, label (a header row is optional)."""

    type: Literal["upload_csv"]
    text: str = Field(max_length=MAX_MESSAGE_CHARS)


class Race(_Message):
    """Run the optimiser race on a surface from a start point, one learning rate per optimiser."""

    type: Literal["race"]
    surface: str = Field(max_length=40)
    start: list[Annotated[float, Field(ge=-1e6, le=1e6)]] | None = Field(None, min_length=2, max_length=2)
    learning_rates: dict[str, Annotated[float, Field(gt=0.0, le=1e3)]] = Field(default_factory=dict, max_length=16)
    steps: int = Field(150, ge=1, le=2000)


Message = Annotated[Configure | Control | SetWeight | ImportSpec | AddPoint | UploadCsv | Race,
                    Field(discriminator="type")]
_ADAPTER: TypeAdapter = TypeAdapter(Message)
TYPES = ("configure", "play", "pause", "step", "reset", "new_seed", "regenerate", "export", "drawn",
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
    not_finite = non_finite(raw)
    if not_finite:
        where, value = not_finite
        raise MessageError(f"{'.'.join([raw['type'], *where])}: not a number ({value})" if math.isnan(value) else
                           f"{'.'.join([raw['type'], *where])}: not a finite number ({value})")
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as error:
        raise MessageError(problems(error, prefix=raw["type"])) from None


def non_finite(value: Any, where: tuple[str, ...] = ()) -> tuple[tuple[str, ...], float] | None:
    """The path and value of the first NaN or infinity in parsed JSON, or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (where, value)
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(index), item) for index, item in enumerate(value))
    else:
        return None
    for key, item in items:
        found = non_finite(item, (*where, str(key)))
        if found:
            return found
    return None


def finite_only(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by None (JSON's null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_only(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_only(item) for item in value]
    return value


def encode_reply(message: dict[str, Any]) -> str:
    """A reply as strict JSON: non-finite numbers become null, never the invalid ``NaN`` token."""
    try:
        return json.dumps(message, allow_nan=False)
    except ValueError:  # rare (a diverged race, a NaN loss): clean and encode again
        return json.dumps(finite_only(message), allow_nan=False)


def problems(error: ValidationError, *, prefix: str = "") -> str:
    """One line per pydantic problem, naming the dotted field (``extra`` → "unknown field")."""
    lines = []
    for item in error.errors():
        parts = [str(p) for p in item["loc"] if str(p) not in TYPES and not str(p).startswith("function-")]
        where = ".".join([prefix, *parts] if prefix else parts) or "message"
        message = "unknown field" if item["type"] == "extra_forbidden" else item["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {message}")
    return "; ".join(dict.fromkeys(lines))
