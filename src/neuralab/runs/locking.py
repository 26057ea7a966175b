"""One process at a time trains in a run directory: a lock held while it trains or resumes.

The lock is an operating-system file lock (``filelock``: ``flock`` on POSIX, ``msvcrt`` on
Windows) on ``<run>/.lock``, taken before a new run's first checkpoint and before a resume
reads its checkpoint, and held until training ends. The system drops it when the process
dies, even by SIGKILL, so a killed run never stays locked; a second ``--resume`` of a run
that is still training is refused at once instead of interleaving its checkpoints. A
finished run's lock file is removed. On a file system without file locks (some network
drives) a run trains unlocked, and the log says so.

Example:
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with hold_run(folder):
    ...     is_training(folder)
    True
    >>> is_training(folder)
    False
"""
from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from filelock import FileLock, Timeout

from neuralab.errors import RunError
from neuralab.runs.files import refused_as_storage_error

LOCK = ".lock"
UNSUPPORTED = (errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOLCK)  # no file locks here

log = logging.getLogger(__name__)


@contextmanager
def hold_run(folder: str | Path) -> Iterator[None]:
    """Hold ``folder``'s lock while the block runs.

    Raises:
        RunError: another process (or another resume in this one) trains in ``folder``.
        StorageError: the lock file cannot be created (read-only folder, disk full…).
    """
    folder = Path(folder)
    lock = FileLock(folder / LOCK, timeout=0, fallback_to_soft=False)  # a soft lock would outlive a SIGKILL
    with refused_as_storage_error(folder / LOCK):
        try:
            lock.acquire()
        except Timeout:  # an OSError (TimeoutError): told apart from a refused lock file first
            raise RunError(f"run: {str(folder)!r} is being trained by another process right now; "
                           "wait for it to finish (or stop it) before resuming it") from None
        except OSError as error:
            if error.errno not in UNSUPPORTED:
                raise
            log.warning("%s: this file system has no file locks; training without the run's lock", folder)
            lock = None
    try:
        yield
    finally:
        if (folder / "summary.json").is_file():  # finished: no process will train here again (a resume
            with suppress(OSError):              # checks summary.json once it holds the lock)
                (folder / LOCK).unlink()
        if lock is not None:
            lock.release()


def is_training(folder: str | Path) -> bool:
    """Whether a process holds ``folder``'s lock now (False when there is no lock file or it cannot be tried)."""
    path = Path(folder) / LOCK
    if not path.is_file():
        return False
    lock = FileLock(path, timeout=0, fallback_to_soft=False)
    try:
        lock.acquire()
    except Timeout:
        return True
    except OSError:  # e.g. a read-only copy of a run: nobody trains there
        return False
    lock.release()
    return False
