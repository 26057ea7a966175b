"""Starting several local neuralab processes: data-parallel training under torchrun, tuning workers.

``neuralab train SPEC --nproc N`` runs torchrun (``torch.distributed.run``, standalone: one
machine, a free port) in this process, which starts N copies of ``python -m neuralab train
SPEC …`` and watches them: when one dies the others are stopped. ``neuralab tune …
--workers N`` starts N ``neuralab tune`` workers on one study and waits for them.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from neuralab.cli.app import errors


def run_torchrun(arguments: Sequence[str], *, nproc: int) -> int:
    """Run ``neuralab <arguments>`` on ``nproc`` processes under torchrun; returns the exit code.

    Each process gets ``cpu_count // nproc`` CPU threads (OMP_NUM_THREADS, unless set). A
    process that fails (killed, out of memory, a lost peer) stops the others — torchrun's
    rule — and the exit code is 1; when every process stopped on a signal (Ctrl-C reaches
    them through torchrun) it is that signal's (130 for SIGINT, 143 for SIGTERM). Process 0
    prints where the run is and how to resume it.
    """
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    launcher = get_args_parser().parse_args(["--standalone", f"--nproc-per-node={nproc}", "--monitor-interval=0.2",
                                             "-m", "neuralab", *arguments])
    try:
        run(launcher)
    except SignalException as stopped:  # Ctrl-C or SIGTERM reached torchrun; it passed it on to the processes
        return 128 + int(stopped.sigval)
    except ChildFailedError as failed:
        return _report_failures(failed, nproc=nproc)
    return 0


def _report_failures(failed, *, nproc: int) -> int:
    codes = [failure.exitcode for failure in failed.failures.values()]
    if all(code in (130, 143) for code in codes):
        return max(codes)  # interrupted: process 0 printed the checkpoint and the resume command
    # the cause is a process killed by a signal; the others' exit code 1 says they lost it (PeerLost)
    killed = sorted((rank, failure) for rank, failure in failed.failures.items() if failure.exitcode < 0)
    rank, first = killed[0] if killed else failed.get_first_failure()
    how = f"was killed by {first.signal_name()}" if first.exitcode < 0 else f"ended with exit code {first.exitcode}"
    errors.print(f"[bold red]error[/]: training process {rank} of {nproc} {how}; torchrun stopped the others. "
                 f"The run keeps its last checkpoint: `neuralab train --resume RUN_DIR --nproc {nproc}` "
                 "continues it (process 0 printed RUN_DIR above)", highlight=False)
    return 1


def run_workers(command: Sequence[str], *, count: int, watch: Callable[[], None] | None = None,
                every_seconds: float = 1.0) -> list[int]:
    """Start ``count`` processes of ``command`` and wait for them all; returns their exit codes.

    ``watch`` is called every ``every_seconds`` while they run (a progress display). Ctrl-C
    reaches the workers too (one process group); a second Ctrl-C here stops them with SIGTERM.
    """
    workers = [subprocess.Popen(list(command)) for _ in range(count)]
    try:
        while any(worker.poll() is None for worker in workers):
            if watch is not None:
                watch()
            time.sleep(every_seconds)
    except KeyboardInterrupt:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait()
        raise
    if watch is not None:
        watch()
    return [worker.returncode for worker in workers]


def neuralab_command(*arguments: str) -> list[str]:
    """The command line that runs ``neuralab <arguments>`` with this interpreter."""
    return [sys.executable, "-m", "neuralab", *arguments]
