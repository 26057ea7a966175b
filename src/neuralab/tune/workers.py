"""Several local workers on one study: ``neuralab tune … --workers N``.

The study is opened (or created) once, here; then N processes run ``neuralab tune … --worker``
on the same storage — what N machines would run, each its own command — and this process
watches the storage for the progress display until they are done. Each worker seeds its
sampler with its own id, so they do not propose the same points, and runs trials until the
study holds ``--trials`` finished ones (:mod:`neuralab.tune.budget`); a worker that dies
leaves its trial to be failed by heartbeat and retried by another. The spec and the space
the workers read are written into the study's folder as ``spec.yaml`` and ``space.yaml``.
"""
from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from neuralab.errors import RunError
from neuralab.runs.files import write_text_atomic
from neuralab.spec import ExperimentSpec, dump_spec
from neuralab.tune.space import SearchSpace, space_to_dict

log = logging.getLogger(__name__)
WATCH_SECONDS = 1.0  # between looks at the storage for the progress display


def run_workers(study: Any, *, count: int, folder: Path, spec: ExperimentSpec, space: SearchSpace, url: str,
                sampler: str, pruner: str, total: int, heartbeat_seconds: int | None, cv: int | None = None,
                watch: Callable[[Any], None] | None = None) -> None:
    """Start ``count`` worker processes on ``study`` (stored at ``url``) and wait for them.

    Args:
        study: the open study (created already, so no worker races to create it).
        count: worker processes to start.
        folder: the study's output folder (receives spec.yaml and space.yaml).
        spec, space, sampler, pruner, total, heartbeat_seconds, cv: as for ``tune_study``.
        watch: called with the study about every second while the workers run.

    Raises:
        RunError: a worker failed and the study does not hold ``total`` finished trials.
    """
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / "spec.yaml", dump_spec(spec))
    write_text_atomic(folder / "space.yaml", yaml.safe_dump(space_to_dict(space), sort_keys=False))
    command = [sys.executable, "-m", "neuralab", "tune", str(folder / "spec.yaml"), "--space", str(folder / "space.yaml"),
               "--sampler", sampler, "--pruner", pruner, "--trials", str(total), "--storage", url,
               "--study", study.study_name, "--resume", "--no-final", "--quiet", "--worker",
               *(["--heartbeat", str(heartbeat_seconds)] if heartbeat_seconds else []),
               *(["--cv", str(cv)] if cv else [])]
    workers = [subprocess.Popen(command, stdout=subprocess.DEVNULL) for _ in range(count)]
    try:
        while any(worker.poll() is None for worker in workers):
            if watch is not None:
                watch(study)
            time.sleep(WATCH_SECONDS)
    finally:  # Ctrl-C reaches the workers too (one process group); anything else here stops them
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait()
    if watch is not None:
        watch(study)
    failed = [worker.returncode for worker in workers if worker.returncode != 0]
    if failed:
        from optuna.trial import TrialState

        finished = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
        log.warning("%d of %d workers failed (exit codes %s)", len(failed), count, failed)
        if finished < total:
            raise RunError(f"tune: {len(failed)} of {count} workers failed (exit codes "
                           f"{', '.join(map(str, failed))}); the study holds {finished} of {total} finished trials — "
                           "run the same command with --resume to finish it")
