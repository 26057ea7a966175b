"""``neuralab runs | compare``: the run directories of a folder in one table, and runs side by side."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from neuralab.cli.app import app, console, errors

STATUS_STYLE = {"finished": "green", "diverged": "red", "interrupted": "yellow", "incomplete": "yellow"}


@app.command()
def runs(folder: Path = typer.Argument(Path("runs"), help="folder holding run directories (default runs)")) -> None:
    """A table of the runs in FOLDER: date, status, task, model, the spec fields that differ, dev/test scores.

    Status: finished, diverged (the loss became NaN/inf), interrupted (a checkpoint to
    resume from, no summary yet) or incomplete (stopped before its first checkpoint).
    """
    from neuralab.comparison import list_runs, runs_table

    records, problems = list_runs(folder)
    for line in problems:
        errors.print(f"[yellow]skipped[/]: {escape(line)}", highlight=False)
    if not records:
        console.print(f"no run directories in {folder}")
        return
    header, rows = runs_table(records)
    table = Table(title=f"{len(records)} runs in {folder}")
    for name in header:
        table.add_column(name, justify="right" if name in ("epochs", "dev", "test") else "left")
    for row in rows:
        status = row[2]
        row = [*row[:2], f"[{STATUS_STYLE[status]}]{status}[/]", *(escape(cell) for cell in row[3:])]
        table.add_row(*row)
    print_wide(table)
    resumable = [record.dir for record in records if record.status == "interrupted"]
    for path in resumable:
        console.print(f"resume with: neuralab train --resume {path}", highlight=False)


@app.command()
def compare(
    run_dirs: list[Path] = typer.Argument(..., help="two or more run directories"),
    out: Path = typer.Option(Path("."), "--out", "-o", help="folder to write compare.png and compare.md in"),
) -> None:
    """Compare runs: learning curves overlaid (compare.png), spec diff and the doctor's verdicts side by side (compare.md)."""
    from neuralab.comparison import NO_VERDICTS, SAME_SPECS, compare_runs

    comparison = compare_runs(run_dirs, out_dir=out)
    for title, rows, fallback in (("spec fields that differ", comparison.diff_rows(), SAME_SPECS),
                                  ("the doctor's verdicts", comparison.verdict_rows(), NO_VERDICTS)):
        if not rows:
            console.print(fallback)
            continue
        table = Table(title=title)
        for name in ["", *comparison.names]:
            table.add_column(escape(name))
        for row in rows:
            table.add_row(*(escape(cell) for cell in row))
        print_wide(table)
    console.print(f"written: [bold]{comparison.files['figure']}[/] and [bold]{comparison.files['report']}[/]")


def print_wide(table: Table) -> None:
    """Print a table whole: in a terminal it is fitted to the width, folding long cells; in a
    file or a pipe it keeps its natural width (no cell is cut to "…")."""
    for column in table.columns:
        column.overflow = "fold"
    natural = Measurement.get(console, console.options.update_width(100_000), table).maximum
    if console.is_terminal or natural <= console.width:
        console.print(table)
    else:  # a console's print never goes wider than the console
        Console(width=natural, soft_wrap=True, no_color=console.no_color).print(table)
