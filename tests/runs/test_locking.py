"""One process at a time trains in a run directory: a second resume is refused, a killed holder frees it."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import neuralab
from neuralab.cli import main
from neuralab.errors import RunError, TrainingInterrupted
from neuralab.runs.locking import hold_run, is_training
from neuralab.runs.listing import run_status
from neuralab.training import Callback

SPEC = {"name": "locked", "data": {"dataset": "xor", "n_samples": 60}, "model": {"hidden": [4]},
        "train": {"epochs": 3, "batch_size": 8}}
HOLD = "import sys, time; from neuralab.runs.locking import hold_run\nwith hold_run(sys.argv[1]):\n" \
       "    print('held', flush=True); time.sleep(120)\n"


class Stop(Callback):
    def on_epoch_end(self, state):
        state.interrupted = "SIGINT"  # what the signal handler sets


@pytest.fixture
def interrupted(tmp_path):
    with pytest.raises(TrainingInterrupted) as caught:
        neuralab.train(SPEC, out_dir=tmp_path / "runs", callbacks=[Stop()])
    return caught.value.run_dir


def holder(folder: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_run_held_by_another_process_is_not_resumed(interrupted, capsys):
    process = holder(interrupted)
    try:
        assert is_training(interrupted) and run_status(interrupted) == "training"
        before = (interrupted / "checkpoint" / "checkpoint.json").read_bytes()
        assert main(["train", "--resume", str(interrupted), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert "is being trained by another process right now" in err and "Traceback" not in err
        assert (interrupted / "checkpoint" / "checkpoint.json").read_bytes() == before  # nothing written
    finally:
        process.kill()  # SIGKILL: the system drops the lock with the process
        process.wait()
    assert not is_training(interrupted)
    assert neuralab.resume(interrupted).summary["epochs_run"] == 3
    assert not (interrupted / ".lock").exists()  # a finished run keeps no lock file


def test_a_second_resume_in_the_same_process_is_refused_too(interrupted):
    with hold_run(interrupted):
        with pytest.raises(RunError, match="being trained by another process"):
            neuralab.resume(interrupted)


def test_two_resumes_of_one_run_never_both_train(tmp_path):
    """Issue 18: two `--resume` of one run both trained and interleaved checkpoint/history.jsonl."""
    spec = {**SPEC, "train": {"epochs": 400, "batch_size": 4, "checkpoint_every": 1}}
    with pytest.raises(TrainingInterrupted) as caught:
        neuralab.train(spec, out_dir=tmp_path / "runs", callbacks=[Stop()])
    folder = caught.value.run_dir
    script = Path(sys.executable).with_name("neuralab")
    first = subprocess.Popen([str(script), "train", "--resume", str(folder), "--quiet"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while run_status(folder) != "training" and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        second = subprocess.run([str(script), "train", "--resume", str(folder), "--quiet"],
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 2 and "being trained by another process" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=120)
    assert first.returncode in (0, 143)
    rows = [json.loads(line)["epoch"] for line in (folder / "checkpoint" / "history.jsonl").read_text().splitlines()]
    assert rows == list(range(1, len(rows) + 1))  # one writer: each epoch once, in order


def test_a_finished_run_is_never_locked(tmp_path):
    run = neuralab.train(SPEC, out_dir=tmp_path)
    assert not is_training(run.dir) and not (run.dir / ".lock").exists()
