"""``neuralab info [TOPIC]``: what each name means, with its properties; ``info spec``: every field.

``neuralab info`` alone lists the topics. Tables with many properties are stacked (each
name on its own lines) when the terminal is narrower than they need, so they read at 80
columns.
"""
from __future__ import annotations

import typer
from rich.table import Table

from neuralab.cli.app import app, console
from neuralab.errors import SpecError, not_one_of
from neuralab.spec.catalog import TABLES

TOPICS = (*TABLES, "spec")
WIDE_TABLE = 120  # columns a table with its properties side by side needs to be readable


@app.command()
def info(topic: str | None = typer.Argument(None, help=f"one of: {', '.join(TOPICS)}; none lists them")) -> None:
    """Explain the names a spec can use (activations, optimizers, ...) or every spec field."""
    if topic is None:
        console.print(topics_table())
        return
    if topic not in TOPICS:
        raise SpecError(not_one_of("topic", topic, TOPICS))
    console.print(spec_table() if topic == "spec" else catalog_table(topic, width=console.width))


def topics_table() -> Table:
    """Every topic, the spec field that takes its names, and how many names it has."""
    from neuralab.spec.reference import field_of_table

    table = Table(title="neuralab info TOPIC — topics")
    table.add_column("topic", style="bold cyan", no_wrap=True)
    table.add_column("spec field")
    table.add_column("names")
    for topic, entries in TABLES.items():
        table.add_row(topic, field_of_table(topic), ", ".join(entries))
    table.add_row("spec", "every field", "defaults, allowed values, meaning")
    return table


def catalog_table(topic: str, *, width: int = WIDE_TABLE) -> Table:
    """A rich table of one catalog table: name, summary and each property (stacked when narrow)."""
    from neuralab.spec.reference import field_of_table

    entries = list(TABLES[topic].values())
    properties = list(dict.fromkeys(key for entry in entries for key in entry.properties))
    field = field_of_table(topic)
    usage = f"{field}: [NAME, …]" if field == "data.features" else f"{field}: NAME"
    table = Table(title=f"{topic} — `{usage}` in a spec", show_lines=False)
    table.add_column("name", style="bold cyan", no_wrap=True)
    table.add_column("what it does")
    stacked = len(properties) > 2 and width < WIDE_TABLE
    for key in [] if stacked else properties:
        table.add_column(key)
    for entry in entries:
        if stacked:
            details = "; ".join(f"{key}: {entry.properties[key]}" for key in properties if key in entry.properties)
            table.add_row(entry.name, entry.summary + (f"\n[dim]{details}[/]" if details else ""))
        else:
            table.add_row(entry.name, entry.summary, *(entry.properties.get(key, "") for key in properties))
    return table


def spec_table() -> Table:
    """A rich table of every spec field: name, type, default, allowed values, description."""
    from neuralab.spec.reference import spec_reference

    table = Table(title="spec fields — set with --set field=value", show_lines=False)
    table.add_column("field", style="bold cyan", no_wrap=True)
    table.add_column("default", no_wrap=True)
    table.add_column("allowed — what it means", overflow="fold")
    for row in spec_reference():
        allowed = f"[dim]{row['allowed']}[/] — " if row["allowed"] else ""
        table.add_row(row["field"], row["default"], allowed + row["description"])
    return table
