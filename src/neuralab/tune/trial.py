"""One trial: train a spec on the train split and score it on dev — the test split is never read.

Model selection must not see the test split, so a trial does not call ``neuralab.train``
(which scores all three splits): it builds the same network and runs the same loop, and
returns train and dev scores only. The data are cached between trials that share a data
section, since a study usually varies the network and the optimiser, not the data.

Example:
    >>> from neuralab.spec import load_spec
    >>> spec = load_spec({"data": {"dataset": "xor", "n_samples": 100}, "model": {"hidden": [4]},
    ...                   "train": {"epochs": 2}})
    >>> sorted(train_on_dev(spec))[:5]
    ['dev_error', 'dev_loss', 'diverged', 'epochs_run', 'history']
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from neuralab.errors import SpecError
from neuralab.spec import ExperimentSpec
from neuralab.spec.problems import no_dev_split
from neuralab.training import Callback
from neuralab.training.callbacks.tensorboard import TensorBoardLogger, hparam_values, require_tensorboard
from neuralab.training.experiment import Experiment, cached_data


NO_DEV = no_dev_split("tuning: each trial is scored on the dev split (never on the test split)",
                      "these data have no dev rows", remedy="and tune again")


def dev_split_problems(spec: ExperimentSpec) -> list[str]:
    """[the reason] when the spec's split declares no dev split (a split column is found out by the first trial)."""
    return [NO_DEV] if isinstance(spec.data.split, list) and spec.data.split[1] == 0 else []


def train_on_dev(spec: ExperimentSpec, *, callbacks: Iterable[Callback] = (),
                 cache: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train ``spec`` and score the kept weights on train and dev.

    Args:
        spec: the trial's full spec.
        callbacks: training callbacks (the pruning reporter, progress...).
        cache: a dict shared by the trials of one study, to load each data set once
            (see :func:`neuralab.training.experiment.cached_data`); default: load afresh.

    Returns:
        ``train_error``, ``dev_error``, ``train_loss``, ``dev_loss``, ``n_parameters``, ``diverged``,
        ``epochs_run``, ``stop_reason``, ``history``.
    """
    experiment = Experiment.from_spec(spec, bundle=cached_data(spec, cache))
    if experiment.bundle.n_dev == 0:
        raise SpecError(NO_DEV)
    state = experiment.fit(callbacks, record_health=False)
    scores = experiment.score(["train", "dev"])
    return result_row(state, scores, n_parameters=experiment.n_parameters)


def result_row(state, scores: dict[str, dict[str, float]], *, n_parameters: int | None = None) -> dict[str, Any]:
    """What a trial reports: train and dev error and loss of the kept weights, its size, and how training went."""
    if "dev" not in scores:
        raise SpecError(NO_DEV)
    return {
        "train_error": scores["train"]["error"], "dev_error": scores["dev"]["error"],
        "train_loss": scores["train"]["loss"], "dev_loss": scores["dev"]["loss"], "n_parameters": n_parameters,
        "diverged": state.diverged, "epochs_run": len(state.history),
        "stop_reason": state.stop_reason or "completed all epochs", "history": state.history,
    }


def trial_board(spec: ExperimentSpec, trial: Any, values: dict[str, Any]) -> TensorBoardLogger | None:
    """A trial's TensorBoard run, ``<train.tensorboard>/<study>-trial-<number>``, with the
    trial's sampled ``values`` as its hyperparameters — so TensorBoard's HParams view
    compares the trials. None when ``train.tensorboard`` is off.
    """
    if not spec.train.tensorboard:
        return None
    require_tensorboard()
    folder = Path(spec.train.tensorboard) / f"{trial.study.study_name}-trial-{trial.number:04d}"
    return TensorBoardLogger(folder, every=None if spec.diagnose.health_every else 0, hyperparameters=hparam_values(values))
