"""Comparing runs: the runs table (statuses, differing fields, scores) and compare.png / compare.md."""
from __future__ import annotations

import pytest

import neuralab
from neuralab.comparison import compare_runs, differing_fields, list_runs, runs_table, spec_values
from neuralab.errors import RunError, TrainingInterrupted
from neuralab.training import Callback

BASE = {"name": "cmp", "data": {"dataset": "xor", "n_samples": 80}, "model": {"hidden": [4]},
        "train": {"epochs": 3, "batch_size": 16, "learning_rate": 0.05}}
DIVERGING = {"name": "boom", "data": {"dataset": "plane", "n_samples": 60}, "model": {"hidden": [4]},
             "train": {"optimizer": "sgd", "learning_rate": 10, "epochs": 3, "batch_size": 8}}


class StopAfterFirstEpoch(Callback):
    def on_epoch_end(self, state):
        state.interrupted = "SIGINT"  # what the signal handler sets on Ctrl-C


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Four runs: two finished (other learning rates), one diverged, one interrupted after epoch 1."""
    out = tmp_path_factory.mktemp("runs")
    neuralab.train(BASE, out_dir=out)
    neuralab.train(BASE, out_dir=out, overrides={"train.learning_rate": 0.2, "model.activation": "tanh"})
    neuralab.train(DIVERGING, out_dir=out)
    with pytest.raises(TrainingInterrupted):
        neuralab.train(BASE, out_dir=out, overrides={"name": "stopped"}, callbacks=[StopAfterFirstEpoch()])
    return out


def by_name(records):
    return {record.spec.name + ("-fast" if record.spec.train.learning_rate == 0.2 else ""): record
            for record in records}


def test_list_runs_reads_every_status(folder):
    records, problems = list_runs(folder)
    runs = by_name(records)
    assert not problems
    assert {name: r.status for name, r in runs.items()} == {
        "cmp": "finished", "cmp-fast": "finished", "boom": "diverged", "stopped": "interrupted"}
    assert len(runs["stopped"].history) == 1 and runs["stopped"].summary is None
    assert len(runs["cmp"].history) == 3 and runs["cmp"].summary["epochs_run"] == 3


def test_runs_table_shows_the_fields_that_differ_and_the_scores(folder):
    records, _ = list_runs(folder)
    header, rows = runs_table(records)
    fields = header[5:-3]
    # Every field that differs between the four specs, and none that is the same in all of them.
    assert fields == differing_fields([r.spec for r in records])
    assert {"train.learning_rate", "model.activation", "data.dataset", "train.optimizer"} <= set(fields)
    assert "name" not in fields and "model.hidden" not in fields
    table = {row[0]: dict(zip(header, row)) for row in rows}
    finished = table[by_name(records)["cmp"].dir.name]
    summary = by_name(records)["cmp"].summary
    assert finished["status"] == "finished" and finished["task"] == "binary"
    assert finished["model"] == "mlp 4 relu" and finished["epochs"] == "3"
    assert finished["test"] == f"{summary['test_error']:.1%}" and finished["dev"] == f"{summary['dev_error']:.1%}"
    diverged = table[by_name(records)["boom"].dir.name]
    assert diverged["status"] == "diverged" and diverged["test"].startswith("RMSE ")  # regression: RMSE
    stopped = table[by_name(records)["stopped"].dir.name]
    history = by_name(records)["stopped"].history
    assert stopped["status"] == "interrupted" and stopped["test"] == "—"  # the test split is scored at the end only
    assert stopped["dev"] == f"{history[-1]['dev_error']:.1%}"


def test_a_folder_that_is_not_a_run_is_reported_not_fatal(folder, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "spec.yaml").write_text("train: {epochs: -1}\n")
    (tmp_path / "notes").mkdir()  # no spec.yaml: not a run, not listed
    records, problems = list_runs(tmp_path)
    assert records == [] and len(problems) == 1 and "broken/spec.yaml: train.epochs" in problems[0]
    with pytest.raises(RunError, match="is not a directory"):
        list_runs(tmp_path / "missing")


def test_differing_fields_compare_nested_values():
    specs = [neuralab.load_spec(BASE), neuralab.load_spec(BASE, overrides={"train.schedule": "cosine",
                                                                            "model.hidden": [4, 4]})]
    assert differing_fields(specs) == ["model.hidden", "train.schedule.name"]
    assert spec_values(specs[1])["model.hidden"] == [4, 4]


def test_compare_writes_the_figure_and_the_report(folder, tmp_path):
    records, _ = list_runs(folder)
    runs = by_name(records)
    chosen = [runs[name].dir for name in ("cmp", "cmp-fast", "stopped")]
    comparison = compare_runs(chosen, out_dir=tmp_path / "out")
    assert comparison.fields == ["model.activation", "train.learning_rate"]  # the names are not compared
    assert comparison.files["figure"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = comparison.files["report"].read_text()
    assert "| `train.learning_rate` | 0.05 | 0.2 | 0.05 |" in report
    assert "| `model.activation` | relu | tanh | relu |" in report
    verdicts = {row[0]: row[1:] for row in comparison.verdict_rows()}
    assert verdicts["bias/variance"][2] == "— (did not finish)"
    for index in (0, 1):  # the doctor's own verdicts on the finished runs
        diagnosis = neuralab.diagnose(chosen[index], learning_curves=False, write_report=False)
        assert verdicts["bias/variance"][index] == diagnosis.bias_variance.verdict
        assert verdicts["problems"][index] == (", ".join(diagnosis.problems) or "none")
    assert "hidden1" in verdicts["layers"][0]
    assert f"| bias/variance | {verdicts['bias/variance'][0]} |" in report


def test_compare_names_the_divergence_cause(folder, tmp_path):
    runs = by_name(list_runs(folder)[0])
    comparison = compare_runs([runs["cmp"].dir, runs["boom"].dir], out_dir=tmp_path)
    diverged = {row[0]: row[2] for row in comparison.verdict_rows()}["diverged"]
    assert diverged.startswith("yes — ") and "learning rate" in diverged


def test_a_run_without_a_dev_split_is_compared_without_a_diagnosis(folder, tmp_path):
    runs = by_name(list_runs(folder)[0])
    no_dev = neuralab.train(BASE, out_dir=tmp_path / "runs", overrides={"name": "nodev", "data.split": [0.5, 0, 0.5]})
    comparison = compare_runs([runs["cmp"].dir, no_dev.dir], out_dir=tmp_path / "out")
    verdicts = {row[0]: row[1:] for row in comparison.verdict_rows()}
    assert verdicts["bias/variance"][1] == "— (no dev split to diagnose)" and " / — / " in verdicts["train / dev / test"][1]
    assert comparison.files["figure"].exists()


def test_compare_refuses_fewer_than_two_runs_and_non_runs(folder, tmp_path):
    runs = by_name(list_runs(folder)[0])
    with pytest.raises(RunError, match="at least two run directories"):
        compare_runs([runs["cmp"].dir], out_dir=tmp_path)
    with pytest.raises(RunError, match="holds no spec.yaml"):
        compare_runs([runs["cmp"].dir, tmp_path], out_dir=tmp_path)
