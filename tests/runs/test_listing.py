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
