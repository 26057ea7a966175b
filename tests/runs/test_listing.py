"""Reading run directories without loading their weights: status, spec, summary, metrics so far."""
from __future__ import annotations

import pytest

import neuralab
from neuralab.errors import RunError
from neuralab.runs.layout import start_run
from neuralab.runs.listing import find_runs, read_run_record, run_status

SPEC = {"name": "rec", "data": {"dataset": "xor", "n_samples": 60}, "model": {"hidden": [4]}, "train": {"epochs": 2}}


def test_a_run_stopped_before_its_first_checkpoint_is_incomplete(tmp_path):
    folder = start_run(neuralab.load_spec(SPEC), tmp_path)  # what training writes first: spec.yaml
    record = read_run_record(folder)
    assert (record.status, record.summary, record.history) == ("incomplete", None, [])
    assert record.spec.name == "rec" and record.started == pytest.approx((folder / "spec.yaml").stat().st_mtime)


def test_finished_runs_are_found_and_read(tmp_path):
    run = neuralab.train(SPEC, out_dir=tmp_path)
    (tmp_path / "not-a-run").mkdir()
    assert find_runs(tmp_path) == [run.dir] and run_status(run.dir) == "finished"
    record = read_run_record(run.dir)
    assert record.summary["test_error"] == run.summary["test_error"] and record.summary["epochs_run"] == 2
    assert [row["epoch"] for row in record.history] == [1.0, 2.0]


def test_a_tampered_summary_is_refused(tmp_path):
    run = neuralab.train(SPEC, out_dir=tmp_path)
    (run.dir / "summary.json").write_text("[1, 2]")
    with pytest.raises(RunError, match="summary.json: expected a mapping"):
        read_run_record(run.dir)


# --------------------------------------------------------------------------- status, and evaluate saying it

from neuralab.cli import main  # noqa: E402
from neuralab.errors import TrainingInterrupted  # noqa: E402
from neuralab.runs.locking import hold_run  # noqa: E402
from neuralab.training import Callback  # noqa: E402

WILD = {"name": "wild", "data": {"dataset": "circle", "n_samples": 200},
        "model": {"hidden": [32, 32], "init": "normal", "init_std": 3.0},
        "train": {"optimizer": "sgd", "learning_rate": 5.0, "epochs": 3, "batch_size": 16}}


class StopAfterEpochTwo(Callback):
    def on_epoch_end(self, state):
        if len(state.history) == 2:
            state.interrupted = "SIGTERM"  # what the signal handler sets


def test_a_diverged_run_is_scored_with_a_warning(tmp_path, capsys):
    run = neuralab.train(WILD, out_dir=tmp_path)
    assert run_status(run.dir) == "diverged"
    assert main(["evaluate", str(run.dir)]) == 0
    out = capsys.readouterr().out
    assert "warning: this run diverged — diverged:" in out and "test_error" in out


def test_an_interrupted_run_is_refused_by_evaluate_with_how_to_resume(tmp_path, capsys):
    with pytest.raises(TrainingInterrupted) as caught:
        neuralab.train({**SPEC, "train": {"epochs": 3}}, out_dir=tmp_path, callbacks=[StopAfterEpochTwo()])
    folder = caught.value.run_dir
    assert run_status(folder) == "interrupted"
    assert main(["evaluate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "is incomplete — training stopped after epoch 2" in err and f"neuralab train --resume {folder}" in err
    with hold_run(folder):  # what a process training it holds
        assert run_status(folder) == "training"
        with pytest.raises(RunError, match="is incomplete — a process is training it right now"):
            neuralab.load_run(folder)
    assert run_status(folder) == "interrupted"
    assert neuralab.resume(folder).summary["epochs_run"] == 3 and run_status(folder) == "finished"


def test_the_status_reads_no_tensors(tmp_path):
    run = neuralab.train(SPEC, out_dir=tmp_path)
    (run.dir / "model.safetensors").write_bytes(b"garbage")  # a listing does not load the model
    assert run_status(run.dir) == "finished"
