"""A study's outputs: best.yaml, trials.csv, tune.json and the plots, written atomically.

Several workers may finish the same study into the same folder, so every file is written
through :mod:`neuralab.runs.files`: under a temporary name, then renamed into place — a
reader never sees half a file, and a full disk is one line (StorageError).

Example:
    >>> import optuna
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study()
    >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    >>> [sorted(row)[:4] for row in trial_rows(study)][0]
    ['dev_error', 'dev_loss', 'diverged', 'epochs_run']
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from neuralab.errors import RunError
from neuralab.runs.files import csv_text, make_folder, save_figure, write_text_atomic
from neuralab.spec import dump_spec
from neuralab.tune.space import decode_choice
from neuralab.tune.storage import hide_password

log = logging.getLogger(__name__)
ATTRIBUTES = ("train_error", "dev_error", "train_loss", "dev_loss", "n_parameters", "diverged", "epochs_run",
              "stop_reason", "worker")


def count_states(study: Any) -> dict[str, int]:
    """Trials per state: COMPLETE, PRUNED, FAIL, RUNNING, WAITING."""
    counts = dict.fromkeys(("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"), 0)
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts


def trial_rows(study: Any) -> list[dict[str, Any]]:
    """One plain dict per trial: number, state, value, seconds, each parameter, train/dev error..."""
    names = list(dict.fromkeys(name for t in study.get_trials(deepcopy=False) for name in t.params))
    rows = []
    for trial in study.get_trials(deepcopy=False):
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds() \
            if trial.datetime_complete and trial.datetime_start else None
        row: dict[str, Any] = {"number": trial.number, "state": trial.state.name, "value": trial.value,
                               "seconds": seconds}
        row.update({name: decode_choice(trial.params[name]) if name in trial.params else None for name in names})
        row.update({key: trial.user_attrs.get(key) for key in ATTRIBUTES})
        row["retry_of"] = trial.system_attrs.get("failed_trial")  # what RetryHeartbeatStaleTrialCallback records
        rows.append(row)
    return rows


def write_outputs(result: Any) -> dict[str, Path]:
    """Write best.yaml, trials.csv, tune.json and the plots of a TuneResult into ``result.dir``."""
    folder = make_folder(result.dir)
    rows = trial_rows(result.study)
    files = {"best": folder / "best.yaml", "trials": folder / "trials.csv", "summary": folder / "tune.json"}
    header = f"# best of study {result.study.study_name!r}: dev error {result.best_value:.6g}\n" \
             f"# neuralab train {files['best']}\n"
    write_text_atomic(files["best"], header + dump_spec(result.best_spec))
    write_text_atomic(files["trials"], csv_text(rows, list(dict.fromkeys(key for row in rows for key in row))
                                                or ["number"]))
    importances = _importances(result.study)
    write_text_atomic(files["summary"], json.dumps(_summary(result, importances), indent=2, default=str))
    files.update(_write_plots(rows, importances, folder, title=result.study.study_name))
    return files


def _summary(result: Any, importances: dict[str, float]) -> dict[str, Any]:
    best = result.study.best_trial
    summary = {"study": result.study.study_name, "storage": hide_password(result.storage_url),
               "best_trial": best.number, "best_dev_error": result.best_value,
               "best_overrides": json.loads(best.user_attrs["overrides"]), "trials": result.counts,
               "importance": importances}
    if result.final_run is not None:
        run = result.final_run
        summary.update({"final_run": str(run.dir), **{f"final_{k}": run.summary[k] for k in
                                                      ("train_error", "dev_error", "test_error")}})
    return summary


def _importances(study: Any) -> dict[str, float]:
    from neuralab.tune.importance import param_importances

    try:
        return param_importances(study)
    except RunError as error:  # too few trials is normal for a short study: no importance, no failure
        log.info("no importance: %s", error.problems[0])
        return {}


def _write_plots(rows: list[dict[str, Any]], importances: dict[str, float], folder: Path, *,
                 title: str) -> dict[str, Path]:
    from neuralab.viz.tuning import plot_history, plot_importance, plot_sensitivity

    params = [key for key in rows[0] if key not in ("number", "state", "value", "seconds", "retry_of", *ATTRIBUTES)] \
        if rows else []
    figures = {"history": plot_history(rows, title=title),
               "sensitivity": plot_sensitivity(rows, params, title=title)}
    if importances:
        figures["importance"] = plot_importance(importances, title=title)
    return {name: save_figure(figure, folder / f"{name}.png") for name, figure in figures.items()}
