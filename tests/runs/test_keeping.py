"""Checkpoints: a signal stops training after the batch, and a resume continues bit for bit."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal

import pytest
import torch
from safetensors.torch import load_file, save

import neuralab
from neuralab.errors import RunError, TrainingInterrupted
from neuralab.runs.checkpoint import manifest_digest
from neuralab.training import Callback

SPEC = {"name": "ckpt", "seed": 3, "data": {"dataset": "spiral", "n_samples": 120, "noise": 0.2, "augment_noise": 0.05},
        "model": {"hidden": [8, 8], "dropout": 0.2},
        "train": {"epochs": 5, "batch_size": 16, "learning_rate": 0.02}}
VARIANTS = [
    {},
    {"train.optimizer": "momentum", "train.schedule": "plateau", "model.batch_norm": True,
     "train.early_stopping.patience": 2},
    {"train.optimizer": "sgd", "train.schedule": "bold_driver", "train.checkpoint_every": 2},
    {"train.optimizer": "adadelta", "train.schedule": {"name": "step", "step_size": 1}, "train.eval_every": 2},
    {"train.optimizer": "nadam", "train.schedule": "cosine", "train.on_divergence": "rollback"},
]


class SignalAt(Callback):
    """Sends ``signal_number`` to this process after optimiser step ``step`` (mid-epoch)."""

    def __init__(self, step: int, signal_number: int = signal.SIGINT):
        self.step, self.signal_number = step, signal_number

    def on_batch_end(self, state):
        if state.step == self.step:
            os.kill(os.getpid(), self.signal_number)


def strip_seconds(history):
    return [{key: value for key, value in row.items() if key != "seconds"} for row in history]


def weights(run):
    return {name: tensor.clone() for name, tensor in run.model.state_dict().items()}


def assert_same_run(resumed, uninterrupted):
    assert strip_seconds(resumed.history) == strip_seconds(uninterrupted.history)
    a, b = weights(resumed), weights(uninterrupted)
    assert a.keys() == b.keys() and all(torch.equal(a[name], b[name]) for name in a)
    for key in ("test_loss", "test_error", "best_epoch", "epochs_run", "stop_reason", "diverged", "rollbacks"):
        assert resumed.summary[key] == uninterrupted.summary[key]


@pytest.mark.parametrize("overrides", VARIANTS, ids=["adam", "plateau-bn-early", "bold-every2", "step-eval2",
                                                     "cosine-rollback"])
def test_interrupt_mid_epoch_then_resume_equals_an_uninterrupted_run(tmp_path, overrides):
    spec = neuralab.load_spec(SPEC, overrides=overrides)
    uninterrupted = neuralab.train(spec, out_dir=tmp_path / "whole")
    with pytest.raises(TrainingInterrupted) as caught:
        neuralab.train(spec, out_dir=tmp_path / "cut", callbacks=[SignalAt(step=13)])  # 5 steps an epoch
    assert caught.value.exit_code == 130 and "--resume" in str(caught.value)
    run_dir = caught.value.run_dir
    assert not (run_dir / "summary.json").exists()
    with pytest.raises(RunError, match="incomplete"):
        neuralab.load_run(run_dir)
    resumed = neuralab.resume(run_dir)
    assert_same_run(resumed, uninterrupted)
    on_disk = [strip_seconds(neuralab.load_run(folder).history) for folder in (run_dir, uninterrupted.dir)]
    assert on_disk[0] == on_disk[1]


def test_sigterm_exits_143_and_signal_handlers_are_restored(tmp_path):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with pytest.raises(TrainingInterrupted) as caught:
        neuralab.train(SPEC, out_dir=tmp_path, callbacks=[SignalAt(step=7, signal_number=signal.SIGTERM)])
    assert caught.value.exit_code == 143 and "SIGTERM" in str(caught.value)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_interrupt_without_run_directory_says_nothing_was_saved():
    with pytest.raises(TrainingInterrupted, match="nothing was saved"):
        neuralab.train(SPEC, out_dir=None, callbacks=[SignalAt(step=3)])


def test_run_directory_is_resumable_during_training_and_clean_after(tmp_path):
    seen = {}

    class Look(Callback):
        def on_epoch_end(self, state):
            if len(state.history) == 2:
                run_dir = next(p for p in tmp_path.iterdir())
                seen["files"] = sorted(p.name for p in run_dir.iterdir())
                seen["manifest"] = json.loads((run_dir / "checkpoint" / "checkpoint.json").read_text())
                seen["metrics"] = (run_dir / "metrics.csv").read_text().splitlines()

    run = neuralab.train(SPEC, out_dir=tmp_path, callbacks=[Look()], overrides={"train.checkpoint_every": 1})
    assert seen["files"] == [".lock", "checkpoint", "metrics.csv", "spec.yaml"]  # .lock: held while it trains
    assert seen["manifest"]["epochs_done"] == 1  # the Look callback runs before the checkpoint of epoch 2
    assert len(seen["metrics"]) == 2  # header + epoch 1 (epoch 2 is appended after every callback)
    assert [p.name for p in tmp_path.iterdir()] == [run.dir.name]  # no hidden temporary folders
    leftovers = [p.name for p in run.dir.rglob(".*")]
    assert not leftovers
    checkpoints = sorted(p.name for p in (run.dir / "checkpoint").iterdir())
    assert checkpoints[:2] == ["checkpoint.json", "history.jsonl"] and len(checkpoints) == 3
    with pytest.raises(RunError, match="is complete"):
        neuralab.resume(run.dir)


def test_checkpoints_by_time_start_before_the_first_epoch_and_end_at_the_last(tmp_path):
    epochs_done = []

    class Look(Callback):
        def on_epoch_end(self, state):
            manifest = json.loads((next(tmp_path.iterdir()) / "checkpoint" / "checkpoint.json").read_text())
            epochs_done.append(manifest["epochs_done"])

    run = neuralab.train(SPEC, out_dir=tmp_path, callbacks=[Look()])  # default: every 30 s of training
    assert epochs_done == [0, 0, 0, 0, 0]  # the initial state; then no epoch took 30 s
    final = json.loads((run.dir / "checkpoint" / "checkpoint.json").read_text())
    assert final["epochs_done"] == 5
    lines = (run.dir / "checkpoint" / "history.jsonl").read_text().splitlines()
    assert len(lines) == 5  # every epoch's row kept between checkpoints


def test_a_run_killed_in_its_first_epoch_is_resumable(tmp_path):
    class Kill(Callback):
        def on_batch_end(self, state):
            if state.step == 2:
                raise KeyboardInterrupt  # as abrupt as a kill: no checkpoint written on the way out

    with pytest.raises(KeyboardInterrupt):
        neuralab.train(SPEC, out_dir=tmp_path, callbacks=[Kill()])
    run_dir = next(tmp_path.iterdir())
    resumed = neuralab.resume(run_dir)
    assert_same_run(resumed, neuralab.train(SPEC, out_dir=None))


@pytest.fixture
def interrupted_run(tmp_path):
    with pytest.raises(TrainingInterrupted) as caught:
        neuralab.train(SPEC, out_dir=tmp_path, callbacks=[SignalAt(step=8)])
    return caught.value.run_dir


def test_changed_spec_is_refused_on_resume(interrupted_run):
    path = interrupted_run / "spec.yaml"
    path.write_text(path.read_text().replace("learning_rate: 0.02", "learning_rate: 0.5"))
    with pytest.raises(RunError, match="spec.yaml changed"):
        neuralab.resume(interrupted_run)


@pytest.mark.parametrize("tamper, message", [
    (lambda m: m.update(tensors="../../evil.safetensors"), "tensors"),
    (lambda m: m.update(sha256="0" * 64), "does not match the digest"),
    (lambda m: m.update(format="neuralab.checkpoint/99"), "format"),
    (lambda m: m["state"]["model"].pop("output.weight"), "does not fit"),
    (lambda m: m.update(epochs_done=40), "history.jsonl"),
    (lambda m: m["state"]["progress"].update(step="7"), r"progress\.step: Input should be a valid integer"),
    (lambda m: m["state"]["progress"].update(step=2.5), r"progress\.step"),
    (lambda m: m["state"]["progress"].update(batch_index=10**9), "batch_index 1000000000 is beyond the epoch's"),
    (lambda m: m["state"]["progress"].update(rollbacks=-1), r"progress\.rollbacks"),
    (lambda m: m["state"]["progress"].pop("epoch"), r"progress\.epoch: Field required"),
    (lambda m: m["state"].update(progress=[1, 2]), r"state\.progress"),
], ids=["path", "tensor-digest", "format", "tensors", "epochs", "step-text", "step-float", "batch-index",
        "rollbacks", "no-epoch", "progress-list"])
def test_tampered_checkpoint_is_refused_clearly(interrupted_run, tamper, message):
    """Each change is sealed with a fresh manifest digest, as a deliberate edit would be: the checks behind it hold."""
    path = interrupted_run / "checkpoint" / "checkpoint.json"
    manifest = json.loads(path.read_text())
    tamper(manifest)
    manifest["digest"] = manifest_digest(manifest)
    path.write_text(json.dumps(manifest))
    with pytest.raises(RunError, match=message):
        neuralab.resume(interrupted_run)


def test_a_changed_byte_in_checkpoint_json_breaks_its_digest(interrupted_run):
    path = interrupted_run / "checkpoint" / "checkpoint.json"
    manifest = json.loads(path.read_text())
    manifest["state"]["progress"]["step"] += 1  # still valid JSON and a valid step: only the digest tells
    path.write_text(json.dumps(manifest))
    with pytest.raises(RunError, match="does not match its own digest"):
        neuralab.resume(interrupted_run)


def test_a_resume_mid_epoch_checks_the_saved_row_order(interrupted_run):
    path = interrupted_run / "checkpoint" / "checkpoint.json"
    manifest = json.loads(path.read_text())
    assert manifest["state"]["progress"]["batch_index"] > 0  # SignalAt stops inside an epoch
    folder = interrupted_run / "checkpoint"
    tensors = load_file(str(folder / manifest["tensors"]))
    key = manifest["state"]["progress"]["epoch_order"]["__tensor__"]
    tensors[key] = torch.zeros_like(tensors[key])  # every batch would be row 0
    data = save(tensors)
    (folder / manifest["tensors"]).write_bytes(data)
    manifest["sha256"] = hashlib.sha256(data).hexdigest()
    manifest["digest"] = manifest_digest(manifest)
    path.write_text(json.dumps(manifest))
    with pytest.raises(RunError, match="epoch_order is not an order of the"):
        neuralab.resume(interrupted_run)


def test_a_pickle_in_the_checkpoint_folder_is_never_read(interrupted_run, tmp_path):
    marker = tmp_path / "unpickled"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    import pickle
    (interrupted_run / "checkpoint" / "state.pkl").write_bytes(pickle.dumps(Evil()))
    (interrupted_run / "checkpoint" / "state.pt").write_bytes(pickle.dumps(Evil()))
    run = neuralab.resume(interrupted_run)
    assert run.summary["epochs_run"] == 5 and not marker.exists()


def test_missing_checkpoint_is_refused(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    shutil.copy(__file__, folder / "notes.py")
    (folder / "spec.yaml").write_text("name: x\n")
    with pytest.raises(RunError, match="nothing to resume"):
        neuralab.resume(folder)


def test_changed_data_is_refused_on_resume(tmp_path):
    rows = "\n".join(f"{i % 7},{(i * 3) % 5},{i % 2}" for i in range(60))
    data = tmp_path / "data.csv"
    data.write_text("a,b,label\n" + rows + "\n")
    spec = {"data": {"dataset": "csv", "path": str(data)}, "model": {"hidden": [4]},
            "train": {"epochs": 3, "batch_size": 8}}
    with pytest.raises(TrainingInterrupted) as caught:
        neuralab.train(spec, out_dir=tmp_path / "runs", callbacks=[SignalAt(step=6)])
    data.write_text("a,b,label\n" + rows.replace("6,", "5,") + "\n")
    with pytest.raises(RunError, match="data .* changed"):
        neuralab.resume(caught.value.run_dir)


# --------------------------------------------------------------------------- property: any setting resumes exactly

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from neuralab.spec.catalog import names  # noqa: E402

random_settings = st.fixed_dictionaries({
    "train.optimizer": st.sampled_from(names("optimizers")),
    "train.schedule.name": st.sampled_from(names("schedules")),
    "model.batch_norm": st.booleans(),
    "model.dropout": st.sampled_from([0.0, 0.3]),
    "data.augment_noise": st.sampled_from([0.0, 0.1]),
    "train.early_stopping.patience": st.sampled_from([None, 1, 2]),
    "train.checkpoint_every": st.integers(1, 3),
    "train.eval_every": st.integers(1, 2),
    "train.train_metrics": st.sampled_from(["running", "full"]),
    "train.l1": st.sampled_from([0.0, 0.01]),
    "train.l1_style": st.sampled_from(["penalty", "playground"]),
    "train.shuffle": st.sampled_from(["every_epoch", "once"]),
    "train.grad_clip": st.sampled_from([None, 0.5]),
    "data.dataset": st.sampled_from(["spiral", "diabetes"]),
    "train.learning_rate": st.sampled_from([0.02, 2.0]),  # 2 on the regression set: divergence is likely
    "train.on_divergence": st.sampled_from(["stop", "rollback"]),
})


@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(overrides=random_settings, step=st.integers(1, 24), signal_number=st.sampled_from([signal.SIGINT, signal.SIGTERM]))
def test_any_settings_resume_to_the_uninterrupted_run(overrides, step, signal_number):
    import tempfile

    spec = neuralab.load_spec(SPEC, overrides=overrides)
    uninterrupted = neuralab.train(spec, out_dir=None)  # no checkpoints at all: they must not change a number
    with tempfile.TemporaryDirectory() as out:
        try:
            finished = neuralab.train(spec, out_dir=out, callbacks=[SignalAt(step=step, signal_number=signal_number)])
        except TrainingInterrupted as caught:
            finished = neuralab.resume(caught.run_dir)
        assert_same_run(finished, uninterrupted)


@pytest.mark.parametrize("step", [60, 150], ids=["before-the-rollback", "after-the-rollback"])
def test_a_run_that_rolls_back_resumes_exactly(tmp_path, step):
    rising = {"data": {"dataset": "diabetes"}, "model": {"hidden": [16]},
              "train": {"optimizer": "sgd", "learning_rate": 0.02, "epochs": 10, "batch_size": 16,
                        "schedule": {"name": "bold_driver", "increase": 2.0}, "on_divergence": "rollback"}}
    uninterrupted = neuralab.train(rising, out_dir=None)
    assert uninterrupted.summary["rollbacks"] >= 1
    with pytest.raises(TrainingInterrupted) as caught:
        neuralab.train(rising, out_dir=tmp_path, callbacks=[SignalAt(step=step)])
    assert_same_run(neuralab.resume(caught.value.run_dir), uninterrupted)


def test_tf_playgrounds_l1_resumes_with_its_dead_weights(tmp_path):
    classic = {"seed": 1, "data": {"dataset": "xor", "n_samples": 200, "split": [0.5, 0.0, 0.5], "standardize": False},
               "model": {"hidden": [6], "activation": "tanh", "init": "playground", "output_activation": "tanh"},
               "train": {"optimizer": "sgd", "learning_rate": 0.1, "batch_size": 10, "epochs": 6, "l1": 0.05,
                         "l1_style": "playground", "shuffle": "once", "train_metrics": "full"}}
    uninterrupted = neuralab.train(classic, out_dir=None)
    assert any(bool((layer.weight == 0).any()) for layer in uninterrupted.model.linear_layers())  # weights died
    with pytest.raises(TrainingInterrupted) as caught:
        neuralab.train(classic, out_dir=tmp_path, callbacks=[SignalAt(step=37)])  # 10 steps an epoch
    assert_same_run(neuralab.resume(caught.value.run_dir), uninterrupted)


def test_a_resumed_run_keeps_the_health_record_of_the_steps_before_the_stop(tmp_path):
    spec = neuralab.load_spec(SPEC, overrides={"diagnose.health_every": 4})
    whole = neuralab.train(spec, out_dir=tmp_path / "whole")
    with pytest.raises(TrainingInterrupted) as caught:
        neuralab.train(spec, out_dir=tmp_path / "cut", callbacks=[SignalAt(step=18)])  # 8 steps an epoch
    resumed = neuralab.resume(caught.value.run_dir)
    records = [json.loads((run.dir / "health.json").read_text()) for run in (resumed, whole)]
    assert [s["step"] for s in records[0]["samples"]] == [s["step"] for s in records[1]["samples"]]
    assert records[0]["samples"] == records[1]["samples"]
    assert records[0]["histograms"] == records[1]["histograms"]
