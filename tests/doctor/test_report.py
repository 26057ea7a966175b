"""The written report: standard JSON, Markdown tables, and what a diverged run's report says."""
from __future__ import annotations

import json
import math

import neuralab
from neuralab.doctor.diagnosis import diagnose
from neuralab.doctor.report import markdown_table, report_markdown, write_report
from neuralab.runs.files import json_safe


def test_json_safe_turns_non_finite_numbers_into_null():
    value = {"a": [1.0, math.nan, {"b": math.inf}], "c": (2, -math.inf), "d": "text"}
    assert json_safe(value) == {"a": [1.0, None, {"b": None}], "c": [2, None], "d": "text"}
    json.dumps(json_safe(value), allow_nan=False)


def test_markdown_table():
    assert markdown_table(["x", "y"], [[1, "a"], [2, "b"]]).splitlines() == ["| x | y |", "|---|---|", "| 1 | a |",
                                                                              "| 2 | b |"]


def test_a_diverged_runs_report_names_the_cause(tmp_path):
    wild = neuralab.train({"data": {"dataset": "circle", "n_samples": 200},
                           "model": {"hidden": [32, 32], "init": "normal", "init_std": 3.0},
                           "train": {"optimizer": "sgd", "learning_rate": 5.0, "epochs": 3, "batch_size": 16},
                           "diagnose": {"health_every": 1}}, out_dir=None)
    result = diagnose(wild, learning_curves=False)
    text = report_markdown(result)
    assert "## Diverged" in text and "learning rate too high" in text and "exploding" in text
    folder = write_report(result, wild, tmp_path)
    report = json.loads((folder / "report.json").read_text())
    assert report["diverged"] is True and report["divergence_cause"] == result.divergence_cause
    assert (folder / "gradient_norms.png").is_file() and not (folder / "learning_curve.png").exists()
