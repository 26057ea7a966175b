"""TensorBoard event files, read back with TensorBoard's own EventAccumulator, hold what training did."""
from __future__ import annotations

import json
import time

import pytest

import neuralab
from neuralab.cli import main
from neuralab.errors import SpecError, TrainingInterrupted
from neuralab.training import Callback

pytest.importorskip("tensorboard")  # the `tensorboard` extra; `make test` installs it
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402

SPEC = {"name": "board", "data": {"dataset": "circle", "n_samples": 120}, "model": {"hidden": [6, 6]},
        "train": {"epochs": 4, "batch_size": 16, "learning_rate": 0.02, "schedule": "cosine"},
        "diagnose": {"health_every": 5}}


def events(folder) -> EventAccumulator:
    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def scalars(accumulator, tag) -> list[tuple[int, float]]:
    return [(event.step, event.value) for event in accumulator.Scalars(tag)]


def hparams_of(accumulator) -> plugin_data_pb2.SessionStartInfo:
    content = accumulator.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    return plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("board")
    run = neuralab.train(SPEC, out_dir=root / "runs", overrides={"train.tensorboard": str(root / "tb")})
    return run, events(root / "tb" / run.dir.name)


def test_every_epoch_metric_and_learning_rate_is_written(trained):
    run, board = trained
    for key, tag in (("train_loss", "loss/train"), ("dev_loss", "loss/dev"), ("train_error", "error/train"),
                     ("dev_error", "error/dev"), ("learning_rate", "learning_rate")):
        assert scalars(board, tag) == [(int(row["epoch"]), pytest.approx(row[key], rel=1e-6)) for row in run.history]


def test_histograms_and_layer_health_follow_the_doctors_sampling(trained):
    run, board = trained
    health = run.health
    steps = [sample["step"] for sample in health["samples"]]
    assert steps[:3] == [1, 6, 11]  # every diagnose.health_every = 5 steps
    for layer in ("hidden1", "hidden2", "output"):
        assert [event.step for event in board.Histograms(f"weights/{layer}")] == steps
        assert [event.step for event in board.Histograms(f"gradients/{layer}")] == steps
    index = [layer["name"] for layer in health["layers"]].index("hidden2")
    expected = [(sample["step"], pytest.approx(sample["grad_norm"][index], rel=1e-6)) for sample in health["samples"]]
    assert scalars(board, "health/grad_norm/hidden2") == expected
    assert "health/dead_fraction/hidden1" in board.Tags()["scalars"]  # relu layers: dead units


def test_hyperparameters_with_the_final_metrics(trained):
    run, board = trained
    start = hparams_of(board)
    assert start.hparams["train.learning_rate"].number_value == pytest.approx(0.02)
    assert start.hparams["train.schedule.name"].string_value == "cosine"
    assert json.loads(start.hparams["model.hidden"].string_value) == [6, 6]
    assert "train.tensorboard" not in start.hparams and "name" not in start.hparams
    assert scalars(board, "final/test_error") == [(0, pytest.approx(run.summary["test_error"]))]
    assert scalars(board, "final/epochs_run") == [(0, 4.0)]
    text = board.Tensors("spec/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "learning_rate: 0.02" in text


def test_text_samples_of_a_generative_model_are_written(tmp_path):
    class Sampler(Callback):  # what a language model's sampling callback offers each epoch
        def text_samples(self, state):
            return [f"to be or not {int(state.metrics['epoch'])}"]

    run = neuralab.train(SPEC, out_dir=None, overrides={"train.tensorboard": str(tmp_path), "train.epochs": 2},
                         callbacks=[Sampler()])
    board = events(run.tensorboard)
    texts = board.Tensors("samples/text_summary")
    assert [event.step for event in texts] == [1, 2]
    assert "to be or not 2" in texts[1].tensor_proto.string_val[0].decode()


def test_a_resumed_run_continues_its_event_files_without_repeating_epochs(tmp_path):
    class StopAfterTwo(Callback):
        def on_epoch_end(self, state):
            if len(state.history) == 2:
                state.interrupted = "SIGINT"

    overrides = {"train.tensorboard": str(tmp_path / "tb")}
    whole = neuralab.train(SPEC, out_dir=None, overrides=overrides)
    with pytest.raises(TrainingInterrupted) as stopped:
        neuralab.train(SPEC, out_dir=tmp_path / "runs", overrides=overrides, callbacks=[StopAfterTwo()])
    # TensorBoard reads a folder's event files in name order, and a name holds the second it was
    # made in and a per-process counter: a resume within the same second could sort first.
    time.sleep(1.1)
    resumed = neuralab.resume(stopped.value.run_dir)
    board = events(resumed.tensorboard)
    assert scalars(board, "loss/train") == [(int(row["epoch"]), pytest.approx(row["train_loss"], rel=1e-6))
                                           for row in whole.history]
    health_steps = [step for step, _ in scalars(board, "health/grad_norm/output")]
    assert health_steps == sorted(set(health_steps))  # every sample once


def test_missing_tensorboard_is_refused_before_training(tmp_path, monkeypatch):
    monkeypatch.setattr("neuralab.training.callbacks.tensorboard.tensorboard_installed", lambda: False)
    with pytest.raises(SpecError, match=r"train.tensorboard: .*pip install 'neuralab\[tensorboard\]'"):
        neuralab.train(SPEC, out_dir=tmp_path, overrides={"train.tensorboard": str(tmp_path / "tb")})
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_the_tensorboard_option_of_train(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps({**SPEC, "train": {**SPEC["train"], "epochs": 1}}).replace(".yaml", ""))
    spec = spec.rename(tmp_path / "spec.json")
    assert main(["train", str(spec), "--quiet", "--out", str(tmp_path / "runs"), "--tensorboard", str(tmp_path / "tb")]) == 0
    printed = capsys.readouterr().out
    [folder] = (tmp_path / "tb").iterdir()
    assert f"TensorBoard events in {folder}" in printed and "tensorboard --logdir" in printed
    [run] = (tmp_path / "runs").iterdir()
    assert folder.name == run.name and f"tensorboard: {tmp_path / 'tb'}" in (run / "spec.yaml").read_text()
    assert main(["train", "--resume", str(run), "--tensorboard", str(tmp_path)]) == 2
    assert "--tensorboard: a resumed run keeps the spec it started with" in capsys.readouterr().err
