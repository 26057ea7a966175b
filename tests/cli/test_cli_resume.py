"""`neuralab train --resume`: usage mistakes and finished runs exit 2 with one clear line."""
from __future__ import annotations

import pytest

import neuralab
from neuralab.cli import main


@pytest.fixture(scope="module")
def complete_run(tmp_path_factory):
    return neuralab.train({"data": {"dataset": "xor", "n_samples": 40}, "model": {"hidden": [4]},
                           "train": {"epochs": 1}}, out_dir=tmp_path_factory.mktemp("runs")).dir


@pytest.mark.parametrize("args, message", [
    (lambda run: ["examples/xor.yaml", "--resume", str(run)], "not both"),
    (lambda run: ["--resume", str(run), "--set", "train.epochs=9"], "a resumed run keeps the spec"),
    (lambda run: ["--resume", str(run / "nope")], "is not a directory"),
    (lambda run: ["--resume", str(run)], "is complete"),
], ids=["spec-and-resume", "set-with-resume", "missing", "complete"])
def test_resume_mistakes_exit_2(complete_run, capsys, args, message):
    assert main(["train", *args(complete_run), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
