"""``neuralab train | evaluate | predict | export``: the commands that make and use run directories."""
from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from neuralab.cli.app import app, console
from neuralab.errors import RunError, SpecError
from neuralab.spec import ExperimentSpec, load_spec

SET_HELP = "override a spec field: dotted.key=value (value parsed as YAML); repeatable"


@app.command()
def train(
    spec_file: Path | None = typer.Argument(None, help="spec file (.yaml, .json or .toml), or a data file (.csv, "
                                            ".parquet) to train on with every other field at its default"),
    set_: list[str] = typer.Option([], "--set", "-s", help=SET_HELP),
    target: str | None = typer.Option(None, "--target", "-t", help="target column of a data file "
                                      "(same as --set data.target=NAME; default: the last column)"),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="folder the run directory is created in"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or tables"),
    resume: Path | None = typer.Option(None, "--resume", help="continue an interrupted run directory from its last checkpoint"),
    tensorboard: Path | None = typer.Option(None, "--tensorboard", help="write TensorBoard event files into this "
                                            "folder, one sub-folder per run (sets train.tensorboard)"),
) -> None:
    """Train the network a spec describes; print progress, test scores and the run directory.

    `neuralab train data.csv --target label` (or `--set data.path=data.csv`) trains on your own
    file without a spec, and prints the spec it used. Ctrl-C (or SIGTERM) stops after the
    current batch, saves a checkpoint and exits with 130 (143); `neuralab train --resume
    RUN_DIR` continues that run exactly where it stopped.
    """
    if resume is not None and spec_file is not None:
        raise SpecError("train: give a spec or data file to train, or --resume RUN_DIR to continue a run (not both)")
    if resume is not None and (set_ or target or tensorboard):
        option = "--set" if set_ or target else "--tensorboard"
        raise SpecError(f"{option}: a resumed run keeps the spec it started with (its train.tensorboard too); "
                        "to change it, train a new run")
    sets = [*set_, *([f"data.target={json.dumps(target)}"] if target else [])]
    if resume is None:
        spec, unwritten = spec_to_train(spec_file, sets)
    else:
        spec, unwritten = _resumed_spec(resume), False
    if tensorboard is not None:
        spec.train.tensorboard = str(tensorboard)
    import neuralab.api as api  # the engine (torch) loads only once the spec is valid

    if unwritten and not quiet:
        print_spec_used(spec)
    from neuralab.progress import EpochProgress

    callbacks = [] if quiet else [EpochProgress(console, total_epochs=spec.train.epochs, label=spec.name)]
    run = api.train(spec, out_dir=out, callbacks=callbacks, progress=False) if resume is None else \
        api.resume(resume, callbacks=callbacks, progress=False)
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


def spec_to_train(spec_file: Path | None, sets: list[str]) -> tuple[ExperimentSpec, bool]:
    """The spec a ``train`` command line means, and whether it came from no spec file.

    A spec file is loaded with the overrides; a data file (or ``--set data.path=…`` alone)
    makes a spec from the defaults through the same :func:`~neuralab.spec.load_spec`.
    """
    from neuralab.spec.loading import data_file_overrides, is_data_file

    if spec_file is not None and not is_data_file(spec_file):
        return load_spec(spec_file, overrides=sets), False
    if spec_file is not None:
        return load_spec(None, overrides=[*data_file_overrides(spec_file), *sets]), True
    paths = [item.partition("=")[2].strip() for item in sets if item.partition("=")[0].strip() == "data.path"]
    if not paths:
        raise SpecError("train: give a spec file, a data file (neuralab train data.csv --target COLUMN), "
                        "--set data.path=FILE, or --resume RUN_DIR")
    import yaml

    path = yaml.safe_load(paths[-1]) if paths[-1] else ""
    return load_spec(None, overrides=[*data_file_overrides(str(path)), *sets]), True


def print_spec_used(spec: ExperimentSpec) -> None:
    """The fields a spec-less run set (every other one is at its default), as a spec file would hold them."""
    import yaml

    from neuralab.spec.loading import non_default_fields

    console.print("spec used (every other field at its default; the run's spec.yaml holds all of them):",
                  highlight=False)
    console.print(yaml.safe_dump(non_default_fields(spec), sort_keys=False).rstrip(), highlight=False, markup=False)


def _resumed_spec(run_dir: Path) -> ExperimentSpec:
    if not run_dir.is_dir():
        raise RunError(f"resume: {str(run_dir)!r} is not a directory")
    try:
        return load_spec(run_dir / "spec.yaml")
    except SpecError as error:
        raise RunError([f"resume {run_dir}/spec.yaml: {line}" for line in error.problems]) from None


@app.command()
def evaluate(
    run_dir: Path = typer.Argument(..., help="a run directory written by `neuralab train`"),
    data: Path | None = typer.Option(None, "--data", "-d", help="a labelled CSV/Parquet file (the run's input "
                                     "columns and its target column) to score instead of the test split"),
) -> None:
    """Re-score a saved run on its test split (or --data FILE): loss, error, accuracy, per-class scores,
    confusion matrix (also confusion_matrix.png in the run directory); RMSE and R² for regression."""
    import neuralab.api as api

    result = api.evaluate(run_dir, data=data)
    table = Table(title=f"{run_dir}: {'test split' if data is None else data} ({result['rows']} rows)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if isinstance(value, float):
            table.add_row(key, f"{value:.6g}")
    console.print(table)
    if "per_class" in result:
        console.print(class_table(result))
        console.print(confusion_table(result))
    if "picture" in result:
        console.print(f"confusion matrix drawn in [bold]{result['picture']}[/]")


@app.command()
def predict(
    run_dir: Path = typer.Argument(..., help="a run directory written by `neuralab train`"),
    input_file: Path = typer.Option(..., "--input", "-i", help="CSV/Parquet holding the run's input columns: the "
                                    "training file's columns except the target and data.drop (an error lists "
                                    "them when one is missing); other columns are kept and ignored"),
    output: Path | None = typer.Option(None, "--output", "-o", help="CSV to write (default: "
                                       "RUN_DIR/predictions-<input name>.csv)"),
) -> None:
    """Predict for new rows with a saved run; writes the input's columns untouched, the prediction and,
    for classifiers, one probability column per class."""
    import neuralab.api as api

    output = output or run_dir / f"predictions-{input_file.stem}.csv"
    table = api.predict(run_dir, input_file, output=output)
    console.print(f"{len(next(iter(table.values())))} predictions written to [bold]{output}[/]")


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


def class_table(result: dict) -> Table:
    """Precision, recall, F1 and support per class."""
    table = Table(title=f"per class (accuracy {result['accuracy']:.2%})")
    for column in ("class", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for label, scores in result["per_class"].items():
        table.add_row(str(label), f"{scores['precision']:.3f}", f"{scores['recall']:.3f}", f"{scores['f1']:.3f}",
                      str(scores["support"]))
    return table


def confusion_table(result: dict) -> Table:
    """The confusion matrix: one row per true class, one column per predicted class."""
    table = Table(title="confusion matrix (rows: true class, columns: predicted)")
    table.add_column("true \\ predicted")
    for label in result["classes"]:
        table.add_column(str(label), justify="right")
    for label, row in zip(result["classes"], result["confusion_matrix"]):
        table.add_row(str(label), *map(str, row))
    return table


def result_line(summary: dict) -> str:
    """One line with the test score: accuracy for classifiers, RMSE and R² for regression."""
    if summary["task"] == "regression":
        return (f"test RMSE [bold]{summary.get('test_rmse', float('nan')):.4g}[/]  "
                f"R² {summary.get('test_r2', float('nan')):.3f}  (dev RMSE {summary.get('dev_rmse', float('nan')):.4g})")
    return (f"test accuracy [bold]{1 - summary['test_error']:.2%}[/]  "
            f"(train {1 - summary['train_error']:.2%}, dev {1 - summary['dev_error']:.2%}, "
            f"{summary['epochs_run']} epochs, {summary['seconds']:.1f} s)")
