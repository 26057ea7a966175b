"""``neuralab train | evaluate | predict | export``: the commands that make and use run directories."""
from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from neuralab.cli.app import app, console
from neuralab.errors import DIVERGED_EXIT_CODE, RunError, SpecError
from neuralab.spec import ExperimentSpec, load_spec

SET_HELP = "override a spec field: dotted.key=value (value parsed as YAML); repeatable"

TARGET_HELP = "target column of a data file (same as --set data.target=NAME; default: the last column)"
SOURCE_HELP = ("spec file (.yaml, .json or .toml), or a data file (.csv, .parquet) with every other field at its "
               "default")


def target_option() -> typer.models.OptionInfo:
    """``--target COLUMN``: the same option on every command that takes a spec or a data file."""
    return typer.Option(None, "--target", "-t", help=TARGET_HELP)


def target_overrides(target: str | None) -> list[str]:
    """``--target COLUMN`` as the override it stands for: ``data.target=COLUMN`` (none without it)."""
    return [f"data.target={json.dumps(target)}"] if target else []


@app.command()
def train(
    spec_file: Path | None = typer.Argument(None, help=SOURCE_HELP),
    set_: list[str] = typer.Option([], "--set", "-s", help=SET_HELP),
    target: str | None = target_option(),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="folder the run directory is created in"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or tables"),
    resume: Path | None = typer.Option(None, "--resume", help="continue an interrupted run directory from its last checkpoint"),
    tensorboard: Path | None = typer.Option(None, "--tensorboard", help="write TensorBoard event files into this "
                                            "folder, one sub-folder per run (sets train.tensorboard)"),
    nproc: int = typer.Option(1, "--nproc", min=1, max=1024,
                              help="train on N processes of this machine (data-parallel, torchrun); same results as 1"),
    init_from: Path | None = typer.Option(None, "--init-from", help="fine-tune: start from a trained language-model run's weights and vocabulary"),
) -> int | None:
    """Train the network a spec describes; print progress, test scores and the run directory.

    `neuralab train data.csv --target label` (or `--set data.path=data.csv`) trains on your own
    file without a spec, and prints the spec it used. Ctrl-C (or SIGTERM) stops after the
    current batch, saves a checkpoint and exits with 130 (143); `neuralab train --resume
    RUN_DIR` continues that run exactly where it stopped. `--nproc N` trains on N processes
    (torchrun; gloo on CPUs, NCCL on GPUs); for several machines start
    `torchrun … -m neuralab train SPEC` on each (see the README).
    """
    if resume is not None and spec_file is not None:
        raise SpecError("train: give a spec or data file to train, or --resume RUN_DIR to continue a run (not both)")
    if resume is not None and (set_ or target or tensorboard):
        option = "--set" if set_ or target else "--tensorboard"
        raise SpecError(f"{option}: a resumed run keeps the spec it started with (its train.tensorboard too); "
                        "to change it, train a new run")
    if resume is not None and init_from is not None:
        raise SpecError("--init-from: a resumed run continues from its own checkpoint; give one of the two")
    sets = [*set_, *target_overrides(target)]  # also for the processes started below
    if resume is None:
        spec, unwritten = spec_of_source(spec_file, sets)
    else:
        spec, unwritten = _resumed_spec(resume), False
    if tensorboard is not None:
        spec.train.tensorboard = str(tensorboard)
    from neuralab.training.distributed import launch_environment, process_problems  # torch loads once the spec is valid

    launched = launch_environment()
    if nproc > 1 and launched is None:  # start the processes; each runs this command without --nproc
        from neuralab.cli.processes import run_torchrun

        if process_problems(spec.train.device, nproc):
            raise SpecError(process_problems(spec.train.device, nproc))
        again = [*(["--resume", str(resume)] if resume is not None else [str(spec_file)] if spec_file else []),
                 *(item for value in sets for item in ("--set", value)), "--out", str(out),
                 *(["--tensorboard", str(tensorboard)] if tensorboard is not None else []),
                 *(["--init-from", str(init_from)] if init_from is not None else []), *(["--quiet"] if quiet else [])]
        return run_torchrun(["train", *again], nproc=nproc)
    quiet = quiet or (launched is not None and launched[0] != 0)  # process 0 alone reports
    import neuralab.api as api

    if unwritten and not quiet:
        print_spec_used(spec)
    from neuralab.progress import EpochProgress
    from neuralab.training.rules import periods

    callbacks = [] if quiet else [EpochProgress(console, total_epochs=periods(spec.train), label=spec.name)]
    run = api.train(spec, out_dir=out, callbacks=callbacks, init_from=init_from, progress=False) if resume is None \
        else api.resume(resume, callbacks=callbacks, progress=False)
    if run.dir is None and launched is not None:
        return None  # not process 0: it reports for every process
    console.print(result_line(run.summary))
    if run.summary["diverged"] or not quiet:
        console.print(f"stopped: {run.summary['stop_reason']}")
    if run.summary["diverged"]:
        from neuralab.doctor.verdicts import divergence_cause

        console.print(f"likely cause: {divergence_cause(run.spec, run.health)} "
                      f"(`neuralab diagnose {run.dir}` for the whole diagnosis)", highlight=False)
    for warning in run.summary.get("warnings", []):
        console.print(f"[bold yellow]warning[/]: {escape(warning)}", highlight=False)
    console.print(f"run written to [bold]{run.dir}[/]")
    if run.tensorboard is not None:
        console.print(f"TensorBoard events in [bold]{run.tensorboard}[/] "
                      f"(view: tensorboard --logdir {run.spec.train.tensorboard})")
    if run.summary["diverged"]:
        raise typer.Exit(DIVERGED_EXIT_CODE)  # written with its diagnosis, but not a result


def spec_of_source(source: Path | None, sets: list[str], *, target: str | None = None,
                   command: str = "train") -> tuple[ExperimentSpec, bool]:
    """The spec a command line means (train, doctor, baseline, tune, sweep, lr-find), and whether
    it came from no spec file.

    A spec file is loaded with the overrides; a data file (or ``--set data.path=…`` alone)
    makes a spec from the defaults through the same :func:`~neuralab.spec.load_spec`;
    ``target`` is ``--set data.target=…``.
    """
    from neuralab.spec.loading import data_file_overrides, is_data_file

    sets = [*sets, *target_overrides(target)]
    if source is not None and not is_data_file(source):
        return load_spec(source, overrides=sets), False
    if source is not None:
        return load_spec(None, overrides=[*data_file_overrides(source), *sets]), True
    paths = [item.partition("=")[2].strip() for item in sets if item.partition("=")[0].strip() == "data.path"]
    if not paths:
        raise SpecError(f"{command}: give a spec file, a data file (neuralab {command} data.csv --target COLUMN), "
                        "--set data.path=FILE" + (", or --resume RUN_DIR" if command == "train" else ""))
    import yaml

    path = yaml.safe_load(paths[-1]) if paths[-1] else ""
    return load_spec(None, overrides=[*data_file_overrides(str(path)), *sets]), True


def print_spec_used(spec: ExperimentSpec) -> None:
    """The fields a spec-less run set (every other one is at its default), as a spec file would hold them."""
    from neuralab.spec.loading import non_default_fields, yaml_text

    console.print("spec used (every other field at its default; the run's spec.yaml holds all of them):",
                  highlight=False)
    console.print(yaml_text(non_default_fields(spec)).rstrip(), highlight=False, markup=False)


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
    confusion matrix (also confusion_matrix.png in the run directory); RMSE and R² for regression.

    An incomplete run (interrupted, or training now) is refused with how to resume it; a run
    that diverged, or whose classifier ended at chance level, is scored with a warning.
    """
    import neuralab.api as api
    from neuralab.runs.run import load_run

    run = load_run(run_dir)
    result = api.evaluate(run, data=data)
    if run.summary["diverged"]:
        console.print(f"[bold yellow]warning[/]: this run diverged — {escape(run.summary['stop_reason'])}; "
                      "the scores are those of the weights it kept", highlight=False)
    for warning in run.summary.get("warnings", []):
        console.print(f"[bold yellow]warning[/]: {escape(warning)}", highlight=False)
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
    table = api.prediction_columns(run_dir, input_file, output=output)
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


@app.command()
def sample(
    run_dir: Path = typer.Argument(..., help="a run directory of a language model (trained on shakespeare or text)"),
    prompt: str = typer.Option("", "--prompt", "-p", help="text to continue (default: a line break)"),
    length: int = typer.Option(500, "--length", "-n", help="tokens (characters, for a character model) to generate"),
    temperature: float = typer.Option(1.0, "--temperature", "-t",
                                      help="0: the most likely token each time; 1: the model's own odds; "
                                           "lower is safer, higher wilder"),
    top_k: int | None = typer.Option(None, "--top-k", "-k", help="draw only among the k most likely tokens"),
    top_p: float | None = typer.Option(None, "--top-p", help="draw only among the most likely tokens that together "
                                                            "hold this probability (nucleus sampling)"),
    seed: int = typer.Option(0, "--seed", help="the same seed gives the same text"),
    no_cache: bool = typer.Option(False, "--no-cache", help="a transformer re-reads its whole context for every "
                                                            "token instead of keeping keys and values (slower)"),
) -> None:
    """Generate text with a trained language model, streamed to the terminal as it is drawn."""
    import sys

    import neuralab.api as api

    pieces = api.sample(run_dir, prompt, length=length, temperature=temperature, top_k=top_k, top_p=top_p,
                        seed=seed, cache=not no_cache)
    sys.stdout.write(prompt)
    for piece in pieces:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")


@app.command("next")
def next_token(
    run_dir: Path = typer.Argument(..., help="a run directory of a language model"),
    prompt: str = typer.Option(..., "--prompt", "-p", help="the text whose next token to show"),
    top: int = typer.Option(10, "--top", help="how many of the most likely tokens to list"),
    temperature: float = typer.Option(1.0, "--temperature", "-t", help="the temperature sampling would use"),
    top_k: int | None = typer.Option(None, "--top-k", "-k", help="sampling's top-k filter"),
    top_p: float | None = typer.Option(None, "--top-p", help="sampling's top-p (nucleus) filter"),
) -> None:
    """The most likely next tokens after a prompt, with their probabilities, and how temperature reshapes them."""
    import neuralab.api as api

    table = api.next_tokens(run_dir, prompt, top=top, temperature=temperature, top_k=top_k, top_p=top_p)
    temperatures = list(table["tokens"][0]["at"]) if table["tokens"] else []
    title = (f"next token after {''.join(table['context'])[-40:]!r} — entropy {table['entropy']:.3f} nats "
             f"(uniform ln V = {table['uniform']:.3f})")
    view = Table(title=title)
    view.add_column("token")
    view.add_column("probability", justify="right")
    view.add_column("", no_wrap=True)
    for key in temperatures:
        view.add_column(f"T = {float(key):g}", justify="right")
    for row in table["tokens"]:
        bar = "█" * max(1, round(30 * row["probability"])) if row["probability"] > 0 else ""
        view.add_row(repr(row["text"]), f"{row['probability']:.4f}", bar,
                     *(f"{row['at'][key]:.4f}" for key in temperatures))
    console.print(view)
    settings = [f"temperature {temperature:g}"] + ([f"top-k {top_k}"] if top_k else []) + \
        ([f"top-p {top_p:g}"] if top_p else [])
    console.print(f"probability: what sampling with {', '.join(settings)} draws from; the T columns: the model's "
                  "softmax at other temperatures (low T sharpens, high T flattens towards 1/V)", highlight=False)


@app.command()
def attention(
    run_dir: Path = typer.Argument(..., help="a run directory of a transformer language model"),
    prompt: str = typer.Option(..., "--prompt", "-p", help="the text whose attention to draw"),
    out: Path = typer.Option(Path("attention.png"), "--out", "-o", help="the PNG to write"),
) -> None:
    """Draw a transformer's attention over a prompt: one heat map per layer and head (a PNG)."""
    import neuralab.api as api
    from neuralab.errors import RunError
    from neuralab.models.attention import attention_entropy
    from neuralab.models.language import attention_of
    from neuralab.runs.files import save_figure
    from neuralab.viz.attention_plots import plot_attention

    if out.suffix.lower() != ".png":
        raise SpecError(f"--out: {str(out)!r} must end in .png")
    run, vocabulary = api.open_language_model(run_dir, "attention")
    try:
        shown = attention_of(run.model, vocabulary, prompt)
    except ValueError as error:
        raise RunError(f"attention: {run_dir} {error}") from None
    entropy = [attention_entropy(layer[None]).tolist() for layer in shown["weights"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    save_figure(plot_attention(shown["tokens"], shown["weights"].numpy(), entropy=entropy,
                               title=f"attention of {run.spec.name} over {prompt[-40:]!r}"), out)
    console.print(f"{len(shown['tokens'])} tokens, {len(entropy)} layers × {len(entropy[0])} heads → [bold]{out}[/]")


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
    """One line with the test score: accuracy for classifiers, RMSE and R² for regression;
    sequence tasks lead with the loss against their memoryless baseline."""
    if "baseline_loss" in summary:
        per_token = summary.get("characters_per_token", 1.0)
        unit = (" nats/char" if per_token == 1.0 else " nats/token") if summary.get("data_kind") == "text" else ""
        language = (f" (perplexity {summary['test_perplexity']:.3g}, {summary['test_bits_per_character']:.3f} "
                    "bits/char)") if "test_perplexity" in summary else ""
        length = f"{summary['steps']} steps" if summary.get("step_based") else f"{summary['epochs_run']} epochs"
        return (f"test loss [bold]{summary['test_loss']:.4g}[/]{unit}{language} vs the memoryless baseline "
                f"{summary['baseline_loss']:.4g} (dev {summary['dev_loss']:.4g}, train {summary['train_loss']:.4g}, "
                f"{length}, {summary['seconds']:.1f} s)")
    if summary["task"] == "regression":
        dev = f"  (dev RMSE {summary['dev_rmse']:.4g})" if "dev_rmse" in summary else ""  # no dev split: no dev scores
        return (f"test RMSE [bold]{summary.get('test_rmse', float('nan')):.4g}[/]  "
                f"R² {summary.get('test_r2', float('nan')):.3f}{dev}")
    dev = f", dev {1 - summary['dev_error']:.2%}" if "dev_error" in summary else ""
    return (f"test accuracy [bold]{1 - summary['test_error']:.2%}[/]  "
            f"(train {1 - summary['train_error']:.2%}{dev}, "
            f"{summary['epochs_run']} epochs, {summary['seconds']:.1f} s)")
