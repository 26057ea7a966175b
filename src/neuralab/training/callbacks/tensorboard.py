"""Write a run's training into TensorBoard event files, through ``torch.utils.tensorboard``.

What is written, into one folder per run (``train.tensorboard`` / ``--tensorboard DIR``):

- every epoch: ``loss/train``, ``loss/dev``, ``error/train``, ``error/dev`` (and ``rmse``,
  ``r2`` for regression), ``learning_rate`` and ``seconds``, at step = epoch;
- at the doctor's sampling rate (``diagnose.health_every`` optimiser steps): a histogram
  of each layer's weights (``weights/<layer>``) and gradients (``gradients/<layer>``), and
  the layer health the doctor records (``health/<series>/<layer>``: gradient norm,
  update/weight ratio, dead, saturated and symmetric fractions), at step = optimiser step;
- the spec as text (``spec``) at the start, and at the end the hyperparameters with the
  final metrics for TensorBoard's HParams view (:meth:`TensorBoardLogger.finish`);
- text samples of generative models: any callback of the run that defines
  ``text_samples(state)`` (a language model's sampler) is asked for its list of strings at
  the end of every epoch, and they are written as ``samples`` at that epoch
  (:meth:`TensorBoardLogger.add_samples` writes them directly).

Example:
    >>> import tempfile, neuralab
    >>> logger = TensorBoardLogger(tempfile.mkdtemp(), every=5)
    >>> run = neuralab.train({"data": {"dataset": "xor", "n_samples": 60}, "model": {"hidden": [4]},
    ...                       "train": {"epochs": 2}}, out_dir=None, callbacks=[logger])
    >>> logger.finish(run.summary)
    >>> sorted(path.name.split(".")[0] for path in logger.log_dir.iterdir())
    ['events']
"""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Any

from neuralab.errors import SpecError
from neuralab.training.callbacks.health_recorder import HealthRecorder, weight_layers
from neuralab.training.health_record import SERIES
from neuralab.training.events import Callback, TrainingState

FINAL_METRICS = ("train_error", "dev_error", "test_error", "train_loss", "dev_loss", "test_loss",
                 "test_rmse", "test_r2", "epochs_run")
NOT_HYPERPARAMETERS = ("name", "train.tensorboard", "train.device", "train.threads", "train.checkpoint_every")


def require_tensorboard() -> None:
    """Refuse ``train.tensorboard`` clearly, before training, when the tensorboard package is missing.

    Raises:
        SpecError: naming the field and the install command.
    """
    if not tensorboard_installed():
        raise SpecError("train.tensorboard: writing TensorBoard events needs the tensorboard package; "
                        "install it with: pip install 'neuralab[tensorboard]' (or set train.tensorboard: null)")


def tensorboard_installed() -> bool:
    """True when the tensorboard package (the ``tensorboard`` extra) can be imported."""
    return importlib.util.find_spec("tensorboard") is not None


class TensorBoardLogger(Callback):
    """Writes per-epoch metrics, histograms, layer health, text samples and hyperparameters.

    Args:
        log_dir: this run's folder of event files (created).
        every: optimiser steps between histograms and health (the doctor's
            ``diagnose.health_every``); 0 writes none.
        hyperparameters: name → value for the HParams view (default: the spec's fields,
            read when training starts).
    """

    def __init__(self, log_dir: str | Path, *, every: int = 100, hyperparameters: dict[str, Any] | None = None):
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir = Path(log_dir)
        self.every = every
        self.hyperparameters = hyperparameters
        self.writer = SummaryWriter(log_dir=str(self.log_dir))
        self._health_step = 0  # the last optimiser step whose health sample is written

    @property
    def batch_every(self) -> int:
        """The loop fires the batch events for this logger only on the steps it samples."""
        return self.every or 2**62

    # ------------------------------------------------------------------ events

    def on_fit_start(self, state: TrainingState) -> None:
        self._health_step = state.step  # a resumed run wrote the samples before its checkpoint already
        linears, _, layers = weight_layers(state.model)
        self._layers = [(linear, layer["name"]) for linear, layer in zip(linears, layers)]
        if self.hyperparameters is None and state.spec is not None:
            self.hyperparameters = spec_hyperparameters(state.spec)
        if state.spec is not None and not state.history:  # a resumed run wrote its spec when it started
            from neuralab.spec import dump_spec

            self.writer.add_text("spec", f"```yaml\n{dump_spec(state.spec)}```", 0)

    def on_after_backward(self, state: TrainingState) -> None:
        if not self.every or state.step % self.every:
            return
        step = state.step + 1  # the step being taken, 1-based, as the doctor numbers its samples
        for linear, name in self._layers:
            self.writer.add_histogram(f"weights/{name}", linear.weight.detach().cpu(), step)
            if linear.weight.grad is not None:
                self.writer.add_histogram(f"gradients/{name}", linear.weight.grad.detach().cpu(), step)

    def on_batch_end(self, state: TrainingState) -> None:
        # The HealthRecorder takes its sample in after_step; every after_step handler has run by now.
        recorder = next((cb for cb in state.callbacks if isinstance(cb, HealthRecorder)), None)
        if recorder is None or not recorder.samples or recorder.samples[-1]["step"] <= self._health_step:
            return
        names = [layer["name"] for layer in recorder.layers]
        for sample in (s for s in recorder.samples if s["step"] > self._health_step):
            for series in SERIES:
                for name, value in zip(names, sample[series]):
                    if value is not None:
                        self.writer.add_scalar(f"health/{series}/{name}", value, sample["step"])
        self._health_step = recorder.samples[-1]["step"]

    def on_epoch_end(self, state: TrainingState) -> None:
        for callback in state.callbacks:  # a generative model's sampler: text_samples(state) → list of str
            samples = callback.text_samples(state) if hasattr(callback, "text_samples") else None
            if samples:
                self.add_samples(samples, epoch=int(state.metrics["epoch"]))
        self.add_epoch(state.metrics)

    def on_fit_end(self, state: TrainingState) -> None:
        self.writer.flush()

    # ------------------------------------------------------------------ writing

    def add_epoch(self, metrics: dict[str, float]) -> None:
        """Write one epoch's metrics (a row of metrics.csv) at step = its ``epoch``."""
        epoch = int(metrics["epoch"])
        for key, value in metrics.items():
            if key != "epoch" and math.isfinite(value):
                self.writer.add_scalar(metric_tag(key), value, epoch)
        self.writer.flush()

    def checkpoint_state(self) -> dict[str, Any]:
        """A checkpoint keeps the folder, so a resumed run writes on in the same one."""
        return {"log_dir": str(self.log_dir)}

    def close(self) -> None:
        """Flush and close the event files (:meth:`finish` does it too)."""
        self.writer.close()

    def add_samples(self, samples: list[str], *, epoch: int) -> None:
        """Write text a model generated (one sample a line) under ``samples`` at ``epoch``."""
        text = "\n\n".join(f"{index + 1}. `{sample}`" for index, sample in enumerate(samples))
        self.writer.add_text("samples", text, epoch)

    def finish(self, summary: dict[str, Any]) -> None:
        """Write the hyperparameters with the run's final metrics (HParams view) and close the files.

        Args:
            summary: the run's summary (``train_error``, ``dev_error``, ``test_error``, … as available).
        """
        from torch.utils.tensorboard.summary import hparams

        metrics = {f"final/{key}": float(summary[key]) for key in FINAL_METRICS
                   if isinstance(summary.get(key), (int, float)) and math.isfinite(summary[key])}
        metrics["final/diverged"] = float(bool(summary.get("diverged")))
        experiment, start, end = hparams(self.hyperparameters or {}, metrics)
        for record in (experiment, start, end):
            self.writer.file_writer.add_summary(record)
        for tag, value in metrics.items():
            self.writer.add_scalar(tag, value, 0)
        self.close()


def metric_tag(key: str) -> str:
    """``train_loss`` → ``loss/train`` (TensorBoard groups charts by the part before the slash)."""
    split, _, metric = key.partition("_")
    return f"{metric}/{split}" if split in ("train", "dev", "test") and metric else key


def spec_hyperparameters(spec: Any) -> dict[str, Any]:
    """The spec's fields (but those that do not change the numbers) as HParams values."""
    from neuralab.spec.reference import spec_values

    return hparam_values({key: value for key, value in spec_values(spec).items() if key not in NOT_HYPERPARAMETERS})


def hparam_values(values: dict[str, Any]) -> dict[str, Any]:
    """Values as the HParams view takes them: numbers, text and booleans as they are, others as JSON."""
    return {key: value if isinstance(value, (bool, int, float, str)) else json.dumps(value)
            for key, value in values.items()}
