"""The divergence guard puts back the last finite weights."""
from __future__ import annotations

import re

import torch

from neuralab.training.callbacks import DivergenceGuard
from neuralab.training.events import TrainingState


def test_restores_snapshot_from_the_last_finite_epoch():
    model = torch.nn.Linear(2, 1)
    state = TrainingState(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), rate=None, spec=None)
    guard = DivergenceGuard()
    guard.on_fit_start(state)
    state.history.append({"train_loss": 1.0})
    guard.on_epoch_end(state)
    kept = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.fill_(float("nan"))
    guard.on_diverged(state)
    assert torch.equal(model.weight, kept) and state.kept_epoch == 1


# --------------------------------------------------------------------------- through neuralab.train

import json  # noqa: E402

import pytest  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

import neuralab  # noqa: E402

# The bold driver doubles the rate while the loss falls, until the loss becomes NaN in epoch 8.
RISING = {"data": {"dataset": "diabetes"}, "model": {"hidden": [16]},
          "train": {"optimizer": "sgd", "learning_rate": 0.02, "epochs": 12, "batch_size": 16,
                    "schedule": {"name": "bold_driver", "increase": 2.0}, "checkpoint_every": 1}}


def strip_seconds(history):
    return [{key: value for key, value in row.items() if key != "seconds"} for row in history]


@pytest.fixture(scope="module")
def stopped(tmp_path_factory):
    return neuralab.train(RISING, out_dir=tmp_path_factory.mktemp("runs"))


def test_stop_keeps_the_last_finite_checkpoint_and_reports_it(stopped):
    assert stopped.summary["diverged"] and stopped.summary["epochs_run"] == 7
    assert re.search(r"(NaN|inf) in epoch 8", stopped.summary["stop_reason"]) and "kept the weights of epoch 7" in stopped.summary["stop_reason"]
    manifest = json.loads((stopped.dir / "checkpoint" / "checkpoint.json").read_text())
    assert manifest["epochs_done"] == 7
    saved = load_file(str(stopped.dir / "model.safetensors"))
    assert all(torch.isfinite(tensor).all() for tensor in saved.values())
    again = neuralab.load_run(stopped.dir)  # a diverged run is a finished run: it loads
    assert again.summary["kept_epoch"] == 7


def test_rollback_restores_the_last_finite_state_and_halves_the_rate(stopped):
    run = neuralab.train(RISING, out_dir=None, overrides={"train.on_divergence": "rollback"})
    assert not run.summary["diverged"] and run.summary["epochs_run"] == 12 and run.summary["rollbacks"] >= 1
    assert strip_seconds(run.history[:7]) == strip_seconds(stopped.history)  # back to epoch 7 exactly
    assert run.history[7]["learning_rate"] == pytest.approx(0.16)  # the diverged epoch's 0.32, halved


def test_rollbacks_are_bounded():
    run = neuralab.train({"data": {"dataset": "diabetes"}, "model": {"hidden": [16]},
                          "train": {"optimizer": "sgd", "learning_rate": 1.0, "epochs": 4, "batch_size": 16,
                                    "on_divergence": "rollback", "max_rollbacks": 1}}, out_dir=None)
    assert run.summary["diverged"] and run.summary["rollbacks"] == 1
    assert "after 1 rollback(s)" in run.summary["stop_reason"]
    assert all(torch.isfinite(p).all() for p in run.model.parameters())
