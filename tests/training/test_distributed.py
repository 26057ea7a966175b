"""Data-parallel training on 2 CPU processes (gloo, torchrun via `neuralab train --nproc 2`).

The same global batch on 2 processes gives the weights of 1 process (to float rounding);
a process killed mid-run stops the other with a clear error and the run resumes from its
last checkpoint; Ctrl-C (SIGINT to the launcher, as a terminal sends it) stops both
processes after the same step with a checkpoint; resumed, the run ends with the weights
of 1 process. Every launch starts three Python processes, so the tests launch four times.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import neuralab
from neuralab.runs.run import read_metrics_csv

# odd batch (5 rows: 3 + 2 per process), augmentation noise, L1, L2, clipping: every rule the shard touches
SPEC = """name: parallel
seed: 3
data: {dataset: circle, n_samples: 300, noise: 0.1, augment_noise: 0.05}
model: {hidden: [16, 16]}
train: {epochs: 20, batch_size: 5, learning_rate: 0.01, l1: 1.0e-4, l2: 1.0e-3, grad_clip: 1.0,
        checkpoint_every: 1}
diagnose: {health_every: 0}
"""
WAIT_SECONDS = 180  # a guard against a hang, not a timing assertion
TOLERANCE = 1e-5


def launch(*arguments: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "neuralab", "train", *arguments, "--nproc", "2", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen) -> str:
    try:
        return process.communicate(timeout=WAIT_SECONDS)[0]
    finally:
        if process.poll() is None:
            process.kill()


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run_dir / "model.safetensors"))


def assert_same_training(run_dir: Path, reference: neuralab.Run) -> None:
    mine, theirs = weights(run_dir), weights(reference.dir)
    assert mine.keys() == theirs.keys()
    for name in mine:
        assert torch.allclose(mine[name], theirs[name], rtol=0, atol=TOLERANCE), name
    rows, expected = read_metrics_csv(run_dir / "metrics.csv"), reference.history
    assert len(rows) == len(expected)
    for row, other in zip(rows, expected):
        for key in ("train_loss", "train_error", "dev_loss", "dev_error"):
            assert abs(row[key] - other[key]) <= TOLERANCE, (row["epoch"], key)


def checkpointed_run(out: Path, process: subprocess.Popen, *, epochs: int) -> Path:
    """Poll until the run under ``out`` has a checkpoint after ``epochs`` epochs; return its directory."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        for manifest in out.glob("*/checkpoint/checkpoint.json"):  # replaced atomically: always whole JSON
            if json.loads(manifest.read_text())["epochs_done"] >= epochs:
                return manifest.parent.parent
        assert process.poll() is None, f"training ended early:\n{process.communicate()[0]}"
        time.sleep(0.02)
    process.kill()
    pytest.fail("no checkpoint appeared in time")


def process_of_rank(launcher: subprocess.Popen, rank: int) -> int:
    """The pid of the training process of ``rank`` among the launcher's children (torchrun's workers)."""
    for task in Path(f"/proc/{launcher.pid}/task").iterdir():
        for pid in (task / "children").read_text().split():
            environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            if f"RANK={rank}".encode() in environment:
                return int(pid)
    raise AssertionError(f"no process of rank {rank} under the launcher")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("parallel")
    (folder / "spec.yaml").write_text(SPEC)
    return folder


@pytest.fixture(scope="module")
def alone(folder) -> neuralab.Run:
    """The same spec trained by one process: what two processes must reproduce."""
    return neuralab.train(folder / "spec.yaml", out_dir=folder / "alone")


def test_two_processes_train_the_weights_of_one(folder, alone):
    output = finish(launch(str(folder / "spec.yaml"), "--out", str(folder / "two")))
    [run_dir] = (folder / "two").iterdir()
    assert "test accuracy" in output and str(run_dir) in output
    assert output.count("run written to") == 1  # process 0 reports, process 1 is silent
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["epochs_run"] == 20 and summary["stop_reason"] == "completed all epochs"
    assert_same_training(run_dir, alone)


def test_a_killed_process_stops_the_other_then_ctrl_c_stops_both_and_the_run_resumes(folder, alone):
    out = folder / "stopped"
    launcher = launch(str(folder / "spec.yaml"), "--out", str(out))
    run_dir = checkpointed_run(out, launcher, epochs=2)
    os.kill(process_of_rank(launcher, 1), signal.SIGKILL)
    output = finish(launcher)
    assert launcher.returncode == 1, output
    assert "training process 1 of 2 was killed by SIGKILL" in output
    assert f"resume with: neuralab train --resume {run_dir} --nproc 2" in output  # process 0's own line
    assert "Traceback" not in output
    assert not (run_dir / "summary.json").exists()

    launcher = launch("--resume", str(run_dir))
    done = json.loads((run_dir / "checkpoint" / "checkpoint.json").read_text())["epochs_done"]
    checkpointed_run(out, launcher, epochs=done + 2)
    launcher.send_signal(signal.SIGINT)  # a terminal's Ctrl-C reaches torchrun, which passes it on
    output = finish(launcher)
    assert launcher.returncode == 130, output
    assert f"resume with: neuralab train --resume {run_dir} --nproc 2" in output
    assert output.count("training interrupted by SIGINT") == 1  # process 0 reports, process 1 stops silently
    assert not (run_dir / "summary.json").exists()

    resumed = finish(launch("--resume", str(run_dir)))
    assert "test accuracy" in resumed, resumed
    assert_same_training(run_dir, alone)


def test_batch_norm_on_several_cpu_processes_is_refused_with_the_reason():
    from neuralab.training.distributed import ProcessGroup, refusals

    group = ProcessGroup(rank=0, size=2, local_rank=0, device=torch.device("cpu"))
    spec = neuralab.load_spec({"model": {"batch_norm": True}})
    [problem] = refusals(spec, group)
    assert problem.startswith("model.batch_norm:") and "SyncBatchNorm needs GPUs" in problem
    assert refusals(neuralab.load_spec({}), group) == []


def test_more_processes_than_gpus_is_refused(monkeypatch):
    from neuralab.training import distributed

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    [problem] = distributed.process_problems("auto", 2)
    assert "2 processes on this machine but 1 GPU(s)" in problem
    assert distributed.process_problems("auto", 1) == [] and distributed.process_problems("cpu", 8) == []


def test_a_lost_peer_is_told_in_one_line_with_the_resume_command():
    from neuralab.training.distributed import ProcessGroup, is_peer_failure, peer_lost_message

    error = RuntimeError("[../third_party/gloo/gloo/transport/tcp/pair.cc:537] Read error [127.0.0.1]:11143: "
                         "Connection reset by peer. This is typically caused by a remote worker hanging")
    assert is_peer_failure(error) and not is_peer_failure(RuntimeError("shape mismatch"))
    lines = peer_lost_message(error, ProcessGroup(rank=0, size=2, local_rank=0, device=torch.device("cpu")),
                              run_dir="runs/x")
    assert "Connection reset by peer" in lines[0] and "typically" not in lines[0]
    assert lines[1].endswith("resume with: neuralab train --resume runs/x --nproc 2")
