"""Storage URLs: defaults, drivers, journals, passwords kept out of messages, unreachable servers, creation races."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from neuralab.errors import RunError
from neuralab.tune.storage import (dashboard_target, default_storage_url, hide_password, open_storage, study_names,
                                   with_driver)


def test_default_storage_is_an_absolute_sqlite_file(tmp_path):
    assert default_storage_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/study.db"


def test_postgresql_urls_get_the_installed_driver():
    assert with_driver("postgresql://u@h/db") in ("postgresql+psycopg2://u@h/db", "postgresql://u@h/db")
    assert with_driver("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert with_driver("sqlite:///x.db") == "sqlite:///x.db"


def test_passwords_are_hidden():
    assert hide_password("postgresql://ann:secret@host/db") == "postgresql://ann:***@host/db"
    assert hide_password("sqlite:///a@b.db") == "sqlite:///a@b.db"


def test_an_unreachable_server_is_a_clear_error():
    with pytest.raises(RunError, match="--storage: cannot open") as error:
        open_storage("postgresql://ann:secret@127.0.0.1:1/db")
    assert "secret" not in str(error.value)


def test_a_journal_url_opens_a_journal_file_with_heartbeats(tmp_path):
    storage = open_storage(f"journal://{tmp_path}/shared/study.journal", heartbeat_seconds=3)
    assert (tmp_path / "shared" / "study.journal").is_file()
    assert storage.get_heartbeat_interval() == 3 and storage.grace_period == 6
    assert dashboard_target(f"journal://{tmp_path}/s.journal") == f"{tmp_path}/s.journal"
    with pytest.raises(RunError, match="names no journal file"):
        open_storage(f"journal://{tmp_path}")


CREATE = """
import sys, time
import optuna
from neuralab.tune.storage import open_storage
optuna.logging.set_verbosity(optuna.logging.WARNING)
start = float(sys.argv[2])
while time.time() < start:  # every process opens the fresh file at the same instant
    time.sleep(0.001)
optuna.create_study(storage=open_storage(sys.argv[1]), study_name="fresh", load_if_exists=True)
print("opened")
"""


def test_workers_creating_one_fresh_sqlite_study_at_once_all_work(tmp_path):
    url = f"sqlite:///{tmp_path}/study.db"
    start = time.time() + 8  # after every interpreter has imported optuna (a guard, not a timing assertion)
    workers = [subprocess.Popen([sys.executable, "-c", CREATE, url, str(start)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for _ in range(4)]
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert all(worker.returncode == 0 and "opened" in output for worker, output in zip(workers, outputs)), outputs
    assert study_names(open_storage(url, heartbeat_seconds=None)) == ["fresh"]


def test_a_lost_table_creation_race_is_retried(tmp_path, monkeypatch):
    import optuna
    import sqlalchemy.exc

    real = optuna.storages.RDBStorage
    attempts = []

    def racing(*arguments, **settings):  # what the loser of the race sees first
        attempts.append(1)
        if len(attempts) == 1:
            raise sqlalchemy.exc.OperationalError("CREATE TABLE studies", {}, Exception("table studies already exists"))
        return real(*arguments, **settings)

    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    assert open_storage(f"sqlite:///{tmp_path}/study.db") is not None and len(attempts) == 2
