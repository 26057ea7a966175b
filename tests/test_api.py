"""The Python API end to end: train → run directory → load → evaluate → predict."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import torch

import neuralab
from neuralab.errors import DataError, RunError, SpecError


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    spec = neuralab.load_spec({"name": "api", "data": {"dataset": "circle", "n_samples": 150, "noise": 0.1},
                               "model": {"hidden": [8, 8]},
                               "train": {"epochs": 6, "batch_size": 16, "learning_rate": 0.02}})
    return neuralab.train(spec, out_dir=tmp_path_factory.mktemp("runs"))


def test_run_directory_holds_the_public_files(saved_run):
    names = {p.name for p in saved_run.dir.iterdir()}
    assert {"spec.yaml", "metrics.csv", "summary.json", "model.safetensors", "model.json",
            "curves.png", "learning_rate.png"} <= names
    assert not any(name.endswith((".pt", ".pth", ".pkl")) for name in names)
    assert not [p for p in saved_run.dir.parent.iterdir() if p.name.startswith(".")]  # no partial folders


def test_summary_and_metrics_have_the_documented_fields(saved_run):
    summary = json.loads((saved_run.dir / "summary.json").read_text())
    for key in ("task", "n_parameters", "n_train", "n_dev", "n_test", "epochs_run", "best_epoch", "train_error",
                "dev_error", "test_error", "train_loss", "dev_loss", "test_loss", "seconds"):
        assert key in summary
    assert summary["n_train"] + summary["n_dev"] + summary["n_test"] == 150
    with open(saved_run.dir / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == summary["epochs_run"] == 6
    assert list(rows[0])[:7] == ["epoch", "train_loss", "train_error", "dev_loss", "dev_error", "learning_rate",
                                 "seconds"]


def test_same_spec_and_seed_give_identical_numbers(saved_run):
    again = neuralab.train(saved_run.spec, out_dir=None)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(again.history) == strip(saved_run.history)
    assert again.summary["test_loss"] == saved_run.summary["test_loss"]
    other = neuralab.train(saved_run.spec, out_dir=None, overrides={"seed": 1})
    assert strip(other.history) != strip(saved_run.history)


def test_loaded_run_predicts_like_the_trained_one(saved_run):
    loaded = neuralab.load_run(saved_run.dir)
    assert loaded.spec == saved_run.spec and loaded.summary["test_error"] == saved_run.summary["test_error"]
    inputs = torch.randn(20, 2)
    assert torch.equal(loaded.model(inputs), saved_run.model.eval()(inputs))


def test_evaluate_rescores_the_test_split(saved_run):
    scores = neuralab.evaluate(saved_run.dir)
    assert scores["test_error"] == pytest.approx(saved_run.summary["test_error"])
    assert scores["test_loss"] == pytest.approx(saved_run.summary["test_loss"], rel=1e-5)


def test_predict_writes_labels_and_probabilities(saved_run, tmp_path):
    new = tmp_path / "new.csv"
    new.write_text("x1,x2\n0,0\n4.5,0\n0.2,-0.1\n")
    out = tmp_path / "predictions.csv"
    table = neuralab.predict(saved_run.dir, new, output=out)
    assert len(table["prediction"]) == 3 and set(table["prediction"]) <= {0, 1}
    for p0, p1 in zip(table["probability_0"], table["probability_1"]):
        assert p0 + p1 == pytest.approx(1.0)
    with open(out) as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["x1", "x2", "prediction", "probability_0", "probability_1"] and len(rows) == 3


def test_predict_refuses_inputs_without_the_columns(saved_run, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(DataError):
        neuralab.predict(saved_run.dir, bad)


def test_regression_run_reports_rmse_and_predicts_in_original_units(tmp_path):
    run = neuralab.train({"data": {"dataset": "diabetes"}, "model": {"hidden": [16]},
                          "train": {"epochs": 30, "learning_rate": 0.01}}, out_dir=None)
    assert run.summary["task"] == "regression" and 0.2 < run.summary["test_r2"] < 1
    assert 30 < run.summary["test_rmse"] < 90  # diabetes targets span 25…346
    predictions = neuralab.predict(run, np.zeros((2, 10), dtype=np.float32))["prediction"]
    assert all(25 < value < 346 for value in predictions)


@pytest.mark.parametrize("file, content, message", [
    ("model.json", "{not json", "cannot be read as JSON"),
    ("model.json", json.dumps({"format": "neuralab.run/1", "n_inputs": 2, "head": {"task": "binary"},
                               "preprocessor": {}, "tensors": {}}), "head"),
    ("spec.yaml", "model: {hidden: [3], activation: evil}\n", "model.activation"),
    ("spec.yaml", "!!python/object/apply:os.system ['true']\n", "cannot be parsed"),
    ("model.safetensors", "garbage", "model.safetensors: does not match the SHA-256 in model.json"),
])
def test_tampered_run_files_are_refused_clearly(saved_run, tmp_path, file, content, message):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(saved_run.dir, copy)
    (copy / file).write_text(content)
    with pytest.raises(RunError) as caught:
        neuralab.load_run(copy)
    assert message in str(caught.value)


def test_spec_with_other_network_than_weights_is_refused(saved_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(saved_run.dir, copy)
    text = (copy / "spec.yaml").read_text().replace("- 8\n  - 8\n", "- 8\n  - 9\n")
    (copy / "spec.yaml").write_text(text)
    with pytest.raises(RunError, match="do not match"):
        neuralab.load_run(copy)


def test_missing_run_is_refused(tmp_path):
    with pytest.raises(RunError, match="not a directory"):
        neuralab.load_run(tmp_path / "nope")
    with pytest.raises(RunError, match="lacks"):
        neuralab.load_run(tmp_path)


def test_spec_problems_are_raised_before_any_work():
    with pytest.raises(SpecError):
        neuralab.train({"train": {"optimizer": "adm"}}, out_dir=None)
    with pytest.raises(SpecError, match="train.loss"):
        neuralab.train({"data": {"dataset": "diabetes"}, "train": {"loss": "cross_entropy"}}, out_dir=None)


def test_language_model_sample_and_next_tokens(tiny_gpt_run):
    assert len("".join(neuralab.sample(tiny_gpt_run, "ROMEO:", length=40, top_p=0.9, seed=3))) == 40
    within = "".join(neuralab.sample(tiny_gpt_run, "ROMEO:", length=10, top_p=0.9, seed=3))  # 16 tokens: one context
    assert within == "".join(neuralab.sample(tiny_gpt_run.dir, "ROMEO:", length=10, top_p=0.9, seed=3, cache=False))
    table = neuralab.next_tokens(tiny_gpt_run.dir, "To be, or not to", top=5)
    assert len(table["tokens"]) == 5 and table["context"][-2:] == ["t", "o"]
    summary = tiny_gpt_run.summary
    assert summary["test_perplexity"] == pytest.approx(math.exp(summary["test_loss"]))
    assert summary["test_bits_per_character"] == pytest.approx(summary["test_loss"] / math.log(2))
    assert summary["steps"] == 30 and summary["step_based"] and summary["uniform_loss"] == pytest.approx(
        math.log(summary["vocab_size"]))


def test_language_model_settings_out_of_range_are_refused(tiny_gpt_run, saved_run):
    with pytest.raises(neuralab.SpecError) as error:
        neuralab.next_tokens(tiny_gpt_run, "To be", temperature=-1, top_p=1.5, top_k=0)
    assert len(error.value.problems) == 3
    with pytest.raises(neuralab.RunError, match="is not a language model"):
        neuralab.next_tokens(saved_run, "x")
