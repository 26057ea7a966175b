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


def test_nproc_refuses_a_bad_spec_before_starting_any_process(spec_file, tmp_path, capsys, monkeypatch):
    import neuralab.cli.processes as processes

    monkeypatch.setattr(processes, "run_torchrun", lambda *a, **k: pytest.fail("torchrun started"))
    code = main(["train", str(spec_file), "--nproc", "2", "--set", "train.optimizer=adm", "--out", str(tmp_path)])
    assert code == 2 and "train.optimizer: 'adm'" in capsys.readouterr().err
    assert main(["train", str(spec_file), "--nproc", "0"]) == 2  # at least one process


def test_nproc_starts_torchrun_with_the_same_command(spec_file, tmp_path, monkeypatch):
    import neuralab.cli.processes as processes

    started = {}
    monkeypatch.setattr(processes, "run_torchrun", lambda arguments, nproc: started.update(
        arguments=arguments, nproc=nproc) or 0)
    assert main(["train", str(spec_file), "--nproc", "3", "--set", "train.epochs=2", "--out", str(tmp_path), "-q"]) == 0
    assert started == {"nproc": 3, "arguments": ["train", str(spec_file), "--set", "train.epochs=2",
                                                 "--out", str(tmp_path), "--quiet"]}
def test_train_a_csv_without_a_spec_prints_the_spec_it_used(tmp_path, capsys):
    """Issue 17: `neuralab train data.csv --target label` works without a spec file."""
    data = tmp_path / "my points.csv"
    data.write_text("id,a,b,label\n" + "".join(f"p{i},{i % 7},{(i * 3) % 5},{'yes' if i % 7 > 3 else 'no'}\n"
                                              for i in range(60)))
    code = main(["train", str(data), "--target", "label", "--set", "data.drop=[id]", "--set", "train.epochs=2",
                 "--set", "model.hidden=[4]", "--out", str(tmp_path / "runs")])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("spec used") and "name: my_points" in printed and "target: label" in printed
    assert "epoch 2/2" in printed  # piped: plain lines
    run = only_run(tmp_path / "runs")
    saved = (run / "spec.yaml").read_text()
    assert f"path: {data}" in saved and "target: label" in saved and "n_samples" not in saved


def test_every_command_that_takes_a_spec_also_takes_a_data_file_and_its_target(tmp_path, capsys):
    """A newcomer who trained `neuralab train cancer.csv --target target` tried `baseline` the same way:
    baseline, doctor, sweep and lr-find read a data file and --target as train does."""
    data = tmp_path / "points.csv"
    data.write_text("label,a,b\n" + "".join(f"{i % 2},{i % 5},{(i * 0.37) % 5:.3f}\n" for i in range(80)))
    small = ["--set", "train.epochs=2", "--set", "model.hidden=[4]"]
    out = ["--out", str(tmp_path / "out")]
    assert main(["baseline", str(data), "--target", "label", "--no-network"]) == 0
    assert "logistic_regression" in capsys.readouterr().out
    assert main(["lr-find", str(data), "--target", "label", "--steps", "20", *small, *out]) == 0
    assert (tmp_path / "out" / "points-lr-find").is_dir()
    suggestion = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("try: "))
    assert suggestion.startswith(f"try: neuralab train {data} --target label --set train.epochs=2 --set "
                                 "'model.hidden=[4]' --set train.learning_rate=")  # the user's command, runnable
    assert main(["sweep", str(data), "-t", "label", "--param", "train.learning_rate", "--values", "0.01,0.1", "-q",
                 *small, *out]) == 0
    assert main(["doctor", str(data), "--target", "label", "--rounds", "1", *small, *out]) == 0
    printed = capsys.readouterr().out
    assert "round 0" in printed and "rounds written to" in printed
    assert main(["baseline", str(data), "--no-network"]) == 0  # no --target: the last column (b, real numbers),
    assert "ridge" in capsys.readouterr().out                 # as train reads it: a regression, so ridge regression


def test_train_with_set_data_path_alone(tmp_path, capsys):
    data = tmp_path / "points.csv"
    data.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    assert main(["train", "--set", f"data.path={data}", "--set", "train.epochs=1", "--quiet",
                 "--out", str(tmp_path / "runs")]) == 0
    assert "dataset: csv" in (only_run(tmp_path / "runs") / "spec.yaml").read_text()
    assert main(["train", "--quiet"]) == 2
    assert "a data file (neuralab train data.csv --target COLUMN)" in capsys.readouterr().err


def test_the_csv_example_trains_from_any_directory(tmp_path, monkeypatch, capsys):
    example = Path(__file__).resolve().parents[2] / "examples" / "csv.yaml"
    monkeypatch.chdir(tmp_path)  # the example's data.path is beside it, not here
    assert main(["train", str(example), "--set", "train.epochs=1", "--quiet", "--out", "runs"]) == 0
    assert "test accuracy" in capsys.readouterr().out
