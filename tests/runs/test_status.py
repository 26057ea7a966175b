"""A run's status in one word: finished, diverged, training, interrupted or damaged — and evaluate says so."""
from __future__ import annotations

import json

import pytest

import neuralab
from neuralab.cli import main
from neuralab.errors import RunError, TrainingInterrupted
from neuralab.runs import run_status
from neuralab.runs.locking import hold_run
from neuralab.runs.status import STATES
from neuralab.training import Callback

SPEC = {"name": "status", "data": {"dataset": "xor", "n_samples": 60}, "model": {"hidden": [4]},
        "train": {"epochs": 3, "batch_size": 8}}
WILD = {"name": "wild", "data": {"dataset": "circle", "n_samples": 200},
        "model": {"hidden": [32, 32], "init": "normal", "init_std": 3.0},
        "train": {"optimizer": "sgd", "learning_rate": 5.0, "epochs": 3, "batch_size": 16}}


class Stop(Callback):
    def on_epoch_end(self, state):
        if len(state.history) == 2:
            state.interrupted = "SIGTERM"  # what the signal handler sets


def test_a_finished_run(tmp_path, capsys):
    run = neuralab.train(SPEC, out_dir=tmp_path)
    status = run_status(run.dir)
    assert (status.state, status.epochs, status.detail) == ("finished", 3, "completed all epochs")
    assert main(["evaluate", str(run.dir)]) == 0 and "warning" not in capsys.readouterr().out


def test_a_diverged_run_is_scored_with_a_warning(tmp_path, capsys):
    run = neuralab.train(WILD, out_dir=tmp_path)
    status = run_status(run.dir)
    assert status.state == "diverged" and status.detail.startswith("diverged: ") and status.epochs < 3
    assert main(["evaluate", str(run.dir)]) == 0
    out = capsys.readouterr().out
    assert "warning: this run diverged — diverged:" in out and "test_error" in out


def test_an_interrupted_run_is_refused_by_evaluate_with_how_to_resume(tmp_path, capsys):
    with pytest.raises(TrainingInterrupted) as caught:
        neuralab.train(SPEC, out_dir=tmp_path, callbacks=[Stop()])
    folder = caught.value.run_dir
    status = run_status(folder)
    assert (status.state, status.epochs) == ("interrupted", 2) and f"neuralab train --resume {folder}" in status.detail
    assert main(["evaluate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "is incomplete (interrupted) — training stopped after epoch 2" in err and "--resume" in err
    with hold_run(folder):
        assert run_status(folder).state == "training"
        with pytest.raises(RunError, match=r"is incomplete \(training\)"):
            neuralab.load_run(folder)
    assert run_status(folder).state == "interrupted"


@pytest.mark.parametrize("files", [
    {},
    {"spec.yaml": "name: x\n"},
    {"spec.yaml": "name: x\n", "summary.json": "[1, 2]"},
    {"spec.yaml": "name: x\n", "summary.json": '{"epochs_run": true, "stop_reason": "x"}'},
    {"spec.yaml": "name: x\n", "checkpoint/checkpoint.json": '{"epochs_done": "3"}'},
], ids=["empty", "spec-only", "summary-list", "summary-bool", "manifest-text"])
def test_anything_else_is_damaged_and_never_raises(tmp_path, files):
    (tmp_path / "checkpoint").mkdir()
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    status = run_status(tmp_path)
    assert status.state == "damaged" and status.epochs is None and status.detail
    assert status.state in STATES


def test_a_missing_folder_is_damaged(tmp_path):
    assert run_status(tmp_path / "nothing").state == "damaged"


def test_the_status_reads_no_tensors(tmp_path):
    run = neuralab.train(SPEC, out_dir=tmp_path)
    (run.dir / "model.safetensors").write_bytes(b"garbage")  # a listing does not load the model
    assert run_status(run.dir).state == "finished"
    summary = json.loads((run.dir / "summary.json").read_text())
    assert summary["epochs_run"] == 3
