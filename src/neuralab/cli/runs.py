"""``neuralab train | evaluate | predict | export``: the commands that make and use run directories."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from neuralab.cli.app import app, console
from neuralab.errors import RunError, SpecError
from neuralab.spec import ExperimentSpec, load_spec

SET_HELP = "override a spec field: dotted.key=value (value parsed as YAML); repeatable"


@app.command()
def train(
    spec_file: Path | None = typer.Argument(None, help="spec file (.yaml, .json or .toml)"),
    set_: list[str] = typer.Option([], "--set", "-s", help=SET_HELP),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="folder the run directory is created in"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or tables"),
    resume: Path | None = typer.Option(None, "--resume", help="continue an interrupted run directory from its last checkpoint"),
    tensorboard: Path | None = typer.Option(None, "--tensorboard", help="write TensorBoard event files into this "
                                            "folder, one sub-folder per run (sets train.tensorboard)"),
) -> None:
    """Train the network a spec describes; print progress, test scores and the run directory.

    Ctrl-C (or SIGTERM) stops after the current batch, saves a checkpoint and exits with
    130 (143); `neuralab train --resume RUN_DIR` continues that run exactly where it stopped.
    """
    if (spec_file is None) == (resume is None):
        raise SpecError("train: give a spec file to train, or --resume RUN_DIR to continue a run (not both)")
    if resume is not None and (set_ or tensorboard):
        option = "--set" if set_ else "--tensorboard"
        raise SpecError(f"{option}: a resumed run keeps the spec it started with (its train.tensorboard too); "
                        "to change it, train a new run")
    spec = load_spec(spec_file, overrides=set_) if resume is None else _resumed_spec(resume)
    if tensorboard is not None:
        spec.train.tensorboard = str(tensorboard)
    import neuralab.api as api  # the engine (torch) loads only once the spec is valid
    from neuralab.cli.progress import ProgressBar

    callbacks = [] if quiet else [ProgressBar(console, total_epochs=spec.train.epochs, label=spec.name)]
    run = api.train(spec, out_dir=out, callbacks=callbacks) if resume is None else api.resume(resume, callbacks=callbacks)
    if not quiet:
        console.print(layer_table(run.summary["layers"], run.summary["n_parameters"]))
    console.print(result_line(run.summary))
    if run.summary["diverged"] or not quiet:
        console.print(f"stopped: {run.summary['stop_reason']}")
    if run.summary["diverged"]:
        from neuralab.doctor.verdicts import divergence_cause

        console.print(f"likely cause: {divergence_cause(run.spec, run.health)} "
                      f"(`neuralab diagnose {run.dir}` for the whole diagnosis)", highlight=False)
    console.print(f"run written to [bold]{run.dir}[/]")
    if run.tensorboard is not None:
        console.print(f"TensorBoard events in [bold]{run.tensorboard}[/] "
                      f"(view: tensorboard --logdir {run.spec.train.tensorboard})")


def _resumed_spec(run_dir: Path) -> ExperimentSpec:
    if not run_dir.is_dir():
        raise RunError(f"resume: {str(run_dir)!r} is not a directory")
    try:
        return load_spec(run_dir / "spec.yaml")
    except SpecError as error:
        raise RunError([f"resume {run_dir}/spec.yaml: {line}" for line in error.problems]) from None


@app.command()
def evaluate(run_dir: Path = typer.Argument(..., help="a run directory written by `neuralab train`")) -> None:
    """Re-score a saved run on its test split (the data are regenerated from its spec)."""
    import neuralab.api as api

    scores = api.evaluate(run_dir)
    table = Table(title=f"test split of {run_dir}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in scores.items():
        table.add_row(key, f"{value:.6g}")
    console.print(table)


@app.command()
def predict(
    run_dir: Path = typer.Argument(..., help="a run directory written by `neuralab train`"),
    input_file: Path = typer.Option(..., "--input", "-i", help="CSV/Parquet with the run's input columns"),
    output: Path = typer.Option(Path("predictions.csv"), "--output", "-o", help="CSV to write"),
) -> None:
    """Predict for new inputs with a saved run; writes inputs, prediction and class probabilities."""
    import neuralab.api as api

    table = api.predict(run_dir, input_file, output=output)
    console.print(f"{len(table['prediction'])} predictions written to [bold]{output}[/]")


@app.command()
def export(
    run_dir: Path = typer.Argument(..., help="a run directory written by `neuralab train`"),
    format_: str = typer.Option("onnx", "--format", "-f", help="onnx or torchscript"),
    output: Path | None = typer.Option(None, "--output", "-o",
                                       help="file to write (default: <run name>.onnx or .pt in this folder)"),
) -> None:
    """Export the trained network with its preprocessing (raw rows in, predictions out; any batch size)."""
    from neuralab.export import export_run

    output = output or Path(f"{run_dir.name}.{'onnx' if format_ == 'onnx' else 'pt'}")
    result = export_run(run_dir, format=format_, output=output)
    names = {"onnx": "ONNX", "torchscript": "TorchScript"}
    classes = f" (classes {', '.join(map(str, result.classes))})" if result.classes else ""
    console.print(f"exported [bold]{result.path}[/] ({names[result.format]}): float32 rows of "
                  f"{', '.join(result.inputs)}, any number of them → {', '.join(result.outputs)}{classes}",
                  highlight=False)
    console.print(f"checked against neuralab predict: largest difference {result.max_difference:.2g}", highlight=False)


def layer_table(layers: list[dict], n_parameters: int) -> Table:
    """Parameters per layer and in total (what training learns; the spec holds the hyperparameters)."""
    table = Table(title=f"model: {n_parameters:,} parameters")
    for column in ("layer", "inputs", "outputs", "activation", "parameters"):
        table.add_column(column, justify="right" if column in ("inputs", "outputs", "parameters") else "left")
    for row in layers:
        table.add_row(row["layer"], str(row["inputs"]), str(row["outputs"]), row["activation"], f"{row['parameters']:,}")
    return table


def result_line(summary: dict) -> str:
    """One line with the test score: accuracy for classifiers, RMSE and R² for regression."""
    if summary["task"] == "regression":
        dev = f"  (dev RMSE {summary['dev_rmse']:.4g})" if "dev_rmse" in summary else ""  # no dev split: no dev scores
        return (f"test RMSE [bold]{summary.get('test_rmse', float('nan')):.4g}[/]  "
                f"R² {summary.get('test_r2', float('nan')):.3f}{dev}")
    dev = f", dev {1 - summary['dev_error']:.2%}" if "dev_error" in summary else ""
    return (f"test accuracy [bold]{1 - summary['test_error']:.2%}[/]  "
            f"(train {1 - summary['train_error']:.2%}{dev}, "
            f"{summary['epochs_run']} epochs, {summary['seconds']:.1f} s)")
