"""Writing a run directory: made before training, kept current while it trains, finished last.

:func:`start_run` claims a new folder and writes ``spec.yaml`` before the first epoch;
training keeps ``metrics.csv`` and ``checkpoint/`` current (:mod:`neuralab.runs.keeping`);
:func:`finish_run` adds the model, plots, health record and — last, as the mark of a
complete run — ``summary.json``. :func:`write_run` writes a run trained without a folder
(``train_many``) in one go. Every file goes through :mod:`neuralab.runs.files` (atomic).

Example:
    >>> import neuralab, tempfile
    >>> run = neuralab.train({"data": {"dataset": "xor", "n_samples": 100}, "train": {"epochs": 2}}, out_dir=None)
    >>> folder = write_run(run, tempfile.mkdtemp())
    >>> sorted(p.name for p in folder.iterdir())
    ['curves.png', 'health.csv', 'health.json', 'learning_rate.png', 'metrics.csv', 'model.json', 'model.safetensors', 'spec.yaml', 'summary.json']
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from safetensors.torch import save

from neuralab.models import describe_layers
from neuralab.runs.files import claim_folder, save_figure, write_bytes_atomic, write_csv, write_json, write_text_atomic
from neuralab.runs.records import write_health
from neuralab.runs.run import FORMAT, Run
from neuralab.spec import ExperimentSpec, dump_spec
from neuralab.training.events import TrainingState
from neuralab.training.experiment import Experiment, model_shape


def start_run(spec: ExperimentSpec, out_dir: str | Path) -> Path:
    """Claim a new run directory under ``out_dir`` holding ``spec.yaml``, before training starts."""
    folder = claim_folder(out_dir, spec.name)
    write_text_atomic(folder / "spec.yaml", dump_spec(spec))
    return folder


def finish_run(run: Run, folder: str | Path) -> Path:
    """Write the finished run's files into its directory (made by :func:`start_run`), summary.json last."""
    folder = Path(folder)
    _write_files(run, folder)
    run.dir = folder
    return folder


def write_run(run: Run, out_dir: str | Path) -> Path:
    """Write ``run`` into a new directory under ``out_dir`` and return its path.

    The files are written into the claimed folder's hidden twin first and renamed into place,
    so a reader never sees half a run.
    """
    final = claim_folder(out_dir, run.spec.name)
    partial = final.with_name(f".{final.name}.partial-{os.getpid()}")
    partial.mkdir()
    try:
        _write_files(run, partial)
        os.replace(partial, final)  # the claimed folder is empty: replacing it is one rename
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    run.dir = final
    return final


def _write_files(run: Run, folder: Path) -> None:
    from neuralab.viz.plots import plot_curves, plot_learning_rate

    # Every file is replaced atomically, and summary.json comes last: it marks a complete run.
    write_text_atomic(folder / "spec.yaml", dump_spec(run.spec))
    write_csv(folder / "metrics.csv", run.history)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in run.model.state_dict().items()}
    write_bytes_atomic(folder / "model.safetensors", save(state, metadata={"format": FORMAT}))
    write_json(folder / "model.json", {
        "format": FORMAT, "kind": run.spec.model.kind, "n_inputs": run.shape.n_inputs, "shape": run.shape.to_dict(),
        "head": vars(run.head), "preprocessor": run.preprocessor.to_dict(),
        "tensors": {name: list(tensor.shape) for name, tensor in state.items()},
        "layers": run.summary.get("layers", []),
    })
    if run.history:
        error_label = "loss (regression error)" if run.head.task == "regression" else "error (misclassification rate)"
        save_figure(plot_curves(run.history, title=run.spec.name, best_epoch=run.summary.get("kept_epoch"),
                                error_label=error_label), folder / "curves.png")
        save_figure(plot_learning_rate(run.history), folder / "learning_rate.png")
    if run.health:
        write_health(run.health, folder)  # health.json + health.csv, read by `neuralab diagnose`
    write_json(folder / "summary.json", run.summary)


def run_of(experiment: Experiment, *, seconds: float) -> Run:
    """The :class:`Run` of a trained experiment: its kept weights scored on every split, and its summary.

    A non-finite score or weight the training loop could not see (the test split) makes the
    run diverged: garbage is never reported as a result.
    """
    state = experiment.state
    final = experiment.score()
    problem = "" if state.diverged else experiment.final_problem(final)
    if problem:
        state.diverged, state.stop_reason = True, problem
    summary = summarize(experiment, state, final=final, seconds=seconds)
    return Run(spec=experiment.spec, summary=summary, history=state.history, model=experiment.model.cpu().eval(),
               head=experiment.head, preprocessor=experiment.bundle.preprocessor,
               shape=model_shape(experiment.bundle, experiment.head), health=experiment.health_record)


def summarize(experiment: Experiment, state: TrainingState, *, final: dict[str, dict[str, float]],
              seconds: float) -> dict[str, Any]:
    """The run's ``summary.json``: task, sizes, epochs, per-split scores, timing, layers.

    ``best_epoch`` is the epoch with the best monitored dev score (early stopping's), or the
    kept epoch without early stopping; ``kept_epoch`` is whose weights the model holds.

    Args:
        experiment: the trained experiment.
        state: how training went (history, stop reason, best and kept epochs).
        final: ``{"train"|"dev"|"test": scores}`` of the kept weights.
        seconds: wall time of the whole run.
    """
    spec, bundle, head = experiment.spec, experiment.bundle, experiment.head
    kept = state.kept_epoch or len(state.history)
    return {
        "name": spec.name, "task": head.task, "dataset": bundle.dataset, "model_kind": spec.model.kind,
        "output_activation": head.output_activation, "loss": head.loss, "classes": list(bundle.classes),
        "n_parameters": experiment.n_parameters, "n_train": bundle.n_train, "n_dev": bundle.n_dev,
        "n_test": bundle.n_test, "n_features": bundle.n_features, "split": bundle.split_fractions,
        "epochs_run": len(state.history), "best_epoch": state.best_epoch or kept, "kept_epoch": kept,
        "stop_reason": state.stop_reason or "completed all epochs", "diverged": state.diverged,
        "rollbacks": state.rollbacks,
        **{f"{split}_{key}": value for split, scores in final.items() for key, value in scores.items()},
        "seconds": seconds, "device": str(experiment.device), "threads": experiment.threads,
        "seed": spec.seed, "data_fingerprint": bundle.fingerprint(),
        "layers": describe_layers(experiment.model, kind=spec.model.kind),
    }
