"""``neuralab diagnose | doctor | baseline``: why a network is not learning, and what to change."""
from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from neuralab.cli.app import app, console
from neuralab.errors import SpecError
from neuralab.spec import load_spec

SET_HELP = "override a spec field: dotted.key=value (value parsed as YAML); repeatable"
OPTIMAL_HELP = "optimal (e.g. human-level) error rate, 0–1; default: the spec's diagnose.optimal_error"


@app.command()
def diagnose(
    run_dir: Path = typer.Argument(..., help="a run directory written by `neuralab train`"),
    optimal_error: float | None = typer.Option(None, "--optimal-error", help=OPTIMAL_HELP),
    as_json: bool = typer.Option(False, "--json", help="print the diagnosis as JSON (as in report.json)"),
    curves: bool = typer.Option(True, "--curves/--no-curves",
                                help="retrain on fractions of the data for learning curves"),
    train_dev: float = typer.Option(0.0, "--train-dev", help="share of the training split held out as a train-dev "
                                                           "set for the data-mismatch check (0–0.5; 0: off)"),
) -> None:
    """Diagnose a run: bias/variance, per-layer gradient health, divergence, learning curves, advice."""
    _check_optimal(optimal_error)
    from neuralab.doctor.diagnosis import diagnose as run_diagnosis
    from neuralab.doctor.report import json_safe

    result = run_diagnosis(run_dir, optimal_error=optimal_error, learning_curves=curves,
                           train_dev_fraction=train_dev)
    if as_json:
        typer.echo(json.dumps(json_safe(result.to_dict()), indent=2))
        return
    print_diagnosis(result)
    if result.report_dir is not None:
        console.print(f"report written to [bold]{result.report_dir / 'report.md'}[/]")


@app.command()
def doctor(
    spec_file: Path = typer.Argument(..., help="spec file (.yaml, .json or .toml)"),
    rounds: int = typer.Option(4, "--rounds", "-r", min=1, max=50, help="retraining rounds after the first run"),
    set_: list[str] = typer.Option([], "--set", "-s", help=SET_HELP),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="folder the doctor's folder is created in"),
    optimal_error: float | None = typer.Option(None, "--optimal-error", help=OPTIMAL_HELP),
) -> None:
    """Diagnose → apply the advice → retrain → compare, automatically, for a number of rounds."""
    spec = load_spec(spec_file, overrides=set_)
    _check_optimal(optimal_error)
    from neuralab.doctor.rounds import improve

    def show(row) -> None:
        mark = "" if row.number == 0 else ("  [green]kept[/]" if row.kept else "  [dim]reverted[/]")
        health = [p for p in row.problems if p not in ("high_bias", "high_variance")]
        console.print(f"round {row.number}: {row.change} → train {row.train_error:.1%}, dev {row.dev_error:.1%}, "
                      f"{row.verdict}{' + ' + ', '.join(health) if health else ''}{mark}", highlight=False)

    result = improve(spec, rounds=rounds, out_dir=out, optimal_error=optimal_error, on_round=show)
    console.print(rounds_table(result))
    console.print(f"stopped: {result.stop_reason}")
    console.print(f"rounds written to [bold]{result.folder}[/] (doctor.md, best_spec.yaml)")


@app.command()
def baseline(
    source: Path = typer.Argument(..., help="a spec file, or a run directory (its network's scores are reused)"),
    set_: list[str] = typer.Option([], "--set", "-s", help=SET_HELP),
    network: bool = typer.Option(True, "--network/--no-network", help="also train the spec's network to compare"),
) -> None:
    """Classical models (logistic/ridge regression, gradient boosting) on the same split, next to the network."""
    from neuralab.data import load_data
    from neuralab.doctor.classical import baselines

    summary = None
    if source.is_dir():
        from neuralab.runs.run import load_run

        run = load_run(source)
        spec, summary = load_spec(run.spec, overrides=set_), run.summary
    else:
        spec = load_spec(source, overrides=set_)
    bundle = load_data(spec.data, seed=spec.seed)
    regression = bundle.task == "regression"
    rows = [(row.name, row.train_error, row.dev_error, row.test_error, row.seconds)
            for row in baselines(spec, bundle=bundle)]
    if summary is None and network:
        import neuralab.api as api

        summary = api.train(spec, out_dir=None).summary
    if summary is not None:
        rows.insert(0, ("network " + "×".join(map(str, spec.model.hidden or ["linear"])), summary["train_error"],
                        summary.get("dev_error", float("nan")), summary["test_error"], summary["seconds"]))
    title = f"{spec.data.dataset}: the same split and preprocessing" + (
        " (error: MSE of the standardised target)" if regression else " (error: misclassification rate)")
    console.print(baseline_table(rows, title=title, as_percent=not regression))


def _check_optimal(value: float | None) -> None:
    if value is not None and not 0 <= value <= 1:
        raise SpecError(f"--optimal-error: {value!r} — must be between 0 and 1")


def print_diagnosis(result) -> None:
    """Print the diagnosis: verdict, divergence, layer health, learning curve and advice."""
    bv = result.bias_variance
    console.rule(f"diagnosis of {result.run_name}")
    console.print(f"[bold]{bv.verdict}[/] — {bv.explanation}", highlight=False)
    if result.diverged:
        console.print(f"[bold red]diverged[/]: the last finite weights were kept. "
                      f"Likely cause: {result.divergence_cause}", highlight=False)
    for verdict, names, cause, cure in result.grouped_findings():
        console.print(f"[yellow]{verdict}[/] in {', '.join(names)} — {cause}. [bold]Cure[/]: {cure}", highlight=False)
    if result.layers and not result.grouped_findings():
        console.print("[green]every layer is healthy[/]: gradients, updates and units look normal")
    if not result.layers:
        console.print("[dim]no gradient health recorded for this run (diagnose.health_every was 0)[/]")
    if result.learning_curve is not None:
        console.print(f"learning curve: {result.learning_curve.judgement}", highlight=False)
    console.print("[bold]advice[/] (spec changes, most urgent first; `neuralab doctor` applies them):")
    for item in result.advice:
        console.print(f"  {item.step}. {item.describe()}", highlight=False)
    if not result.advice:
        console.print("  nothing to change")


def rounds_table(result) -> Table:
    """The doctor's rounds: change, errors, verdict and whether the change was kept."""
    table = Table(title="doctor rounds")
    for column in ("round", "change", "train error", "dev error", "verdict", "kept"):
        table.add_column(column, justify="right" if "error" in column or column == "round" else "left")
    for row in result.rounds:
        kept = "best" if row.number == result.best_round else ("yes" if row.kept else "no")
        table.add_row(str(row.number), row.change, f"{row.train_error:.1%}", f"{row.dev_error:.1%}", row.verdict, kept)
    return table


def baseline_table(rows: list[tuple], *, title: str, as_percent: bool = True) -> Table:
    """Model, train/dev/test error and seconds, one row per model."""
    table = Table(title=title)
    for column in ("model", "train error", "dev error", "test error", "seconds"):
        table.add_column(column, justify="left" if column == "model" else "right")
    shown = (lambda value: f"{value:.2%}") if as_percent else (lambda value: f"{value:.4g}")
    for name, train, dev, test, seconds in rows:
        table.add_row(name, shown(train), shown(dev), shown(test), f"{seconds:.2f}")
    return table
