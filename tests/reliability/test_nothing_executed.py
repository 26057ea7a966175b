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
    (copy / "model.safetensors").write_bytes(pickle.dumps(Payload(marker)))
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
    manifest["sha256"] = hashlib.sha256(evil).hexdigest()  # a forger who also fixes the digest
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
