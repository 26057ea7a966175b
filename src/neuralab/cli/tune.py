"""``neuralab tune | sweep | scaling | lr-find | importance``: hyperparameter search on Optuna from the shell.

Each command checks the spec, the space and its options before any training (exit 2, one
line per problem); Optuna and torch load only after that.
"""
from __future__ import annotations

import shlex
from pathlib import Path

import typer
from rich.table import Table

from neuralab.cli.app import app, console
from neuralab.cli.runs import SET_HELP, spec_of_source, target_option
from neuralab.spec import load_spec

STORAGE_HELP = ("study storage shared by workers: sqlite:///study.db, postgresql://user@host/db, "
                "journal:///shared/drive/study.journal; default: study.db in the output folder")
RESUME_HELP = ("continue the study named by --study (or join it from another worker/machine); "
               "without --study, the newest study of this spec")
STUDY_HELP = "study name; default: a fresh one (the spec's name, then NAME-2, NAME-3…)"


@app.command()
def tune(
    spec_file: Path = typer.Argument(..., help="base spec file (.yaml, .json or .toml), or a data file "
                                     "(.csv, .parquet)"),
    target: str | None = target_option(),
    space: Path = typer.Option(..., "--space", help="search space file (see examples/space.yaml)"),
    sampler: str = typer.Option("tpe", "--sampler", help="grid | random | tpe | cmaes"),
    trials: int = typer.Option(None, "--trials", "-n", help="finished trials the study should reach (default: grid size, else 20)"),
    pruner: str = typer.Option("hyperband", "--pruner", help="hyperband | median | none"),
    storage: str = typer.Option(None, "--storage", help=STORAGE_HELP),
    study: str = typer.Option(None, "--study", help=STUDY_HELP),
    resume: bool = typer.Option(False, "--resume", help=RESUME_HELP),
    heartbeat: int = typer.Option(10, "--heartbeat", min=1, help="seconds between heartbeats; a silent trial fails after 2x"),
    workers: int = typer.Option(1, "--workers", "-w", min=1, max=256,
                                help="worker processes on this machine sharing the study"),
    worker: bool = typer.Option(False, "--worker", hidden=True,
                                help="run trials of an existing study as one of --workers; write nothing"),
    final: bool = typer.Option(True, "--final/--no-final", help="train the best spec and score the test split"),
    set_: list[str] = typer.Option([], "--set", "-s", help=SET_HELP),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="folder the tune folder is created in"),
    cv: int = typer.Option(None, "--cv", help="score each trial by K-fold cross-validation of the train + dev rows "
                                           "(small data: one dev split is a noisy judge); trials are not pruned"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Search hyperparameters (grid, random, TPE, CMA-ES) with pruning; write best.yaml, trials.csv, plots.

    `--workers N` runs N worker processes on one study; on several machines run the same
    command with one `--storage` every machine reaches and `--resume` (see the README).
    """
    from neuralab.tune.samplers import choice_problems
    from neuralab.tune.space import check_space, load_space

    base, _ = spec_of_source(spec_file, set_, target=target, command="tune")
    search_space = load_space(space)
    _raise_problems(choice_problems(sampler=sampler, pruner=pruner))
    check_space(search_space, base)
    from neuralab.tune.search import tune_study  # optuna and torch load once the input is valid

    from neuralab.tune.space import grid_size

    plan = f"sampler {sampler}, " + (f"{cv}-fold cross-validation (no pruning)" if cv else f"pruner {pruner}") + (
        f"; the grid has {grid_size(search_space)} points" if sampler == "grid" else "") + (
        f"; {workers} worker processes" if workers > 1 else "")
    with _progress("tune", quiet or worker, plan=plan) as progress:
        result = tune_study(base, search_space, sampler=sampler, trials=trials, pruner=pruner, storage=storage,
                            study_name=study, resume=resume, out_dir=out, final=final, heartbeat_seconds=heartbeat,
                            workers=workers, worker=worker, cv=cv, on_trial=progress)
    if result is not None:  # a --worker writes and prints nothing: whoever started it reports
        _print_result(result)


@app.command()
def sweep(
    spec_file: Path = typer.Argument(..., help="base spec file, or a data file (.csv, .parquet)"),
    target: str | None = target_option(),
    param: str = typer.Option(..., "--param", "-p", help="dotted spec field to vary, e.g. train.learning_rate"),
    values: str = typer.Option(..., "--values", help="start:stop:log|lin:count (1e-5:1:log:13) or a comma list"),
    storage: str = typer.Option(None, "--storage", help=STORAGE_HELP),
    study: str = typer.Option(None, "--study", help="study name; default: a fresh one (NAME-sweep-FIELD, then …-2)"),
    resume: bool = typer.Option(False, "--resume", help=RESUME_HELP),
    final: bool = typer.Option(False, "--final/--no-final", help="train the best value and score the test split"),
    set_: list[str] = typer.Option([], "--set", "-s", help=SET_HELP),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="folder the sweep folder is created in"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Sensitivity analysis: one hyperparameter over a range, all else fixed; dev and train error vs value."""
    from neuralab.tune.space import check_space, load_space
    from neuralab.tune.sweep import parse_values

    base, _ = spec_of_source(spec_file, set_, target=target, command="sweep")
    points = parse_values(values)
    check_space(load_space({"params": {param: {"choices": points}}}), base)
    from neuralab.tune.sweep import sweep as run_sweep

    with _progress(f"sweep {param}", quiet, plan=f"{len(points)} values of {param}") as progress:
        result = run_sweep(base, param, points, out_dir=out, storage=storage, study_name=study, resume=resume,
                           final=final, on_trial=progress)
    table = Table(title=f"{param}: dev and train error per value")
    for column in (param, "dev error", "train error", "note"):
        table.add_column(column, justify="left" if column == "note" else "right")
    from neuralab.tune.study_files import trial_rows

    for row in sorted(trial_rows(result.study), key=lambda r: _order(r.get(param))):
        if row["state"] == "COMPLETE":
            table.add_row(str(row[param]), f"{row['dev_error']:.4f}", f"{row['train_error']:.4f}",
                          "diverged" if row["diverged"] else "")
    console.print(table)
    _print_result(result)


@app.command()
def scaling(
    spec_file: Path = typer.Argument(..., help="base spec file (a language model, e.g. examples/shakespeare-char.yaml)"),
    space: Path = typer.Option(..., "--space", help="the model sizes to train (see examples/scaling.yaml)"),
    resume: bool = typer.Option(False, "--resume", help=RESUME_HELP),
    set_: list[str] = typer.Option([], "--set", "-s", help=SET_HELP),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="folder the scaling folder is created in"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """A scaling experiment: train every size in the space, plot dev loss against parameters, fit a power law."""
    from neuralab.tune.space import check_space, load_space

    base = load_spec(spec_file, overrides=set_)
    sizes = load_space(space)
    check_space(sizes, base)
    from neuralab.tune.scaling import scaling as run_scaling

    with _progress(f"scaling {base.name}", quiet) as progress:
        result = run_scaling(base, sizes, out_dir=out, resume=resume, on_trial=progress)
    table = Table(title="final dev loss per model size")
    for column in ("parameters", *(key.rsplit(".", 1)[-1] for key in sizes.params), "dev loss", "train loss"):
        table.add_column(column, justify="right")
    for point in result.points:
        table.add_row(f"{point['parameters']:,}", *(str(point[key]) for key in sizes.params),
                      f"{point['dev_loss']:.4f}", f"{point['train_loss']:.4f}")
    console.print(table)
    fit = result.fit
    console.print(f"power law: dev loss ≈ {fit['a']:.3g} · N^(−{fit['alpha']:.3f})  (R² {fit['r2']:.3f}, "
                  f"{len(result.points)} models)", highlight=False)
    console.print(f"plot: [bold]{result.files['plot']}[/]; table: {result.files['table']}; fit: {result.files['fit']}")


@app.command(name="lr-find")
def lr_find(
    spec_file: Path = typer.Argument(..., help="spec file (its optimiser, batch size and network are used), "
                                     "or a data file (.csv, .parquet)"),
    target: str | None = target_option(),
    start: float = typer.Option(1e-7, "--start", help="first learning rate"),
    end: float = typer.Option(10.0, "--end", help="last learning rate"),
    steps: int = typer.Option(100, "--steps", help="mini-batches in the test"),
    rule: str = typer.Option("steepest", "--rule", help="steepest (fastest fall) | minimum (lowest loss / 10)"),
    set_: list[str] = typer.Option([], "--set", "-s", help=SET_HELP),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="folder the lr-find folder is created in"),
) -> None:
    """Learning-rate range test: loss vs exponentially rising LR, a suggested LR and a plot."""
    base, _ = spec_of_source(spec_file, set_, target=target, command="lr-find")
    from neuralab.tune.lr_find import find_learning_rate, write_finding

    finding = find_learning_rate(base, start=start, end=end, steps=steps, rule=rule)
    files = write_finding(finding, out / f"{base.name}-lr-find")
    ended = "loss blew up" if finding.stopped_early else "all steps run"
    console.print(f"suggested learning rate [bold]{finding.suggestion:.3g}[/] ({finding.rule}; "
                  f"{len(finding.rates)} mini-batches, {ended})")
    again = ["neuralab", "train", str(spec_file), *(["--target", target] if target else []),
             *(item for value in set_ for item in ("--set", value)),
             "--set", f"train.learning_rate={finding.suggestion:.3g}"]
    console.print(f"try: {shlex.join(again)}", highlight=False, markup=False)  # the user's command, with the rate
    console.print(f"plot written to [bold]{files['plot']}[/]")


@app.command()
def importance(
    source: str = typer.Argument(..., help="a tune folder, a study .db file or a storage URL"),
    study: str = typer.Option(None, "--study", help="study name (needed when the storage holds several)"),
    evaluator: str = typer.Option("fanova", "--evaluator", help="fanova | mdi | ped-anova"),
    plot: Path = typer.Option(None, "--plot", help="also write the importance bar chart to this PNG"),
) -> None:
    """Which hyperparameters mattered for the dev error (Optuna's importance evaluators)."""
    from neuralab.tune.importance import load_study, param_importances

    found = load_study(source, study_name=study)
    scores = param_importances(found, evaluator=evaluator)
    table = Table(title=f"importance — study {found.study_name} ({evaluator})")
    table.add_column("hyperparameter")
    table.add_column("importance", justify="right")
    for name, value in scores.items():
        table.add_row(name, f"{value:.3f}")
    console.print(table)
    if plot is not None:
        from neuralab.viz.tuning import plot_importance

        from neuralab.runs.files import save_figure

        plot.parent.mkdir(parents=True, exist_ok=True)
        save_figure(plot_importance(scores, title=found.study_name), plot)
        console.print(f"plot written to [bold]{plot}[/]")


def _order(value) -> tuple:
    """Numbers by value, then everything else by text (``8, 16, 32, full``)."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return (0, value, "") if is_number else (1, 0, str(value))


def _progress(label: str, quiet: bool, *, plan: str = ""):
    from neuralab.progress import TrialProgress

    return _Silent() if quiet else TrialProgress(console, label, plan=plan)


class _Silent:
    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None


def _raise_problems(problems: list[str]) -> None:
    if problems:
        from neuralab.errors import SpecError

        raise SpecError(problems)


def _print_result(result) -> None:
    # result.warnings (a small dev split) were logged when they were found, and the command line shows
    # the library's warnings: printing them again here said the same long sentence twice
    counts = ", ".join(f"{n} {state.lower()}" for state, n in result.counts.items() if n)
    console.print(f"study [bold]{result.study.study_name}[/]: {counts}; best dev error [bold]{result.best_value:.4f}[/]")
    if result.final_run is not None:
        summary = result.final_run.summary
        console.print(f"best spec retrained: test error [bold]{summary['test_error']:.4f}[/] "
                      f"(train {summary['train_error']:.4f}, dev {summary['dev_error']:.4f}) → {result.final_run.dir}")
    console.print(f"best spec: [bold]{result.files['best']}[/]  (neuralab train {result.files['best']})")
    console.print(f"trials: {result.files['trials']}; plots: "
                  + ", ".join(str(path) for key, path in result.files.items() if path.suffix == ".png"))
    from neuralab.tune.storage import dashboard_target

    console.print(f"continue this study with: --study {result.study.study_name} --resume")
    console.print(f"watch it: optuna-dashboard {dashboard_target(result.storage_url)}  (pip install optuna-dashboard)",
                  highlight=False)
