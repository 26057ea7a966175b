"""``neuralab info TOPIC``: what each name means, with its properties; ``info spec``: every field."""
from __future__ import annotations

import typer
from rich.table import Table

from neuralab.spec.catalog import TABLES
from neuralab.cli.app import app, console
from neuralab.errors import SpecError, not_one_of

TOPICS = (*TABLES, "spec")


@app.command()
def info(topic: str = typer.Argument(..., help=f"one of: {', '.join(TOPICS)}")) -> None:
    """Explain the names a spec can use (activations, optimizers, ...) or every spec field."""
    if topic not in TOPICS:
        raise SpecError(not_one_of("topic", topic, TOPICS))
    console.print(spec_table() if topic == "spec" else catalog_table(topic))


def catalog_table(topic: str) -> Table:
    """A rich table of one catalog table: name, summary and each property."""
    entries = list(TABLES[topic].values())
    properties = list(dict.fromkeys(key for entry in entries for key in entry.properties))
    table = Table(title=f"{topic} — `{topic.rstrip('s')}: NAME` in a spec", show_lines=False)
    table.add_column("name", style="bold cyan", no_wrap=True)
    table.add_column("what it does")
    for key in properties:
        table.add_column(key)
    for entry in entries:
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
