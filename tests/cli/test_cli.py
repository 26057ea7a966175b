"""The command line: train, evaluate, predict, info; bad input exits 2 with one line per problem."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from neuralab.cli import main

SPEC = """name: cli-demo
seed: 0
data: {dataset: xor, n_samples: 120}
model: {hidden: [8]}
train: {epochs: 4, batch_size: 16, learning_rate: 0.02}
"""


@pytest.fixture
def spec_file(tmp_path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    return path


def only_run(folder: Path) -> Path:
    [run] = [p for p in folder.iterdir() if p.is_dir()]
    return run


def test_train_with_overrides_then_evaluate_and_predict(spec_file, tmp_path, capsys):
    out = tmp_path / "runs"
    code = main(["train", str(spec_file), "--set", "train.learning_rate=0.01", "--set", "model.hidden=[6,6]",
                 "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "run written to" in printed and "parameters" in printed
    run = only_run(out)
    assert "learning_rate: 0.01" in (run / "spec.yaml").read_text()
    assert "- 6\n  - 6" in (run / "spec.yaml").read_text()

    assert main(["evaluate", str(run)]) == 0
    assert "test_error" in capsys.readouterr().out

    new = tmp_path / "new.csv"
    new.write_text("x1,x2\n1,1\n-1,1\n")
    predictions = tmp_path / "predictions.csv"
    assert main(["predict", str(run), "--input", str(new), "--output", str(predictions)]) == 0
    assert predictions.read_text().splitlines()[0].startswith("x1,x2,prediction,probability_0")


def test_quiet_train_prints_only_the_result(spec_file, tmp_path, capsys):
    assert main(["train", str(spec_file), "--quiet", "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("test accuracy")


def test_a_run_without_a_dev_split_trains_evaluates_and_predicts(spec_file, tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["train", str(spec_file), "--set", "data.split=[0.5,0,0.5]", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "dev" not in printed.split("test accuracy")[1].splitlines()[0]
    assert main(["evaluate", str(only_run(out))]) == 0


@pytest.mark.parametrize("topic, expected", [
    ("activations", "leaky_relu"), ("optimizers", "adadelta"), ("schedules", "bold_driver"),
    ("inits", "he_normal"), ("losses", "hinge"), ("datasets", "multi_gauss"), ("spec", "train.learning_rate"),
    ("l1_styles", "playground"),
])
def test_info_topics(topic, expected, capsys):
    assert main(["info", topic]) == 0
    assert expected in capsys.readouterr().out


@pytest.mark.parametrize("args, expected", [
    (["--set", "train.optimizer=adm"], "train.optimizer: 'adm' is not one of"),
    (["--set", "train.lerning_rate=1"], "did you mean 'learning_rate'"),
    (["--set", "model.hidden=[0]"], "model.hidden"),
    (["--set", "data.dataset=csv", "--set", "data.path=/nonexistent.csv"], "does not exist"),
    (["--set", "data.dataset=diabetes", "--set", "train.loss=hinge"], "train.loss"),
])
def test_bad_input_exits_2_with_the_field_named(spec_file, tmp_path, capsys, args, expected):
    out = tmp_path / "runs"
    assert main(["train", str(spec_file), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not out.exists()  # refused before any work: nothing written


def test_unknown_info_topic_and_missing_run_exit_2(tmp_path, capsys):
    assert main(["info", "colours"]) == 2
    assert main(["evaluate", str(tmp_path / "nope")]) == 2
    assert main(["train"]) == 2  # missing argument is a usage error
    assert "Traceback" not in capsys.readouterr().err


def test_installed_script_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: {optimizer: adm, epochs: -3}\n")
    script = Path(sys.executable).with_name("neuralab")
    result = subprocess.run([str(script), "train", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "train.optimizer" in result.stderr and "train.epochs" in result.stderr
    assert "Traceback" not in result.stderr
