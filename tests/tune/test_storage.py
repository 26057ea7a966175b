"""Storage URLs: defaults, drivers, passwords kept out of messages, unreachable servers."""
from __future__ import annotations

import pytest

from neuralab.errors import RunError
from neuralab.tune.storage import default_storage_url, hide_password, open_storage, with_driver


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
