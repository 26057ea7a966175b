"""The spec's fields by dotted name: the reference (type, default, allowed values, meaning) and a spec's values.

``neuralab info spec`` prints it and the README's "Spec reference" table is checked
against it, so a new field cannot go undocumented.

Example:
    >>> from neuralab.spec.reference import spec_reference
    >>> next(row for row in spec_reference() if row["field"] == "train.epochs")["allowed"]
    '≥ 1, ≤ 100000'
"""
from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from neuralab.spec.catalog import names
from neuralab.spec.fields import ExperimentSpec
from neuralab.spec.loading import spec_to_dict
from neuralab.spec.problems import sub_model


def spec_reference() -> list[dict[str, str]]:
    """Return one row per spec field: dotted name, type, default, allowed range, description."""
    rows: list[dict[str, str]] = []
    _reference_rows(ExperimentSpec, "", ExperimentSpec(), rows)
    return rows


def spec_values(spec: ExperimentSpec) -> dict[str, Any]:
    """Every spec field by its dotted name (``train.schedule.name``: ``cosine``), nested lists kept.

    Example:
        >>> from neuralab.spec import load_spec
        >>> spec_values(load_spec(None))["train.schedule.name"]
        'constant'
    """
    flat: dict[str, Any] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                flat[f"{prefix}{key}"] = value

    walk(spec_to_dict(spec), "")
    return flat


def _reference_rows(model: type[BaseModel], prefix: str, instance: BaseModel, rows: list) -> None:
    for name, info in model.model_fields.items():
        sub = sub_model(model, name)
        value = getattr(instance, name)
        if sub is not None:
            _reference_rows(sub, f"{prefix}{name}.", value, rows)
            continue
        bounds = [f"{label} {getattr(m, attr)}" for m in info.metadata
                  for attr, label in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"))
                  if getattr(m, attr, None) is not None]
        rows.append({
            "field": prefix + name,
            "type": _type_name(info.annotation),
            "default": json.dumps(value.model_dump() if isinstance(value, BaseModel) else value),
            "allowed": ", ".join(bounds) or _choices_for(prefix + name),
            "description": info.description or "",
        })


_CHOICE_FIELDS = {"data.dataset": "datasets", "data.features": "features", "model.kind": "model_kinds",
                  "model.activation": "activations", "model.output_activation": "output_activations",
                  "model.init": "inits", "train.loss": "losses", "train.optimizer": "optimizers",
                  "train.schedule.name": "schedules", "data.tokenizer": "tokenizers", "train.l1_style": "l1_styles"}


def field_of_table(table: str) -> str:
    """The spec field that takes the names of a catalog table.

    Example:
        >>> field_of_table("losses"), field_of_table("features")
        ('train.loss', 'data.features')
    """
    return next(field for field, name in _CHOICE_FIELDS.items() if name == table)


def _choices_for(field: str) -> str:
    table = _CHOICE_FIELDS.get(field)
    return ", ".join(names(table)) if table else ""


def _type_name(annotation: Any) -> str:
    return str(annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")


def reference_markdown() -> str:
    """The field table as Markdown (the README's "Spec reference" is exactly this text).

    Example:
        >>> reference_markdown().splitlines()[0]
        '| field | default | allowed | meaning |'
    """
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| field | default | allowed | meaning |", "|---|---|---|---|"]
    lines += [f"| `{row['field']}` | `{cell(row['default'])}` | {cell(row['allowed'])} | {cell(row['description'])} |"
              for row in spec_reference()]
    return "\n".join(lines)
