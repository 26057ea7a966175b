"""One trial: train a spec on the train split and score it on dev — the test split is never read.

Model selection must not see the test split, so a trial does not call ``neuralab.train``
(which scores all three splits): it builds the same network and runs the same loop, and
returns train and dev scores only. The data are cached between trials that share a data
section, since a study usually varies the network and the optimiser, not the data.

Example:
    >>> from neuralab.spec import load_spec
    >>> spec = load_spec({"data": {"dataset": "xor", "n_samples": 100}, "model": {"hidden": [4]},
    ...                   "train": {"epochs": 2}})
    >>> sorted(train_on_dev(spec))
    ['dev_error', 'diverged', 'epochs_run', 'history', 'stop_reason', 'train_error']
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any


from neuralab.training.setup import prepare, torch_threads
from neuralab.data import DataBundle, load_data
from neuralab.spec import ExperimentSpec
from neuralab.training import Callback, fit
from neuralab.training.callbacks.tensorboard import TensorBoardLogger, hparam_values, require_tensorboard
from neuralab.training.evaluate import evaluate_split


class DataCache:
    """Keeps the last loaded data bundle, keyed by the data section and the seed."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.bundle: DataBundle | None = None

    def get(self, spec: ExperimentSpec) -> DataBundle:
        key = json.dumps([spec.data.model_dump(mode="json"), spec.seed], sort_keys=True)
        if key != self.key:
            self.bundle, self.key = load_data(spec.data, seed=spec.seed), key
        return self.bundle


def train_on_dev(spec: ExperimentSpec, *, callbacks: Iterable[Callback] = (),
                 cache: DataCache | None = None) -> dict[str, Any]:
    """Train ``spec`` and score the kept weights on train and dev.

    Args:
        spec: the trial's full spec.
        callbacks: training callbacks (the pruning reporter, progress...).
        cache: a :class:`DataCache` shared by the trials of one study (default: load afresh).

    Returns:
        ``train_error``, ``dev_error``, ``diverged``, ``epochs_run``, ``stop_reason``, ``history``.
    """
    bundle = (cache or DataCache()).get(spec)
    setup = prepare(spec, bundle)
    head, model, scale = setup.head, setup.model, setup.target_scale
    train = setup.tensors(bundle.x_train, bundle.y_train)
    dev = setup.tensors(bundle.x_dev, bundle.y_dev)
    with torch_threads(setup.threads):
        state = fit(model, head, spec, train=train, dev=dev, callbacks=callbacks, target_scale=scale)
        scores = {name: evaluate_split(model, head, *split, target_scale=scale)
                  for name, split in (("train", train), ("dev", dev))}
    return {
        "train_error": scores["train"]["error"], "dev_error": scores["dev"]["error"],
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
    return TensorBoardLogger(folder, every=spec.diagnose.health_every, hyperparameters=hparam_values(values))
