"""A rich progress bar over epochs, with live train/dev loss: a training callback for the CLI."""
from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from neuralab.training.events import Callback, TrainingState


class ProgressBar(Callback):
    """Shows epochs done, the latest train/dev loss and dev error, and elapsed time."""

    def __init__(self, console: Console, *, total_epochs: int, label: str = "training"):
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[losses]}"), TimeElapsedColumn(),
            console=console, transient=False,
        )
        self.task = self.progress.add_task(label, total=total_epochs, losses="")

    def on_fit_start(self, state: TrainingState) -> None:
        self.progress.start()

    def on_epoch_end(self, state: TrainingState) -> None:
        m = state.metrics
        dev = f"dev {m['dev_loss']:.4f}  dev error {m['dev_error']:.4f}  " if "dev_loss" in m else ""  # no dev split
        losses = f"train {m['train_loss']:.4f}  {dev}lr {m['learning_rate']:.3g}"
        self.progress.update(self.task, completed=len(state.history), losses=losses)

    def on_fit_end(self, state: TrainingState) -> None:
        self.progress.update(self.task, total=len(state.history))
        self.progress.stop()
