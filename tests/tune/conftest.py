"""A real PostgreSQL server for the tests of several tuning workers (one per test module that asks for it).

The fixture starts its own server (Debian's postgresql, installed by `make test` through
scripts/system-deps.sh): initdb into a temporary folder, pg_ctl on a free loopback port —
as the postgres user when the tests run as root, since PostgreSQL refuses to run as root.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

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
    """A fresh server's URL (``postgresql://neuralab@127.0.0.1:PORT/postgres``), stopped after the module."""
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
