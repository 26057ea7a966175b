"""ONNX and TorchScript exports take raw rows and give neuralab.predict's outputs (to 1e-5), any batch size."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import neuralab
from neuralab.data import load_data
from neuralab.errors import RunError, SpecError, TrainingInterrupted
from neuralab.export import export_run
from neuralab.training import Callback

onnxruntime = pytest.importorskip("onnxruntime")  # the `onnx` extra; `make test` installs it
onnx = pytest.importorskip("onnx")

FEATURES = {"name": "circle-features", "data": {"dataset": "circle", "n_samples": 150, "noise": 0.1,
                                                  "features": ["x1", "x2", "x1^2", "x1*x2", "sin(x2)"]},
            "model": {"hidden": [8, 8], "batch_norm": True, "dropout": 0.1}, "train": {"epochs": 3, "batch_size": 16}}
REGRESSION = {"name": "plane", "data": {"dataset": "plane", "n_samples": 120, "noise": 0.1},
              "model": {"hidden": [6]}, "train": {"epochs": 3, "batch_size": 16}}


class Interrupt(Callback):
    def on_epoch_end(self, state):
        state.interrupted = "SIGINT"  # what Ctrl-C sets


def raw_test_rows(run) -> np.ndarray:
    """The run's test split as raw rows (what a prediction file holds), from an independent data load."""
    return load_data(run.spec.data, seed=run.spec.seed).raw_test


def expected_probabilities(run, rows) -> np.ndarray:
    table = neuralab.predict(run, rows)
    return np.stack([table[f"probability_{label}"] for label in run.summary["classes"]], axis=1)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    return neuralab.train(FEATURES, out_dir=tmp_path_factory.mktemp("runs"))


def test_onnx_takes_raw_rows_with_features_and_standardisation(classifier, tmp_path):
    result = export_run(classifier.dir, format="onnx", output=tmp_path / "model.onnx")
    assert result.outputs == ["probabilities", "label"] and result.inputs == ["x1", "x2"]
    session = onnxruntime.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    [given] = session.get_inputs()
    assert given.name == "inputs" and given.shape[1] == 2 and isinstance(given.shape[0], str)  # dynamic batch
    rows = raw_test_rows(classifier)
    for batch in (rows[:1], rows[:7], rows):
        probabilities, labels = session.run(None, {"inputs": batch})
        np.testing.assert_allclose(probabilities, expected_probabilities(classifier, batch), atol=1e-5, rtol=0)
        assert labels.tolist() == neuralab.predict(classifier, batch)["prediction"]
    metadata = {entry.key: entry.value for entry in onnx.load(str(result.path)).metadata_props}
    assert json.loads(metadata["neuralab.classes"]) == [0, 1] and metadata["neuralab.task"] == "binary"
    assert json.loads(metadata["neuralab.input_columns"]) == ["x1", "x2"]


def test_onnx_regression_gives_values_in_the_targets_units(tmp_path):
    run = neuralab.train(REGRESSION, out_dir=None)
    result = export_run(run, format="onnx", output=tmp_path / "plane.onnx")
    session = onnxruntime.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    rows = raw_test_rows(run)
    [values] = session.run(None, {"inputs": rows})
    expected = np.asarray(neuralab.predict(run, rows)["prediction"])
    assert result.outputs == ["prediction"] and np.std(expected) > 0.1  # not standardised units
    np.testing.assert_allclose(values, expected, atol=1e-5, rtol=1e-5)


def test_onnx_keeps_string_class_labels_in_its_metadata(tmp_path):
    generator = np.random.default_rng(0)
    points = generator.normal(size=(90, 2))
    labels = np.where(points[:, 0] + points[:, 1] > 0, "yes", "no")
    lines = ["a,b,answer"] + [f"{x:.4f},{y:.4f},{label}" for (x, y), label in zip(points, labels)]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    run = neuralab.train({"data": {"dataset": "csv", "path": str(tmp_path / "data.csv")}, "model": {"hidden": [4]},
                          "train": {"epochs": 2}}, out_dir=None)
    result = export_run(run, format="onnx", output=tmp_path / "answer.onnx")
    session = onnxruntime.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    rows = points[:10].astype(np.float32)
    _, indices = session.run(None, {"inputs": rows})
    assert result.classes == ["no", "yes"]
    assert [result.classes[i] for i in indices] == neuralab.predict(run, rows)["prediction"]


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_torchscript_takes_raw_rows_and_any_batch(classifier, tmp_path):
    result = export_run(classifier, format="torchscript", output=tmp_path / "model.pt")
    extra = {"neuralab.json": ""}
    loaded = torch.jit.load(str(result.path), _extra_files=extra)
    assert json.loads(json.loads(extra["neuralab.json"])["neuralab.outputs"]) == ["probabilities", "label"]
    rows = raw_test_rows(classifier)
    for batch in (rows[:1], rows):
        probabilities, labels = loaded(torch.from_numpy(batch))
        np.testing.assert_allclose(probabilities.detach().numpy(), expected_probabilities(classifier, batch),
                                   atol=1e-5, rtol=0)
        assert labels.tolist() == neuralab.predict(classifier, batch)["prediction"]


def test_export_refuses_what_it_cannot_export(classifier, tmp_path, monkeypatch):
    with pytest.raises(SpecError, match="--format: 'tflite' is not one of onnx, torchscript"):
        export_run(classifier, format="tflite", output=tmp_path / "m")
    broken = neuralab.load_run(classifier.dir)
    with torch.no_grad():
        broken.model.output.weight[0, 0] = float("nan")
    with pytest.raises(RunError, match="weights hold NaN or inf"):
        export_run(broken, format="torchscript", output=tmp_path / "m.pt")
    with pytest.raises(TrainingInterrupted) as stopped:
        neuralab.train(REGRESSION, out_dir=tmp_path, callbacks=[Interrupt()])
    with pytest.raises(RunError, match="is incomplete"):
        export_run(stopped.value.run_dir, format="torchscript", output=tmp_path / "m.pt")
    monkeypatch.setattr("neuralab.export._importable", lambda name: name != "onnxscript")
    with pytest.raises(RunError, match=r"onnxscript missing.*pip install 'neuralab\[onnx\]'"):
        export_run(classifier, format="onnx", output=tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists() and not (tmp_path / "m.pt").exists()


def test_export_command(classifier, tmp_path, capsys):
    from neuralab.cli import main

    output = tmp_path / "out" / "circle.pt"
    assert main(["export", str(classifier.dir), "--format", "torchscript", "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    assert f"exported {output}" in printed and "x1, x2" in printed and "largest difference" in printed
    assert output.is_file()
    assert main(["export", str(classifier.dir), "--format", "keras"]) == 2
    assert "is not one of onnx, torchscript" in capsys.readouterr().err
