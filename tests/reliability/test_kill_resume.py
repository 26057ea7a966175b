"""A run killed with SIGKILL mid-training resumes to the same weights and metrics, bit for bit (CPU)."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

import neuralab
from neuralab.cli import main
from neuralab.errors import RunError
from neuralab.runs.run import read_metrics_csv

SPEC = """name: killed
seed: 5
data: {dataset: spiral, n_samples: 600, noise: 0.1, augment_noise: 0.05}
model: {hidden: [32, 32], dropout: 0.2}
train: {epochs: 20, batch_size: 4, learning_rate: 0.01, schedule: cosine, checkpoint_every: 1}
"""
SCRIPT = Path(sys.executable).with_name("neuralab")


def start_training(spec_file: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([str(SCRIPT), "train", str(spec_file), "--out", str(out), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_checkpoint(out: Path, process: subprocess.Popen, *, epochs: int, timeout: float = 60) -> Path:
    """Poll until the run's checkpoint covers ``epochs`` epochs; return the run directory."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for manifest in out.glob("*/checkpoint/checkpoint.json"):  # replaced atomically: always whole JSON
            if json.loads(manifest.read_text())["epochs_done"] >= epochs:
                return manifest.parent.parent
        assert process.poll() is None, f"training ended early: {process.communicate()}"
        time.sleep(0.01)
    process.kill()
    pytest.fail("no checkpoint appeared in time")


def strip_seconds(rows):
    return [{key: value for key, value in row.items() if key != "seconds"} for row in rows]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("whole")
    (folder / "spec.yaml").write_text(SPEC)
    return neuralab.train(folder / "spec.yaml", out_dir=folder / "runs")


def test_sigkill_mid_training_then_resume_is_bit_for_bit(tmp_path, uninterrupted, capsys):
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(SPEC)
    process = start_training(spec_file, tmp_path / "runs")
    run_dir = wait_for_checkpoint(tmp_path / "runs", process, epochs=3)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert not (run_dir / "summary.json").exists(), "the run finished before the kill: make it longer"

    # What a crash leaves: readable metrics, a verified checkpoint, a clear refusal to load.
    assert len(read_metrics_csv(run_dir / "metrics.csv")) >= 3
    with pytest.raises(RunError, match="incomplete.*--resume"):
        neuralab.load_run(run_dir)

    assert main(["train", "--resume", str(run_dir), "--quiet"]) == 0
    assert "run written to" in capsys.readouterr().out
    resumed = neuralab.load_run(run_dir)
    assert strip_seconds(resumed.history) == strip_seconds(neuralab.load_run(uninterrupted.dir).history)
    mine, theirs = load_file(str(run_dir / "model.safetensors")), load_file(str(uninterrupted.dir / "model.safetensors"))
    assert mine.keys() == theirs.keys() and all(mine[k].equal(theirs[k]) for k in mine)
    assert resumed.summary["test_loss"] == uninterrupted.summary["test_loss"]


def test_ctrl_c_exits_130_and_says_how_to_resume(tmp_path, uninterrupted):
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(SPEC)
    process = start_training(spec_file, tmp_path / "runs")
    run_dir = wait_for_checkpoint(tmp_path / "runs", process, epochs=2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert f"resume with: neuralab train --resume {run_dir}" in err and "Traceback" not in err
    run = neuralab.resume(run_dir)
    assert strip_seconds(run.history) == strip_seconds(uninterrupted.history)
