"""Progress while neuralab works: a rich bar in terminals and notebooks, plain lines when piped.

One display for every front end: ``neuralab train``/``tune``/``sweep`` on the command line,
and ``neuralab.train(..., progress=...)``, ``tune_study``, ``sweep`` in Python. Where output
goes to a terminal (or a notebook with ipywidgets) a live bar shows the epochs (or trials)
with labelled numbers; where it is piped (CI logs, Jupyter's ``!neuralab``, ``| tee``) a
plain line is printed every few epochs instead, so nothing is cut off. Epochs are counted
from 1, as ``metrics["epoch"]`` and ``TrainingState.epoch``.

Example:
    >>> import io
    >>> from rich.console import Console
    >>> console = Console(file=io.StringIO(), width=100)
    >>> import neuralab
    >>> spec = neuralab.load_spec({"data": {"dataset": "xor", "n_samples": 60}, "train": {"epochs": 2}})
    >>> run = neuralab.train(spec, out_dir=None, callbacks=[EpochProgress(console, total_epochs=2, label="xor")],
    ...                      progress=False)
    >>> console.file.getvalue().splitlines()[-1].startswith("epoch 2/2  train loss")
    True
"""
from __future__ import annotations

import importlib.util
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from neuralab.training.events import Callback, TrainingState

LINES_PER_RUN = 10  # plain lines a piped run prints (every total/10 epochs, and the last)


def interactive(console: Console) -> bool:
    """True where a live bar can redraw: a terminal, or a notebook with ipywidgets."""
    if console.is_jupyter:
        return importlib.util.find_spec("ipywidgets") is not None
    return console.is_terminal and not console.is_dumb_terminal


def wanted(progress: bool | None, console: Console) -> bool:
    """Whether to show progress: ``True`` always, ``False`` never, ``None`` where a person watches (a
    terminal or a notebook), not where output is captured (pipes, logs, doctests)."""
    if progress is None:
        return console.is_terminal or console.is_jupyter
    return bool(progress)


def epoch_text(metrics: dict[str, float]) -> str:
    """An epoch's numbers, each labelled: ``train loss 0.1234  dev loss 0.2345  dev error 3.1%  lr 0.001``."""
    parts = [f"train loss {metrics['train_loss']:.4f}"]
    if "dev_loss" not in metrics:  # no dev split (classic playground settings): train numbers only
        pass
    elif "dev_rmse" in metrics:  # regression: the error is the loss; RMSE is in the target's units
        parts += [f"dev loss {metrics['dev_loss']:.4f}", f"dev RMSE {metrics['dev_rmse']:.4g}"]
    else:
        parts += [f"dev loss {metrics['dev_loss']:.4f}", f"dev error {metrics['dev_error']:.2%}"]
    parts.append(f"lr {metrics['learning_rate']:.3g}")
    return "  ".join(parts)


def model_table(model: Any, *, kind: str = "mlp") -> Table:
    """Parameters per layer and in total (what training learns; the spec holds the hyperparameters)."""
    from neuralab.models import describe_layers

    layers = describe_layers(model, kind=kind)
    total = sum(p.numel() for p in model.parameters())
    table = Table(title=f"model: {total:,} parameters")
    for column in ("layer", "inputs", "outputs", "activation", "parameters"):
        table.add_column(column, justify="right" if column in ("inputs", "outputs", "parameters") else "left")
    for row in layers:
        table.add_row(row["layer"], str(row["inputs"]), str(row["outputs"]), row["activation"],
                      f"{row['parameters']:,}")
    return table


class EpochProgress(Callback):
    """A training callback that shows the model table, then progress over epochs.

    Args:
        console: where to print.
        total_epochs: ``spec.train.epochs``.
        label: the bar's title (the experiment's name).
        show_model: print the layer table before the first epoch (default True).
        live: a redrawn bar (True) or plain lines (False); default: :func:`interactive`.
    """

    def __init__(self, console: Console, *, total_epochs: int, label: str = "training", show_model: bool = True,
                 live: bool | None = None):
        self.console, self.total, self.label, self.show_model = console, total_epochs, label, show_model
        self.live = interactive(console) if live is None else live
        self.every = max(1, total_epochs // LINES_PER_RUN)
        self.printed = 0
        self.bar: Progress | None = None

    def on_fit_start(self, state: TrainingState) -> None:
        if self.show_model:
            self.console.print(model_table(state.model, kind=state.spec.model.kind))
        done = len(state.history)
        if done:
            self.console.print(f"resuming from epoch {done + 1} ({done} of {self.total} done)", highlight=False)
        if self.live:
            self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("epochs  {task.fields[numbers]}"), TimeElapsedColumn(),
                                console=self.console, transient=False)
            self.task = self.bar.add_task(self.label, total=self.total, completed=done, numbers="")
            self.bar.start()

    def on_epoch_end(self, state: TrainingState) -> None:
        epoch = int(state.metrics["epoch"])
        if self.bar is not None:
            self.bar.update(self.task, completed=len(state.history), numbers=epoch_text(state.metrics))
        elif epoch % self.every == 0 or epoch == self.total:
            self._line(state)

    def on_fit_end(self, state: TrainingState) -> None:
        if self.bar is not None:
            self.bar.update(self.task, total=len(state.history))
            self.bar.stop()
        elif state.history and self.printed != int(state.history[-1]["epoch"]):
            self._line(state)  # a run that stopped early: its last epoch

    def _line(self, state: TrainingState) -> None:
        self.printed = int(state.metrics["epoch"])
        self.console.print(f"epoch {self.printed}/{self.total}  {epoch_text(state.metrics)}", highlight=False)


class TrialProgress:
    """Progress over a study's finished trials, with the best dev error so far; ``on_trial`` of a search.

    Args:
        console: where to print.
        label: the title (``tune NAME``, ``sweep FIELD``).
        plan: what will run, printed once before the first trial (sampler, grid size…).
        live: a redrawn bar (True) or one plain line per trial (False); default: :func:`interactive`.
    """

    def __init__(self, console: Console, label: str, *, plan: str = "", live: bool | None = None):
        self.console, self.label, self.plan = console, label, plan
        self.live = interactive(console) if live is None else live
        self.started = False
        # No refresh thread (auto_refresh off, redrawn on each report): a search forks worker
        # processes for its populations, which is only safe while this process has one thread.
        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[best]}"), TimeElapsedColumn(), console=console,
                            auto_refresh=False) if self.live else None
        self.task = self.bar.add_task(label, total=None, best="") if self.bar is not None else None

    def __enter__(self) -> "TrialProgress":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, report: Any) -> None:
        if not self.started:  # the study is open and valid: say what will run, once
            self.started = True
            left = max(report.total - report.finished, 0)
            study = f"study {report.study}: " if getattr(report, "study", "") else ""
            self.console.print(f"{self.label}: {study}{left} of {report.total} trials to run"
                               + (f" — {self.plan}" if self.plan else ""), highlight=False)
            if self.bar is not None:
                self.bar.start()
        best = "" if report.best_value is None else f"best dev error {report.best_value:.4f}"
        last = "" if report.number < 0 else \
            f"trial {report.number} {report.state.lower()}" + ("" if report.value is None else f" {report.value:.4f}")
        if self.bar is not None:
            self.bar.update(self.task, total=report.total, completed=min(report.finished, report.total),
                            best=f"{best}  ({last})" if last else best, refresh=True)
        elif last:
            self.console.print(f"{min(report.finished, report.total)}/{report.total} trials  {last}  {best}",
                               highlight=False)
