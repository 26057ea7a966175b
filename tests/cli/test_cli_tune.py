"""`neuralab tune | sweep | lr-find | importance`: outputs, and one line per mistake with exit code 2."""
from __future__ import annotations

from pathlib import Path

import pytest

from neuralab.cli import main

SPEC = """name: cli-tune
seed: 0
data: {dataset: xor, n_samples: 120}
model: {hidden: [8]}
train: {epochs: 3, batch_size: 16, learning_rate: 0.02}
"""
SPACE = """params:
  train.learning_rate: {low: 1.0e-3, high: 0.3, log: true}
architecture:
  layers: {low: 1, high: 2}
  width: {low: 4, high: 8}
"""


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "space.yaml").write_text(SPACE)
    return tmp_path / "spec.yaml", tmp_path / "space.yaml"


def test_tune_writes_the_outputs_and_importance_reads_them(files, tmp_path, capsys):
    spec, space = files
    out = tmp_path / "runs"
    code = main(["tune", str(spec), "--space", str(space), "--sampler", "random", "--trials", "4",
                 "--pruner", "median", "--set", "train.epochs=2", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    folder = out / "cli-tune-tune"
    assert "best dev error" in printed and "test error" in printed and "optuna-dashboard sqlite:///" in printed
    assert {"best.yaml", "trials.csv", "history.png", "sensitivity.png"} <= {p.name for p in folder.iterdir()}
    assert main(["train", str(folder / "best.yaml"), "--out", str(tmp_path / "again"), "--quiet"]) == 0
    code = main(["importance", str(folder), "--plot", str(tmp_path / "importance.png")])
    assert code == 0 and "train.learning_rate" in capsys.readouterr().out
    assert (tmp_path / "importance.png").is_file()


def test_the_small_dev_split_warning_is_shown_once(files, tmp_path):
    import subprocess
    import sys

    spec, space = files
    done = subprocess.run([sys.executable, "-m", "neuralab", "tune", str(spec), "--space", str(space), "--trials", "2",
                           "--no-final", "-q", "--set", "train.epochs=1", "--out", str(tmp_path / "runs")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (done.stdout + done.stderr).count("cross-validate on the train + dev rows") == 1


def test_resume_continues_the_same_study(files, tmp_path, capsys):
    spec, space = files
    args = ["tune", str(spec), "--space", str(space), "--sampler", "tpe", "--pruner", "none", "--no-final", "--quiet",
            "--out", str(tmp_path)]
    assert main([*args, "--trials", "2"]) == 0
    assert main([*args, "--trials", "2"]) == 0  # the same command again: a fresh study, not an error
    assert "study cli-tune-2: 2 complete;" in capsys.readouterr().out
    assert main([*args, "--trials", "3", "--resume"]) == 0  # continues the newest
    assert "study cli-tune-2: 3 complete;" in capsys.readouterr().out
    assert main([*args, "--trials", "3", "--study", "cli-tune"]) == 2  # a named one that exists needs --resume
    assert "--resume" in capsys.readouterr().err
    assert main([*args, "--trials", "3", "--study", "cli-tune", "--resume"]) == 0
    assert "study cli-tune: 3 complete;" in capsys.readouterr().out


def test_sweep_and_lr_find(files, tmp_path, capsys):
    spec, _ = files
    code = main(["sweep", str(spec), "--param", "train.batch_size", "--values", "8,full", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert code == 0 and "full" in printed and "dev error" in printed
    assert (tmp_path / "cli-tune-sweep-train.batch_size" / "sensitivity.png").is_file()
    code = main(["lr-find", str(spec), "--steps", "30", "--out", str(tmp_path)])
    assert code == 0 and "suggested learning rate" in capsys.readouterr().out
    assert (tmp_path / "cli-tune-lr-find" / "lr_find.png").is_file()


@pytest.mark.parametrize("args, expected", [
    (["--sampler", "bayes"], ["--sampler: 'bayes' is not one of grid, random, tpe, cmaes"]),
    (["--pruner", "hyperbnd", "--sampler", "tpee"], ["--sampler: 'tpee'", "--pruner: 'hyperbnd'"]),
    (["--set", "train.lerning_rate=1"], ["train.lerning_rate: unknown field"]),
])
def test_bad_options_exit_2_with_one_line_each(files, tmp_path, capsys, args, expected):
    spec, space = files
    code = main(["tune", str(spec), "--space", str(space), "--out", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == len(expected)
    for line, words in zip(lines, expected):
        assert words in line


def test_a_bad_space_names_each_field(files, tmp_path, capsys):
    spec, space = files
    space.write_text("params:\n  train.lerning_rate: {low: 0.1, high: 1}\n  train.learning_rate: {low: 1, high: 0.1}\n")
    code = main(["tune", str(spec), "--space", str(space), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "space.params.train.learning_rate" in err and "must be below high" in err
    space.write_text("params:\n  train.lerning_rate: {low: 0.1, high: 1}\n  train.l2: {low: 0, high: 50}\n")
    code = main(["tune", str(spec), "--space", str(space), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "space.params.train.lerning_rate: unknown field" in err and "train.l2: value 50" in err
    code = main(["sweep", str(spec), "--param", "train.learning_rate", "--values", "1e-3:1:cubic:3"])
    assert code == 2 and "--values" in capsys.readouterr().err
    assert main(["importance", str(tmp_path / "nowhere")]) == 2


def test_the_command_line_starts_without_optuna():
    import subprocess
    import sys

    code = "import sys; from neuralab.cli.app import _register; _register(); print('optuna' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_workers_and_worker_mistakes_exit_2(files, tmp_path, capsys):
    spec, space = files
    assert main(["tune", str(spec), "--space", str(space), "--workers", "0", "--out", str(tmp_path)]) == 2
    code = main(["tune", str(spec), "--space", str(space), "--workers", "2", "--worker", "--out", str(tmp_path)])
    assert code == 2 and "--workers: 2" in capsys.readouterr().err
