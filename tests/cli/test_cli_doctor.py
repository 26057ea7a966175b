"""`neuralab diagnose | doctor | baseline` from the command line; bad input exits 2, one line each."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from neuralab.cli import main
from neuralab.errors import DIVERGED_EXIT_CODE

SPEC = """name: cli-doctor
seed: 0
data: {dataset: circle, n_samples: 200}
model: {hidden: [2]}
train: {epochs: 3, batch_size: 16, learning_rate: 0.01}
diagnose: {health_every: 2, learning_curve_fractions: [0.5, 1.0]}
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cli-doctor")
    spec = folder / "spec.yaml"
    spec.write_text(SPEC)
    assert main(["train", str(spec), "--out", str(folder / "runs"), "--quiet"]) == 0
    [run] = [p for p in (folder / "runs").iterdir() if p.is_dir()]
    return spec, run


def test_diagnose_prints_verdicts_advice_and_writes_the_report(workspace, capsys):
    _, run = workspace
    assert main(["diagnose", str(run), "--train-dev", "0.2"]) == 0
    printed = capsys.readouterr().out
    assert "high_bias" in printed and "advice" in printed and "model.hidden [2] → [16, 16]" in printed
    assert "learning curve:" in printed and "mismatch" in printed
    assert (run / "report.md").is_file() and (run / "learning_curve.png").is_file()


def test_diagnose_json_is_for_scripts(workspace, capsys):
    _, run = workspace
    assert main(["diagnose", str(run), "--json", "--no-curves", "--optimal-error", "0.02"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["bias_variance"]["optimal_error"] == 0.02
    assert report["bias_variance"]["verdict"] == "high_bias" and report["diverged"] is False
    assert report["layers"][0]["name"] == "hidden1" and report["advice"][0]["field"] == "model.hidden"


@pytest.mark.parametrize(("args", "message"), [
    (["--optimal-error", "1.5"], "--optimal-error: 1.5 — must be between 0 and 1"),
    (["--train-dev", "0.9"], "train_dev_fraction: 0.9"),
])
def test_diagnose_bad_flags_exit_2_with_one_line(workspace, capsys, args, message):
    _, run = workspace
    assert main(["diagnose", str(run), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_diagnose_a_folder_that_is_no_run(tmp_path, capsys):
    assert main(["diagnose", str(tmp_path)]) == 2
    assert "lacks" in capsys.readouterr().err


def test_doctor_runs_rounds_and_writes_the_table(workspace, tmp_path, capsys):
    spec, _ = workspace
    assert main(["doctor", str(spec), "--rounds", "1", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "round 0: as given" in printed and "round 1: model.hidden [2] → [16, 16]" in printed
    [folder] = list(tmp_path.glob("doctor-cli-doctor-*"))
    assert (folder / "doctor.md").is_file() and (folder / "best_spec.yaml").is_file()


def test_doctor_bad_spec_override_exits_2(workspace, capsys):
    spec, _ = workspace
    assert main(["doctor", str(spec), "--set", "model.hiden=[4]"]) == 2
    assert "did you mean 'hidden'" in capsys.readouterr().err


def test_baseline_compares_the_network_with_classical_models(workspace, capsys):
    spec, run = workspace
    assert main(["baseline", str(spec), "--no-network"]) == 0
    printed = capsys.readouterr().out
    assert "logistic_regression" in printed and "hist_gradient_boosting" in printed and "network" not in printed
    assert main(["baseline", str(run)]) == 0  # a run directory: its network's scores are reused
    assert "network 2" in capsys.readouterr().out


def test_train_names_the_likely_cause_when_a_run_diverges(tmp_path, capsys):
    spec = tmp_path / "wild.yaml"
    spec.write_text("data: {dataset: circle, n_samples: 200}\nmodel: {hidden: [32, 32], init: normal, init_std: 3.0}\n"
                    "train: {optimizer: sgd, learning_rate: 5.0, epochs: 3, batch_size: 16}\n")
    assert main(["train", str(spec), "--out", str(tmp_path / "runs"), "--quiet"]) == DIVERGED_EXIT_CODE
    printed = capsys.readouterr().out
    assert "diverged" in printed and "likely cause: learning rate too high (5 for sgd" in printed


def test_train_dev_with_no_curves_is_refused_not_skipped(workspace, capsys):
    _, run = workspace
    assert main(["diagnose", str(run), "--train-dev", "0.1", "--no-curves"]) == 2
    assert "drop --no-curves" in capsys.readouterr().err


def test_regression_prints_errors_in_one_unit_and_baselines_with_rmse(tmp_path, capsys):
    spec = tmp_path / "diabetes.yaml"
    spec.write_text("name: sugar\ndata: {dataset: diabetes}\nmodel: {hidden: [16]}\ntrain: {epochs: 3}\n")
    assert main(["train", str(spec), "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    [run] = list((tmp_path / "runs").iterdir())
    capsys.readouterr()
    assert main(["diagnose", str(run), "--no-curves"]) == 0
    printed = capsys.readouterr().out
    verdict_line = next(line for line in printed.splitlines() if "avoidable bias" in line)
    assert "%" not in verdict_line and "optimal error" in printed and "estimated" in printed
    assert main(["baseline", str(run)]) == 0
    printed = capsys.readouterr().out
    assert "fitting ridge…" in printed and "RMSE" in printed and "R²" in printed
    assert run.name[:12] in printed  # titled with the run
