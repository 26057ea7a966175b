"""Writing a run: the directory's files, summary last, best and kept epochs, garbage never saved as success."""
from __future__ import annotations

import json

import neuralab
from neuralab.runs.layout import write_run


def test_a_run_written_later_has_every_file_and_loads(tmp_path, tiny_spec):
    run = neuralab.train(tiny_spec, out_dir=None)
    folder = write_run(run, tmp_path)
    names = sorted(p.name for p in folder.iterdir())
    assert {"spec.yaml", "metrics.csv", "summary.json", "model.safetensors", "model.json", "curves.png",
            "health.json"} <= set(names)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial folder left
    again = neuralab.load_run(folder)
    assert again.summary == json.loads(json.dumps(run.summary))


def test_the_summary_says_the_best_epoch_and_whose_weights_are_kept(tiny_spec):
    stopped = neuralab.train(tiny_spec, out_dir=None, overrides={
        "train.epochs": 40, "train.learning_rate": 0.3, "train.early_stopping.patience": 2})
    summary = stopped.summary
    assert summary["best_epoch"] == summary["kept_epoch"] < summary["epochs_run"]
    last = neuralab.train(tiny_spec, out_dir=None, overrides={
        "train.epochs": 40, "train.learning_rate": 0.3, "train.early_stopping.patience": 2,
        "train.early_stopping.restore_best": False})
    assert last.summary["kept_epoch"] == last.summary["epochs_run"] != last.summary["best_epoch"]


def test_a_blow_up_on_the_last_step_is_not_saved_as_success():
    # The reviewer's case: digits, plain SGD at rate 10 on the full batch, 7 epochs — the dev loss
    # becomes NaN in the last epoch, after the last step's training loss was checked.
    run = neuralab.train({"data": {"dataset": "digits"},
                          "train": {"optimizer": "sgd", "learning_rate": 10, "batch_size": "full", "epochs": 7}},
                         out_dir=None)
    assert run.summary["diverged"] and "dev loss became NaN in epoch 7" in run.summary["stop_reason"]
    assert run.summary["kept_epoch"] == 6
    losses = [value for key, value in run.summary.items() if key.endswith("_loss")]
    assert all(value == value for value in losses)  # the kept weights score finite numbers


def test_a_run_that_cannot_be_written_leaves_no_folder(tmp_path, tiny_spec, monkeypatch):
    import errno
    import os

    import pytest

    from neuralab.errors import StorageError
    from neuralab.runs import files

    run = neuralab.train(tiny_spec, out_dir=None)

    def full(path, data):
        raise StorageError(files.storage_problem(path, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))))
    monkeypatch.setattr("neuralab.runs.layout.write_bytes_atomic", full)
    with pytest.raises(StorageError, match="No space left on device"):
        write_run(run, tmp_path)
    assert list(tmp_path.iterdir()) == []  # neither the claimed folder nor its partial twin
