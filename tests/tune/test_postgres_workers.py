"""Two `neuralab tune` workers share one study on a real PostgreSQL server; one is killed mid-trial.

The test starts its own server (Debian's postgresql, installed by `make test` through
scripts/system-deps.sh): initdb into a temporary folder, pg_ctl on a free loopback port —
as the postgres user when the test runs as root, since PostgreSQL refuses to run as root.
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest

from neuralab.tune.storage import with_driver

N_TRIALS = 6
SPEC = """name: shared
seed: 0
data: {dataset: circle, n_samples: 200}
model: {hidden: [8]}
train: {epochs: 20, batch_size: 4, learning_rate: 0.01}
"""
SPACE = """params:
  train.learning_rate: {low: 1.0e-3, high: 1.0e-1, log: true}
  train.optimizer: [sgd, adam]
"""
WAIT_SECONDS = 120  # a guard against a hang, not a timing assertion


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres_url():
    binaries = _postgres_bin()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed; `make test` installs it (scripts/system-deps.sh)")
    folder = Path(tempfile.mkdtemp(prefix="neuralab-pg-"))  # under /tmp: reachable by the postgres user
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, user="postgres", group="postgres")
    port = _free_port()
    run = lambda *args: subprocess.run(_as_server_user([str(binaries / args[0]), *args[1:]]), check=True,  # noqa: E731
                                       capture_output=True, text=True, timeout=WAIT_SECONDS)
    run("initdb", "-D", str(data), "-U", "neuralab", "--auth=trust", "-E", "UTF8", "--no-sync")
    run("pg_ctl", "-D", str(data), "-l", str(folder / "server.log"), "-w", "start",
        "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off")
    try:
        yield f"postgresql://neuralab@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, timeout=WAIT_SECONDS)
        shutil.rmtree(folder, ignore_errors=True)


def _worker(tmp_path: Path, url: str, label: str) -> subprocess.Popen:
    command = [sys.executable, "-c", "from neuralab.cli import main; main()", "tune", str(tmp_path / "spec.yaml"),
               "--space", str(tmp_path / "space.yaml"), "--sampler", "random", "--pruner", "none",
               "--trials", str(N_TRIALS), "--storage", url, "--study", "shared", "--resume",
               "--heartbeat", "1", "--no-final", "--quiet", "--out", str(tmp_path / label)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for_running_trial(url: str, worker: subprocess.Popen) -> int:
    from optuna.trial import TrialState

    storage = optuna.storages.RDBStorage(with_driver(url))  # one connection pool for all the polls
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise AssertionError(f"worker A ended before it could be killed:\n{worker.communicate()[0]}")
        try:
            study = optuna.load_study(study_name="shared", storage=storage)
        except KeyError:  # not created yet
            time.sleep(0.1)
            continue
        for trial in study.get_trials(states=(TrialState.RUNNING,)):
            if trial.user_attrs.get("worker", "").endswith(f":{worker.pid}") and trial.intermediate_values:
                return trial.number
        time.sleep(0.05)
    raise AssertionError("worker A never ran a trial")


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_killed_worker_fails_its_trial_and_the_other_completes_the_study(tmp_path, postgres_url):
    from optuna.storages import RetryHeartbeatStaleTrialCallback
    from optuna.trial import TrialState

    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "space.yaml").write_text(SPACE)
    victim = _worker(tmp_path, postgres_url, "a")
    survivor = _worker(tmp_path, postgres_url, "b")
    try:
        killed = _wait_for_running_trial(postgres_url, victim)
        os.kill(victim.pid, signal.SIGKILL)  # mid-trial: no chance to mark its trial
        victim.wait(timeout=WAIT_SECONDS)
        output, _ = survivor.communicate(timeout=WAIT_SECONDS)
    finally:
        for process in (victim, survivor):
            if process.poll() is None:
                process.kill()
    assert survivor.returncode == 0, output

    trials = optuna.load_study(study_name="shared", storage=with_driver(postgres_url)).get_trials()
    states = {trial.number: trial.state for trial in trials}
    assert states[killed] == TrialState.FAIL
    assert sum(state == TrialState.COMPLETE for state in states.values()) == N_TRIALS
    assert TrialState.RUNNING not in states.values()
    retries = {RetryHeartbeatStaleTrialCallback.retried_trial_number(t): t for t in trials}
    # no lost trial: its parameters ran again, or wait for the next worker (--resume) when the
    # survivor had already finished the study when the dead worker's heartbeat went stale
    assert retries[killed].state in (TrialState.COMPLETE, TrialState.WAITING)
    assert retries[killed].params == next(t.params for t in trials if t.number == killed)
    assert len({t.number for t in trials}) == len(trials)
    assert (tmp_path / "b" / "shared-tune" / "best.yaml").is_file()
