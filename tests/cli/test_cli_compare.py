"""``neuralab runs`` and ``neuralab compare`` on the command line."""
from __future__ import annotations

import pytest

import neuralab
from neuralab.cli import main
from neuralab.errors import TrainingInterrupted
from neuralab.training import Callback

SPEC = {"name": "cli-cmp", "data": {"dataset": "xor", "n_samples": 80}, "model": {"hidden": [4]},
        "train": {"epochs": 2, "batch_size": 16}}


class Interrupt(Callback):
    def on_epoch_end(self, state):
        state.interrupted = "SIGINT"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    first = neuralab.train(SPEC, out_dir=out)
    second = neuralab.train(SPEC, out_dir=out, overrides={"train.optimizer": "rmsprop"})
    with pytest.raises(TrainingInterrupted) as stopped:
        neuralab.train(SPEC, out_dir=out, overrides={"name": "halted"}, callbacks=[Interrupt()])
    return out, first.dir, second.dir, stopped.value.run_dir


def test_runs_prints_one_row_per_run_with_status_and_differing_fields(runs, capsys):
    out, first, second, stopped = runs
    assert main(["runs", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 runs in" in printed and "train.optimizer" in printed and "rmsprop" in printed
    lines = {name: next(line for line in printed.splitlines() if name in line and "│" in line)
             for name in (first.name, second.name, stopped.name)}
    assert "finished" in lines[first.name] and "interrupted" in lines[stopped.name]
    assert "model.hidden" not in printed  # the same in every run
    assert f"resume with: neuralab train --resume {stopped}" in printed


def test_runs_on_an_empty_or_missing_folder(tmp_path, capsys):
    assert main(["runs", str(tmp_path)]) == 0
    assert "no run directories" in capsys.readouterr().out
    assert main(["runs", str(tmp_path / "missing")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_compare_writes_its_files_and_prints_the_diff_and_the_verdicts(runs, tmp_path, capsys):
    _, first, second, stopped = runs
    assert main(["compare", str(first), str(second), str(stopped), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "spec fields that differ" in printed and "the doctor's verdicts" in printed
    assert "bias/variance" in printed and "did not finish" in printed
    assert (tmp_path / "compare.png").is_file() and "## Spec differences" in (tmp_path / "compare.md").read_text()


def test_compare_refuses_a_single_run(runs, tmp_path, capsys):
    assert main(["compare", str(runs[1]), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == "error: compare: give at least two run directories (got 1)"
