"""Where a study lives: a SQLite file by default, PostgreSQL (any SQLAlchemy URL) or a journal file to share it.

* ``sqlite:///path/study.db`` — the default (``runs/<study>-tune/study.db``), for the
  processes of one machine;
* ``postgresql://user:password@host/db`` — one database every machine reaches;
* ``journal:///shared/drive/study.journal`` — Optuna's journal storage: an append-only
  file on a drive every machine mounts, for clusters without a database server
  (everything after ``journal://`` is the file's path).

Every worker beats a heartbeat into the storage while it runs a trial. When a worker dies
(a killed process, a lost machine), the next worker to start a trial finds its heartbeat
older than the grace period, marks that trial FAIL and queues a retry of the same
parameters (Optuna's ``RetryHeartbeatStaleTrialCallback``), so no point of the search is
lost. A database keeps the heartbeat in its own table, with its own clock; a journal keeps
it as a trial attribute stamped with the worker's clock (machines' clocks must agree to
within the grace period — NTP does that).

A storage holds data only: trial values and parameters as JSON. neuralab never loads a
pickle from it (see :mod:`neuralab.tune.samplers` for CMA-ES, whose Optuna sampler keeps
its state as a pickle in the storage).

Example:
    >>> import tempfile
    >>> url = default_storage_url(tempfile.mkdtemp())
    >>> url.startswith("sqlite:///") and url.endswith("study.db")
    True
"""
from __future__ import annotations

import random
import time
import warnings
from pathlib import Path
from typing import Any

from neuralab.errors import RunError

STUDY_FILE = "study.db"
DEFAULT_HEARTBEAT_SECONDS = 10
JOURNAL = "journal://"
# Two workers creating one fresh database at once race on its tables ("table studies already
# exists", alembic's version row): the loser opens it again once the winner made them.
CREATION_RACE = ("already exists", "unique constraint", "duplicate", "database is locked")
OPEN_ATTEMPTS = 6


def default_storage_url(folder: str | Path) -> str:
    """The SQLite URL of ``folder/study.db`` (absolute, so it reopens from anywhere)."""
    return f"sqlite:///{(Path(folder) / STUDY_FILE).resolve()}"


def storage_url_of(source: str | Path) -> str:
    """A storage URL from a URL, a ``.db`` file or a tune directory holding ``study.db``.

    Raises:
        RunError: a path that is neither.
    """
    text = str(source)
    if "://" in text:
        return text
    path = Path(text)
    if path.is_dir() and (path / STUDY_FILE).is_file():
        return default_storage_url(path)
    if path.is_file():
        return f"sqlite:///{path.resolve()}"
    raise RunError(f"study: {text!r} is neither a storage URL (sqlite:///…, postgresql://…, journal://…), "
                   f"a study file nor a tune directory holding {STUDY_FILE}")


def open_storage(url: str, *, heartbeat_seconds: int | None = DEFAULT_HEARTBEAT_SECONDS,
                 retries: int = 1) -> Any:
    """Open an Optuna storage with heartbeats and retry of trials whose worker died.

    Args:
        url: SQLAlchemy URL (``sqlite:///study.db``, ``postgresql://user@host/db``) or
            ``journal://PATH`` (a journal file).
        heartbeat_seconds: seconds between heartbeats (default 10); a trial is declared dead
            after twice that. None turns heartbeats off.
        retries: how many times a dead worker's trial is queued again (default 1).

    Raises:
        RunError: the storage cannot be opened (bad URL, server down, missing driver).
    """
    import optuna

    with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna; neuralab relies on them knowingly
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=retries)
        beats = {} if not heartbeat_seconds else {
            "heartbeat_interval": heartbeat_seconds, "grace_period": 2 * heartbeat_seconds,
            "heartbeat_stale_trial_callback": retry}
        if url.startswith(JOURNAL):
            return _open_journal(url, **beats)
        return _open_database(url, beats)


def _open_database(url: str, beats: dict[str, Any]) -> Any:
    import optuna
    import sqlalchemy.exc

    url = with_driver(url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # several local processes may share one SQLite file: wait for its lock instead of failing
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    for attempt in range(1, OPEN_ATTEMPTS + 1):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine, **beats)
        except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError) as error:
            if attempt < OPEN_ATTEMPTS and any(mark in str(error).lower() for mark in CREATION_RACE):
                time.sleep(random.uniform(0.05, 0.25) * attempt)  # another worker is creating the tables
                continue
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise RunError(f"--storage: cannot open {hide_password(url)!r}: {first[:300]}") from None


def _open_journal(url: str, **beats: Any) -> Any:
    from neuralab.tune.journal import journal_storage

    path = Path(url.removeprefix(JOURNAL))
    if not str(path) or path.is_dir():
        raise RunError(f"--storage: {url!r} names no journal file (journal:///shared/drive/study.journal)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return journal_storage(path, url=url, **beats)
    except OSError as error:
        raise RunError(f"--storage: cannot open the journal {str(path)!r}: {error.strerror or error}") from None


def with_driver(url: str) -> str:
    """``postgresql://…`` with the installed driver: SQLAlchemy 2.1 picks psycopg 3 by default,
    neuralab ships psycopg2 (``psycopg2-binary``); an explicit ``postgresql+driver://`` stays."""
    scheme, sep, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres"):
        return url
    try:
        import psycopg  # noqa: F401
        return url
    except ImportError:
        return f"postgresql+psycopg2{sep}{rest}"


def dashboard_target(url: str) -> str:
    """What to give ``optuna-dashboard`` to watch the study at ``url`` (a journal's file; a URL's password hidden).

    Example:
        >>> dashboard_target("journal:///mnt/shared/digits.journal"), dashboard_target("postgresql://ann:pw@db/studies")
        ('/mnt/shared/digits.journal', 'postgresql://ann:***@db/studies')
    """
    return url.removeprefix(JOURNAL) if url.startswith(JOURNAL) else hide_password(url)


def study_names(storage: Any) -> list[str]:
    """Names of the studies in ``storage``."""
    return [summary.study_name for summary in storage.get_all_studies()]


def hide_password(url: str) -> str:
    head, at, tail = url.rpartition("@")
    if not at or "://" not in head:
        return url
    scheme, _, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}{':***' if ':' in credentials else ''}@{tail}"
