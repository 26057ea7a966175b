"""``neuralab diagnose | doctor | baseline``: why a network is not learning, and what to change."""
from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from neuralab.cli.app import app, console
from neuralab.cli.runs import SET_HELP, SOURCE_HELP, spec_of_source, target_option
from neuralab.errors import SpecError
from neuralab.spec import load_spec

OPTIMAL_HELP = "optimal (e.g. human-level) error rate, 0–1; default: the spec's diagnose.optimal_error"


@app.command()
def diagnose(
    run_dir: Path = typer.Argument(..., help="a run directory written by `neuralab train`"),
    optimal_error: float | None = typer.Option(None, "--optimal-error", help=OPTIMAL_HELP),
    as_json: bool = typer.Option(False, "--json", help="print the diagnosis as JSON (as in report.json)"),
    curves: bool | None = typer.Option(None, "--curves/--no-curves",
                                       help="retrain on fractions of the data for learning curves "
                                            "(default: for tabular data; sequence models train for minutes)"),
    train_dev: float = typer.Option(0.0, "--train-dev", help="share of the training split held out as a train-dev "
                                                           "set for the data-mismatch check (0–0.5; 0: off)"),
) -> None:
    """Diagnose a run: bias/variance, per-layer gradient health, divergence, learning curves, advice."""
    _check_optimal(optimal_error)
    from neuralab.doctor.diagnosis import diagnose as run_diagnosis
    from neuralab.runs.files import json_safe

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
    spec_file: Path = typer.Argument(..., help=SOURCE_HELP),
    rounds: int = typer.Option(4, "--rounds", "-r", min=1, max=50, help="retraining rounds after the first run"),
    set_: list[str] = typer.Option([], "--set", "-s", help=SET_HELP),
    target: str | None = target_option(),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="folder the doctor's folder is created in"),
    optimal_error: float | None = typer.Option(None, "--optimal-error", help=OPTIMAL_HELP),
) -> None:
    """Diagnose → apply the advice → retrain → compare, automatically, for a number of rounds."""
    spec, _ = spec_of_source(spec_file, set_, target=target, command="doctor")
    _check_optimal(optimal_error)
    from neuralab.doctor.rounds import improve

    from neuralab.doctor.curves import error_format

    units: list = []

    def show(row) -> None:
        fmt = units[0] if units else error_format("binary")
        mark = "" if row.number == 0 else ("  [green]kept[/]" if row.kept else "  [dim]reverted[/]")
        health = [p for p in row.problems if p not in ("high_bias", "high_variance")]
        compared = f" ({row.compared})" if row.compared else ""
        console.print(f"round {row.number}: {row.change} → train {fmt(row.train_error)}, dev {fmt(row.dev_error)}"
                      f"{compared}, {row.verdict}{' + ' + ', '.join(health) if health else ''}{mark}", highlight=False)

    from neuralab.data import load_data

    task = load_data(spec.data, seed=spec.seed).task
    units.append(error_format(task))
    if task == "regression":
        console.print("errors are the MSE of the standardised target (1.0 = predicting the mean)")
    result = improve(spec, rounds=rounds, out_dir=out, optimal_error=optimal_error, on_round=show)
    console.print(rounds_table(result))
    console.print(f"stopped: {result.stop_reason}")
    console.print(f"rounds written to [bold]{result.folder}[/] (doctor.md, best_spec.yaml)")


@app.command()
def baseline(
    source: Path = typer.Argument(..., help="a spec file, a data file (.csv, .parquet), or a run directory "
                                  "(its network's scores are reused)"),
    set_: list[str] = typer.Option([], "--set", "-s", help=SET_HELP),
    target: str | None = target_option(),
    network: bool = typer.Option(True, "--network/--no-network", help="also train the spec's network to compare"),
) -> None:
    """Classical models (logistic/ridge regression, gradient boosting) on the same split, next to the network.

    scikit-learn uses train.threads threads (default one: the fastest on small data); each
    model's fit is announced as it starts. Regression adds RMSE (target units) and R².
    """
    from neuralab.data import load_data
    from neuralab.doctor.classical import baselines

    summary, name = None, None
    if source.is_dir():
        from neuralab.runs.run import load_run

        run = load_run(source)
        spec, summary, name = load_spec(run.spec, overrides=set_), run.summary, str(source)
    else:
        spec, _ = spec_of_source(source, set_, target=target, command="baseline")
    bundle = load_data(spec.data, seed=spec.seed)
    if bundle.kind != "tabular":
        raise SpecError(f"baseline: data.dataset {spec.data.dataset!r} is {bundle.kind} data; the classical models "
                        "learn from tabular rows — a sequence task's own baseline (a model without memory) is in "
                        "its run's summary and diagnosis")
    regression = bundle.task == "regression"
    results = baselines(spec, bundle=bundle, on_fit=lambda model: console.print(f"fitting {model}…", highlight=False))
    rows = [(row.name, row.train_error, row.dev_error, row.test_error, row.seconds,
             row.scores.get("test_rmse"), row.scores.get("test_r2")) for row in results]
    if summary is None and network:
        import neuralab.api as api

        console.print(f"training the network of {spec.name}…", highlight=False)
        summary = api.train(spec, out_dir=None, progress=False).summary
    if summary is not None:
        rows.insert(0, ("network " + "×".join(map(str, spec.model.hidden or ["linear"])), summary["train_error"],
                        summary.get("dev_error", float("nan")), summary["test_error"], summary["seconds"],
                        summary.get("test_rmse"), summary.get("test_r2")))
    title = f"{name or spec.name} ({spec.data.dataset}): the same split and preprocessing" + (
        " (error: MSE of the standardised target)" if regression else " (error: misclassification rate)")
    console.print(baseline_table(rows, title=title, as_percent=not regression))


def _check_optimal(value: float | None) -> None:
    if value is not None and not 0 <= value <= 1:
        raise SpecError(f"--optimal-error: {value!r} — must be between 0 and 1")


def print_diagnosis(result) -> None:
    """Print the diagnosis: verdict, optimal error, baselines, divergence, layer health, learning curve, advice."""
    from neuralab.doctor.advice import advice_lines
    from neuralab.doctor.curves import error_format

    bv, fmt = result.bias_variance, error_format(result.task)
    console.rule(f"diagnosis of {result.run_name}")
    summary = result.summary
    if summary.get("data_kind") == "text" and "dev_perplexity" in summary:  # a language model: judged on its loss
        console.print(f"[bold]language model[/] — dev loss {summary['dev_loss']:.4g} nats per token (perplexity "
                      f"{summary['dev_perplexity']:.3g}, {summary['dev_bits_per_character']:.3f} bits per character; "
                      f"uniform guess ln V = {summary['uniform_loss']:.3g}); next-token errors are not judged "
                      "against an optimal error", highlight=False)
    else:
        console.print(f"[bold]{bv.verdict}[/] — {bv.explanation}", highlight=False)
        console.print(f"optimal error {fmt(bv.optimal_error)}: {result.optimal_source}", highlight=False)
    if result.task == "regression":
        console.print("errors are the MSE of the standardised target (1.0 = predicting the mean)", highlight=False)
    if result.penalty_note:
        console.print(f"[dim]{result.penalty_note}[/]", highlight=False)
    for ahead in result.baselines_ahead:
        console.print(f"[yellow]classical ML does better here[/]: {ahead.name} reaches dev error "
                      f"{fmt(ahead.dev_error)} (test {fmt(ahead.test_error)}) against the network's "
                      f"{fmt(bv.dev_error)} on the same split (`neuralab baseline` compares them)", highlight=False)
    if result.diverged:
        console.print(f"[bold red]diverged[/]: the last finite weights were kept. "
                      f"Likely cause: {result.divergence_cause}", highlight=False)
    if result.sequence is not None:
        sequence = result.sequence
        ratio = "—" if sequence.gradient_ratio is None else f"{sequence.gradient_ratio:.1e}"
        console.print(f"through time ({sequence.cell}, T = {sequence.sequence_length}): ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ = "
                      f"{ratio}; dev loss {sequence.dev_loss:.4g} vs the memoryless baseline "
                      f"{sequence.baseline_loss:.4g}", highlight=False)
        for finding in sequence.findings:
            console.print(f"[yellow]{finding.verdict}[/] — {finding.cause}. [bold]Cure[/]: {finding.cure}",
                          highlight=False)
    if result.transformer is not None:
        found = result.transformer
        labels = [head["label"] for layer in found.heads for head in layer]
        console.print(f"attention: {len(labels)} heads — {labels.count('focused')} focused, {labels.count('collapsed')} "
                      f"collapsed, {labels.count('uniform')} uniform; {len(found.spikes)} loss spike(s); dev − train "
                      f"loss {found.dev_loss - found.train_loss:.3g}", highlight=False)
        for finding in found.findings:
            console.print(f"[yellow]{finding.verdict}[/] — {finding.cause}. [bold]Cure[/]: {finding.cure}",
                          highlight=False)
    for verdict, names, cause, cure in result.grouped_findings():
        console.print(f"[yellow]{verdict}[/] in {', '.join(names)} — {cause}. [bold]Cure[/]: {cure}", highlight=False)
    basis = f"{result.health_samples} health sample{'s' if result.health_samples != 1 else ''}" + (
        f", every {result.health_every} steps" if result.health_every else "")
    if result.layers and not result.grouped_findings():
        console.print(f"[green]every layer is healthy[/]: gradients, updates and units look normal ({basis})")
    elif result.layers:
        console.print(f"[dim]layer verdicts from {basis}[/]")
    if result.layers and result.health_samples < 5:
        console.print(f"[dim]only {basis}: the layer verdicts are tentative (lower diagnose.health_every)[/]")
    if not result.layers:
        console.print("[dim]no gradient health recorded for this run (diagnose.health_every was 0)[/]")
    if result.learning_curve is not None:
        console.print(f"learning curve: {result.learning_curve.judgement}", highlight=False)
    console.print("[bold]advice[/] (spec changes, most urgent first; `neuralab doctor` applies them):")
    for line in advice_lines(result.advice):
        console.print(f"  {line}", highlight=False)
    if not result.advice:
        console.print("  nothing to change")


def rounds_table(result) -> Table:
    """The doctor's rounds: change, errors (one unit), verdict and whether the change was kept."""
    from neuralab.doctor.curves import error_format

    fmt = error_format(result.task)
    table = Table(title="doctor rounds")
    for column in ("round", "change", "train error", "dev error", "verdict", "kept"):
        table.add_column(column, justify="right" if "error" in column or column == "round" else "left")
    for row in result.rounds:
        kept = "best" if row.number == result.best_round else ("yes" if row.kept else "no")
        table.add_row(str(row.number), row.change, fmt(row.train_error), fmt(row.dev_error), row.verdict, kept)
    return table


def baseline_table(rows: list[tuple], *, title: str, as_percent: bool = True) -> Table:
    """Model, train/dev/test error and seconds (regression: test RMSE and R² too), one row per model."""
    table = Table(title=title)
    columns = ["model", "train error", "dev error", "test error", "seconds"] + \
        ([] if as_percent else ["test RMSE", "test R²"])
    for column in columns:
        table.add_column(column, justify="left" if column == "model" else "right")
    shown = (lambda value: f"{value:.2%}") if as_percent else (lambda value: f"{value:.4g}")
    for name, train, dev, test, seconds, rmse, r2 in rows:
        extra = [] if as_percent else ["—" if rmse is None else f"{rmse:.4g}", "—" if r2 is None else f"{r2:.3f}"]
        table.add_row(name, shown(train), shown(dev), shown(test), f"{seconds:.2f}", *extra)
    return table
