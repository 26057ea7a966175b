"""Nothing executed: loading a run or a checkpoint never unpickles; tampered files are refused like user input."""
from __future__ import annotations

import hashlib
import json
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import neuralab
from neuralab.errors import DataError, RunError, TrainingInterrupted
from neuralab.runs.checkpoint import manifest_digest
from neuralab.training import Callback

SOURCE = Path(neuralab.__file__).resolve().parent
SPEC = {"name": "safe", "data": {"dataset": "xor", "n_samples": 60}, "model": {"hidden": [4]},
        "train": {"epochs": 3, "batch_size": 8}}


class Payload:
    """Unpickling this creates ``path``: proof that something ran."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return neuralab.train(SPEC, out_dir=tmp_path_factory.mktemp("runs"))


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "executed"


def copy_run(run_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    return copy


def test_no_module_can_unpickle_or_evaluate():
    forbidden = re.compile(r"torch\.load\(|^\s*(import|from)\s+(pickle|marshal|dill|cloudpickle|shelve|joblib)\b|"
                           r"pickle\.loads?\(|yaml\.load\(|yaml\.unsafe_load|(?<![.\w])eval\(|(?<![.\w])exec\(|"
                           r"allow_pickle\s*=\s*True|read_pickle")
    hits = [f"{path.relative_to(SOURCE)}:{number}: {line.strip()}"
            for path in SOURCE.rglob("*.py") for number, line in enumerate(path.read_text().splitlines(), 1)
            if forbidden.search(line.split("#")[0])]
    assert not hits


def test_pickles_beside_a_run_are_ignored(finished, tmp_path, marker):
    copy = copy_run(finished.dir, tmp_path)
    for name in ("model.pt", "model.pkl", "model.pth", "checkpoint/state.pkl"):
        (copy / name).write_bytes(pickle.dumps(Payload(marker)))
    run = neuralab.load_run(copy)
    neuralab.evaluate(copy)
    neuralab.predict(copy, np.zeros((2, 2), dtype=np.float32))
    assert run.summary["epochs_run"] == 3 and not marker.exists()


def test_a_pickle_in_place_of_the_weights_is_refused(finished, tmp_path, marker):
    copy = copy_run(finished.dir, tmp_path)
    evil = pickle.dumps(Payload(marker))
    (copy / "model.safetensors").write_bytes(evil)
    meta = json.loads((copy / "model.json").read_text())
    (copy / "model.json").write_text(json.dumps({**meta, "sha256": hashlib.sha256(evil).hexdigest()}))  # a forger
    with pytest.raises(RunError, match="model.safetensors: cannot be read"):
        neuralab.load_run(copy)
    assert not marker.exists()


def test_a_pickle_in_place_of_checkpoint_tensors_is_refused(tmp_path, marker):
    class Stop(Callback):
        def on_epoch_end(self, state):
            state.interrupted = "SIGINT"  # what the signal handler sets

    with pytest.raises(TrainingInterrupted) as caught:
        neuralab.train(SPEC, out_dir=tmp_path / "runs", callbacks=[Stop()])
    folder = caught.value.run_dir / "checkpoint"
    manifest = json.loads((folder / "checkpoint.json").read_text())
    evil = pickle.dumps(Payload(marker))
    (folder / manifest["tensors"]).write_bytes(evil)
    manifest["sha256"] = hashlib.sha256(evil).hexdigest()  # a forger who also fixes the digests
    manifest["digest"] = manifest_digest(manifest)
    (folder / "checkpoint.json").write_text(json.dumps(manifest))
    with pytest.raises(RunError, match="cannot be read"):
        neuralab.resume(caught.value.run_dir)
    assert not marker.exists()


@pytest.mark.parametrize("file, change, message", [
    ("model.json", lambda meta: meta.update(n_inputs=-1), "n_inputs"),
    ("model.json", lambda meta: meta.update(n_inputs=10**9, shape={**meta["shape"], "n_inputs": 10**9}),
     "parameters; the limit is"),
    ("model.json", lambda meta: meta.update(n_inputs=10**9), "n_inputs 1000000000 disagrees with shape"),
    ("model.json", lambda meta: meta["head"].update(n_outputs="__import__('os')"), "n_outputs"),
    ("model.json", lambda meta: meta["head"].update(task="exec"), "head.task"),
])
def test_tampered_model_json_is_validated(finished, tmp_path, file, change, message):
    copy = copy_run(finished.dir, tmp_path)
    meta = json.loads((copy / file).read_text())
    change(meta)
    (copy / file).write_text(json.dumps(meta))
    with pytest.raises(RunError, match=re.escape(message)):
        neuralab.load_run(copy)


@pytest.mark.parametrize("change, message", [
    (lambda summary: [1, 2], "summary.json: expected a mapping, got list"),
    (lambda summary: {**summary, "classes": "xy"}, "run summary.json: classes: Input should be a valid list"),
    (lambda summary: {**summary, "classes": [1, 0]}, "classes [1, 0] disagree with the model's [0, 1]"),
    (lambda summary: {**summary, "epochs_run": "3"}, "epochs_run: Input should be a valid integer"),
    (lambda summary: {**summary, "diverged": "no"}, "diverged: Input should be a valid boolean"),
    (lambda summary: {**summary, "task": "regression"}, "task 'regression' disagrees with model.json's 'binary'"),
    (lambda summary: {key: value for key, value in summary.items() if key != "stop_reason"}, "stop_reason"),
], ids=["list", "classes-text", "classes-swapped", "epochs-text", "diverged-text", "task", "no-stop-reason"])
def test_tampered_summary_json_is_validated(finished, tmp_path, change, message):
    copy = copy_run(finished.dir, tmp_path)
    summary = json.loads((copy / "summary.json").read_text())
    (copy / "summary.json").write_text(json.dumps(change(summary)))
    with pytest.raises(RunError, match=re.escape(message)):
        neuralab.load_run(copy)


def test_a_flipped_byte_in_the_weights_is_refused(finished, tmp_path):
    copy = copy_run(finished.dir, tmp_path)
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-1] ^= 0x01  # the last byte of the last tensor: still a readable safetensors file
    (copy / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(RunError, match="does not match the SHA-256 in model.json"):
        neuralab.load_run(copy)


def test_predictions_are_labelled_by_the_models_classes(finished, tmp_path):
    table = neuralab.predict(finished.dir, np.array([[1.0, 1.0], [-1.0, 1.0]], dtype=np.float32))
    assert set(table["prediction"]) <= {0, 1} and set(table) >= {"probability_0", "probability_1"}


def test_temporary_files_a_killed_writer_left_are_removed_on_loading(finished, tmp_path):
    copy = copy_run(finished.dir, tmp_path)
    for name in (".summary.json.tmp-999999999", "checkpoint/.checkpoint.json.tmp-999999998"):
        (copy / name).write_text("half")
    neuralab.load_run(copy)
    assert not list(copy.rglob("*.tmp-*"))


@pytest.mark.parametrize("text, message", [
    ("model: {hidden: [1000000000]}\n", "model.hidden"),
    ("data: !!python/object/apply:os.system ['touch /tmp/neuralab-pwned']\n", "cannot be parsed"),
    ("train: {optimizer: __import__}\n", "train.optimizer"),
])
def test_tampered_spec_yaml_is_validated(finished, tmp_path, text, message):
    copy = copy_run(finished.dir, tmp_path)
    (copy / "spec.yaml").write_text(text)
    with pytest.raises(RunError, match=re.escape(message)):
        neuralab.load_run(copy)
    assert not Path("/tmp/neuralab-pwned").exists()


def test_csv_cells_are_read_never_evaluated(finished, tmp_path, marker):
    formula = tmp_path / "new.csv"
    formula.write_text(f"x1,x2\n=cmd|'/C calc'!A0,1\n\"__import__('os').system('touch {marker}')\",2\n")
    with pytest.raises(DataError, match="not numeric"):
        neuralab.predict(finished.dir, formula)
    assert not marker.exists()
