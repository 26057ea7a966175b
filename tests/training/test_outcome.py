"""A classifier that ends at chance level is said to, with its likely cause; garbage is never a success."""
from __future__ import annotations

import numpy as np
import pytest

import neuralab
from neuralab.cli import main
from neuralab.errors import DIVERGED_EXIT_CODE
from neuralab.spec import load_spec
from neuralab.training.outcome import chance_error, chance_warning, rate_too_high

STALLED = {"data": {"dataset": "circle", "n_samples": 200}, "train": {"optimizer": "rmsprop", "learning_rate": 10,
                                                                     "epochs": 5}}


def test_chance_error_is_the_error_of_guessing_the_most_frequent_class():
    assert chance_error(np.array([0, 1, 1, 1])) == pytest.approx(0.25)
    assert chance_error(np.array([[0, 2], [2, 2]])) == pytest.approx(0.25)  # (n, T) targets count every step
    assert chance_error(np.arange(10) % 10) == pytest.approx(0.9)


@pytest.mark.parametrize("overrides, cause", [
    ({"train.optimizer": "adam", "train.learning_rate": 10}, "learning rate too high (10 for adam; above 0.01"),
    ({"model.init": "zeros"}, "symmetry problem"),
    ({"train.optimizer": "sgd", "train.learning_rate": 1e-6}, "learning rate too low (1e-06 for sgd)"),
    ({}, "neuralab diagnose"),
])
def test_a_warning_names_the_likely_cause(overrides, cause):
    spec = load_spec(None, overrides=overrides)
    warning = chance_warning(spec, errors={"train": 0.5, "dev": 0.49}, chance=0.5)
    assert warning.startswith("the classifier ended at chance level") and cause in warning


def test_no_warning_when_the_classifier_learned_or_only_overfits():
    spec = load_spec(None)
    assert chance_warning(spec, errors={"train": 0.1, "dev": 0.2}, chance=0.5) == ""
    assert chance_warning(spec, errors={"train": 0.0, "dev": 0.5}, chance=0.5) == ""  # variance, not chance
    assert chance_warning(spec, errors={"train": 0.5, "dev": 0.5}, chance=0.0) == ""


def test_the_rate_rule_reads_the_catalog():
    assert rate_too_high(load_spec(None, overrides={"train.learning_rate": 0.02}).train).startswith("learning rate too high")
    assert rate_too_high(load_spec(None, overrides={"train.learning_rate": 0.01}).train) == ""  # adam's high rate
    assert rate_too_high(load_spec(None, overrides={"train.optimizer": "adadelta", "train.learning_rate": 1}).train) == ""


def test_a_run_at_chance_level_keeps_the_warning_and_train_prints_it(tmp_path, capsys):
    run = neuralab.train(STALLED, out_dir=None)
    assert not run.summary["diverged"] and run.summary["train_error"] == pytest.approx(0.5, abs=0.05)
    assert len(run.summary["warnings"]) == 1 and "learning rate too high (10 for rmsprop" in run.summary["warnings"][0]
    spec = tmp_path / "stalled.yaml"
    spec.write_text("data: {dataset: circle, n_samples: 200}\ntrain: {optimizer: rmsprop, learning_rate: 10, epochs: 5}\n")
    assert main(["train", str(spec), "--out", str(tmp_path / "runs"), "--quiet"]) == 0  # a warning, not a failure
    printed = capsys.readouterr().out
    assert "warning: the classifier ended at chance level" in printed and "learning rate too high" in printed
    folder = next((tmp_path / "runs").iterdir())
    assert neuralab.load_run(folder).summary["warnings"] == run.summary["warnings"]
    assert main(["evaluate", str(folder)]) == 0
    assert "warning: the classifier ended at chance level" in capsys.readouterr().out


def test_a_good_run_has_no_warning():
    run = neuralab.train({**STALLED, "train": {"learning_rate": 0.01, "epochs": 30}}, out_dir=None)
    assert run.summary["dev_error"] < 0.2 and run.summary["warnings"] == []


def test_the_issues_blow_up_on_the_last_step_is_not_saved_as_a_success(tmp_path, capsys):
    """Issue 18: digits, sgd, learning rate 10, full batch, 7 epochs once ended "completed all epochs", exit 0."""
    spec = tmp_path / "blowup.yaml"
    spec.write_text("data: {dataset: digits}\ntrain: {optimizer: sgd, learning_rate: 10, batch_size: full, epochs: 7}\n")
    assert main(["train", str(spec), "--out", str(tmp_path / "runs"), "--quiet"]) == DIVERGED_EXIT_CODE
    printed = capsys.readouterr().out
    assert "stopped: diverged" in printed and "likely cause: learning rate too high (10 for sgd" in printed
    run = neuralab.load_run(next((tmp_path / "runs").iterdir()))
    assert run.summary["diverged"] and run.summary["stop_reason"] != "completed all epochs"
    assert all(np.isfinite(run.summary[f"{split}_loss"]) for split in ("train", "dev", "test"))
    assert all(p.isfinite().all() for p in run.model.parameters())  # the last finite weights
