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

import hashlib
import logging
import math
import os
import shutil
from contextlib import suppress
from pathlib import Path
from typing import Any

from safetensors.torch import save

from neuralab.data.tokenization import bits_per_character, perplexity
from neuralab.models import describe_layers
from neuralab.runs.fine_tuning import write_tokenizer
from neuralab.runs.files import (claim_folder, refused_as_storage_error, save_figure, write_bytes_atomic, write_csv,
                                 write_json, write_text_atomic)
from neuralab.runs.records import write_health
from neuralab.runs.run import FORMAT, Run
from neuralab.spec import ExperimentSpec, dump_spec
from neuralab.training.events import TrainingState
from neuralab.training.experiment import Experiment, model_shape
from neuralab.training.outcome import chance_error, chance_warning

log = logging.getLogger(__name__)


def start_run(spec: ExperimentSpec, out_dir: str | Path) -> Path:
    """Claim a new run directory under ``out_dir`` holding ``spec.yaml``, before training starts.

    Raises:
        StorageError: the folder or spec.yaml cannot be written; no empty run directory is left.
    """
    folder = claim_folder(out_dir, spec.name)
    try:
        write_text_atomic(folder / "spec.yaml", dump_spec(spec))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
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
    so a reader never sees half a run; when a write fails (StorageError), neither is left.
    """
    final = claim_folder(out_dir, run.spec.name)
    partial = final.with_name(f".{final.name}.partial-{os.getpid()}")
    try:
        with refused_as_storage_error(partial, "create the folder"):
            partial.mkdir()
        _write_files(run, partial)
        with refused_as_storage_error(final, "rename into"):
            os.replace(partial, final)  # the claimed folder is empty: replacing it is one rename
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        with suppress(OSError):
            final.rmdir()  # still the empty claimed folder
        raise
    run.dir = final
    return final


def _write_files(run: Run, folder: Path) -> None:
    from neuralab.viz.plots import plot_curves, plot_learning_rate

    # Every file is replaced atomically, and summary.json comes last: it marks a complete run.
    write_text_atomic(folder / "spec.yaml", dump_spec(run.spec))
    write_csv(folder / "metrics.csv", run.history)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in run.model.state_dict().items()}
    weights = save(state, metadata={"format": FORMAT})
    write_bytes_atomic(folder / "model.safetensors", weights)
    write_json(folder / "model.json", {
        "format": FORMAT, "kind": run.spec.model.kind, "n_inputs": run.shape.n_inputs, "shape": run.shape.to_dict(),
        "head": vars(run.head), "preprocessor": run.preprocessor.to_dict(),
        "tensors": {name: list(tensor.shape) for name, tensor in state.items()},
        "sha256": hashlib.sha256(weights).hexdigest(),  # load_run checks it: a flipped byte is refused
        "layers": run.summary.get("layers", []),
    })
    if run.history:
        error_label = "loss (regression error)" if run.head.task == "regression" else "error (misclassification rate)"
        save_figure(plot_curves(run.history, title=run.spec.name, best_epoch=run.summary.get("kept_epoch"),
                                error_label=error_label), folder / "curves.png")
        save_figure(plot_learning_rate(run.history), folder / "learning_rate.png")
    write_tokenizer(folder, run.preprocessor)  # tokenizer.json: a language model's vocabulary
    if run.health:
        write_health(run.health, folder)  # health.json + health.csv, read by `neuralab diagnose`
    if run.samples:
        write_json(folder / "samples.json", run.samples)  # language models: text at a few epochs
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
               shape=model_shape(experiment.bundle, experiment.head), health=experiment.health_record,
               samples=experiment.samples or None)


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
        "stop_reason": state.stop_reason or ("completed all steps" if spec.train.max_steps else "completed all epochs"),
        "diverged": state.diverged,
        "rollbacks": state.rollbacks,
        **{f"{split}_{key}": value for split, scores in final.items() for key, value in scores.items()},
        "seconds": seconds, "device": str(experiment.device), "threads": experiment.threads,
        "seed": spec.seed, "data_fingerprint": bundle.fingerprint(),
        "layers": describe_layers(experiment.model, kind=spec.model.kind),
        **sequence_facts(bundle), **language_facts(bundle, final),
        "steps": state.step, "step_based": spec.train.max_steps is not None,
        "warnings": outcome_warnings(experiment, state, final=final),
    }


def sequence_facts(bundle) -> dict[str, Any]:
    """What a summary says of sequence and text data: T, the vocabulary and the memoryless baseline."""
    if bundle.baseline_loss is None:
        return {}
    return {"data_kind": bundle.kind, "sequence_length": bundle.sequence_length, "vocab_size": bundle.vocab_size,
            "output_steps": bundle.output_steps, "baseline_loss": bundle.baseline_loss,
            "baseline_rule": bundle.baseline_rule}


def language_facts(bundle, final: dict[str, dict[str, float]]) -> dict[str, Any]:
    """A language model's scores in its field's units: perplexity e^loss and bits per character per split.

    A BPE token spans several characters: bits per character divide the loss by ln 2 and by the dev
    text's characters per token, so character and BPE models compare on the same scale.
    """
    if bundle.kind != "text":
        return {}
    tokens = bundle.x_dev.ravel()
    per_token = len(bundle.preprocessor.decode(tokens)) / max(len(tokens), 1)
    facts: dict[str, Any] = {"characters_per_token": per_token, "uniform_loss": math.log(bundle.vocab_size)}
    for split, scores in final.items():
        facts[f"{split}_perplexity"] = perplexity(scores["loss"])
        facts[f"{split}_bits_per_character"] = bits_per_character(scores["loss"], characters_per_token=per_token)
    return facts


def outcome_warnings(experiment: Experiment, state: TrainingState, *,
                     final: dict[str, dict[str, float]]) -> list[str]:
    """What the summary warns of beyond a divergence: a classifier of rows that ended at chance level
    (sequence models are judged against their memoryless baseline instead)."""
    if state.diverged or not experiment.head.is_classifier or experiment.bundle.baseline_loss is not None:
        return []
    errors = {split: scores["error"] for split, scores in final.items() if "error" in scores}
    warning = chance_warning(experiment.spec, errors=errors, chance=chance_error(experiment.bundle.y_train))
    if warning:
        log.info("%s: %s", experiment.spec.name, warning)
    return [warning] if warning else []
