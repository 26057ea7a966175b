"""Optuna's journal storage (an append-only file on a shared drive) with heartbeats.

Optuna's ``JournalStorage`` keeps a study as a log of JSON operations in one file, locked
for each append, so workers on several machines can share it through a network drive.
Optuna's heartbeat machinery — a thread beating while a trial runs, ``fail_stale_trials``,
``RetryHeartbeatStaleTrialCallback`` — works with any storage that also implements its
``BaseHeartbeat`` interface, which the journal does not; :class:`HeartbeatJournal` adds it:
a beat is a trial system attribute holding the worker's clock, and a running trial whose
last beat is older than the grace period is stale. The journal file backend keeps no
pickled snapshot (only Optuna's Redis backend does, which neuralab does not offer).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> storage = journal_storage(Path(tempfile.mkdtemp()) / "study.journal", url="journal://…",
    ...                           heartbeat_interval=1, grace_period=2)
    >>> storage.get_heartbeat_interval(), storage.grace_period
    (1, 2)
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import JournalStorage
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

HEARTBEAT_KEY = "neuralab:heartbeat"  # a running trial's last heartbeat, in seconds since the epoch


class HeartbeatJournal(JournalStorage, BaseHeartbeat):
    """A journal storage whose running trials beat a heartbeat (see the module docstring).

    Args:
        backend: the journal file backend.
        url: the ``journal://`` URL it was opened from (for messages).
        heartbeat_interval: seconds between beats; None turns heartbeats off.
        grace_period: seconds of silence after which a running trial is stale (default 2 beats).
        heartbeat_stale_trial_callback: called with each trial failed for silence (a retry).
    """

    def __init__(self, backend: JournalFileBackend, *, url: str, heartbeat_interval: int | None = None,
                 grace_period: int | None = None,
                 heartbeat_stale_trial_callback: Callable[[Any, Any], None] | None = None):
        super().__init__(backend)
        self.url = url
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period or (2 * heartbeat_interval if heartbeat_interval else None)
        self.heartbeat_stale_trial_callback = heartbeat_stale_trial_callback

    def record_heartbeat(self, trial_id: int) -> None:
        try:
            self.set_trial_system_attr(trial_id, HEARTBEAT_KEY, time.time())
        except UpdateFinishedTrialError:  # another worker failed it for silence meanwhile: nothing to beat for
            pass

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        now = time.time()
        running = self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
        return [trial._trial_id for trial in running
                if now - _last_beat(trial) > self.grace_period]

    def get_heartbeat_interval(self) -> int | None:
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(self) -> Callable[[Any, Any], None] | None:
        return self.heartbeat_stale_trial_callback


def _last_beat(trial: Any) -> float:
    beat = trial.system_attrs.get(HEARTBEAT_KEY)
    if isinstance(beat, (int, float)):
        return float(beat)
    started = trial.datetime_start
    return started.timestamp() if started is not None else time.time()


def journal_storage(path: Path, *, url: str, **heartbeat: Any) -> HeartbeatJournal:
    """A :class:`HeartbeatJournal` on the file ``path`` (created when missing)."""
    return HeartbeatJournal(JournalFileBackend(str(path)), url=url, **heartbeat)
