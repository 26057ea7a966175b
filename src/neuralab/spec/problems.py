"""Turning pydantic's validation errors on a spec into one readable line per problem.

Each line names the dotted field, the value (shortened with bounded work, so a YAML alias
bomb cannot stall it) and what is allowed, with a "did you mean" for near-miss names.

Example:
    >>> from pydantic import BaseModel, ConfigDict, ValidationError
    >>> class Small(BaseModel):
    ...     model_config = ConfigDict(extra="forbid")
    ...     epochs: int = 1
    >>> try:
    ...     Small.model_validate({"epoch": 3})
    ... except ValidationError as error:
    ...     validation_problems(error, root=Small)
    ["epoch: unknown field; allowed: epochs — did you mean 'epochs'?"]
"""
from __future__ import annotations

import reprlib
from typing import Any

from pydantic import BaseModel, ValidationError

from neuralab.spec.catalog import names
from neuralab.errors import did_you_mean, not_one_of


def sub_model(model: type[BaseModel], field: str) -> type[BaseModel] | None:
    """The pydantic model of ``model.field`` when it is a section, else None."""
    annotation = model.model_fields[field].annotation
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def validation_problems(exc: ValidationError, *, root: type[BaseModel]) -> list[str]:
    """One line per problem of a pydantic error on ``root``: dotted field, value, what is allowed."""
    lines = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"] if not str(p).startswith(("function-", "literal[", "int", "list["))]
        field, value, message = ".".join(loc), error.get("input"), error["msg"]
        message = message.removeprefix("Value error, ")
        if message.startswith("__field__"):
            sub, _, message = message.removeprefix("__field__").partition(": ")
            lines.append(f"{field + '.' if field else ''}{sub}: {message}")
        elif message.startswith("__choice__"):
            table = message.removeprefix("__choice__")
            bad = next((v for v in (value if isinstance(value, list) else [value]) if v not in names(table)), value)
            lines.append(not_one_of(field, bad, names(table)))
        elif error["type"] == "extra_forbidden":
            lines.append(_unknown_field(field, root))
        else:
            lines.append(f"{field}: {_short(value)} — {message[0].lower() + message[1:]}")
    return list(dict.fromkeys(lines))  # unions can report the same problem twice


def _unknown_field(field: str, root: type[BaseModel]) -> str:
    parts = field.split(".")
    model: type[BaseModel] | None = root
    for part in parts[:-1]:
        model = sub_model(model, part) if model and part in model.model_fields else None
    allowed = list(model.model_fields) if model else []
    return (f"{field}: unknown field; allowed: {', '.join(allowed)}{did_you_mean(parts[-1], allowed)}")


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 3, 8, 8, 60, 60


def _short(value: Any) -> str:
    # reprlib: bounded work even for a huge or deeply nested value (a YAML alias bomb)
    text = _REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def no_dev_split(user: str, why: str, *, remedy: str = "or turn the setting off") -> str:
    """The error line of a setting (or a command) that reads the dev split when there is none.

    Example:
        >>> no_dev_split("tune: trials are scored on the dev split", "the data have no dev rows", remedy="and tune again")
        'tune: trials are scored on the dev split, and the data have no dev rows; give data.split a dev fraction and tune again'
    """
    return f"{user}, and {why}; give data.split a dev fraction {remedy}"
