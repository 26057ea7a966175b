"""The playground's ASGI app (FastAPI) and how to run it with uvicorn.

Routes: ``/`` the page (GET and HEAD), ``/static/*`` its modules (shipped in the package,
no CDN), ``/sequence`` and ``/explore`` (the LLM explorer,
:mod:`neuralab.playground.explorer`) with their sockets, ``/api/table`` the declared state table and menus, and ``/ws`` the WebSocket, one
session per tab. The socket is refused (code 1008) unless its ``Origin`` is the page's own
origin on an allowed host, so a page on another site cannot drive the local server; the
``Host`` header is checked on every request too (DNS rebinding), and off loopback every
request needs the server's token (see :mod:`neuralab.playground.security`).

Example:
    >>> from fastapi.testclient import TestClient
    >>> client = TestClient(create_app(allowed_hosts=["testserver"]))
    >>> client.get("/api/table").json()["table"][0]["name"]
    'mode'
"""
from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, WebSocket
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from neuralab.playground.connection import Connection
from neuralab.playground.messages import MAX_MESSAGE_CHARS
from neuralab.playground.security import (LOOPBACK_HOSTS, SecurityHeaders, SecurityMiddleware, host_names,
                                          is_loopback, new_token)
from neuralab.playground.session import Session
from neuralab.playground.sockets import serve_tab
from neuralab.playground.state import choices, state_table

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MAX_SESSIONS = 32


def origin_allowed(origin: str | None, host: str | None) -> bool:
    """True when ``origin`` is ``http(s)://<host>``: the page this server itself served."""
    if not origin or not host:
        return False
    parsed = urlsplit(origin)
    return parsed.scheme in ("http", "https") and parsed.netloc.lower() == host.lower()


def create_app(*, allowed_hosts: list[str] | None = None, token: str | None = None,
               runs: list[Path] | None = None) -> FastAPI:
    """The app; ``allowed_hosts`` are the host names it answers to (default: loopback only);
    with a ``token``, every request must carry it (query, cookie or Authorization header);
    ``runs``: the language-model runs the LLM explorer shows (default: those found in ``runs/``)."""
    app = FastAPI(title="neuralab playground", docs_url=None, redoc_url=None, openapi_url=None)
    hosts = list(allowed_hosts or LOOPBACK_HOSTS)
    app.add_middleware(SecurityMiddleware, token=token)  # inner: sees only requests from allowed hosts
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)
    app.add_middleware(SecurityHeaders)  # outermost: every answer, the Host check's 400 too, forbids framing
    app.state.connections = set()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.api_route("/", methods=["GET", "HEAD"])
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/api/table")
    async def table() -> dict:
        from neuralab.training.race import RACE_OPTIMIZERS, SURFACES

        return {"table": state_table(), "choices": choices(), "previews": _previews(),
                "race": {"surfaces": {name: surface.describe() for name, surface in SURFACES.items()},
                         "optimizers": RACE_OPTIMIZERS}}

    @app.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        async def connect() -> Connection:
            return Connection(websocket, await asyncio.to_thread(Session))

        await serve_tab(websocket, app.state.connections, origin_allowed=origin_allowed, max_sessions=MAX_SESSIONS,
                        connect=connect, page="playground")

    from neuralab.playground.sequence_lab import add_sequence_routes

    add_sequence_routes(app, static=STATIC, origin_allowed=origin_allowed, max_sessions=MAX_SESSIONS)
    from neuralab.playground.explorer import add_explorer_routes

    add_explorer_routes(app, static=STATIC, origin_allowed=origin_allowed, max_sessions=MAX_SESSIONS, runs=runs)
    return app


@functools.lru_cache(maxsize=1)
def _previews() -> dict:
    from neuralab.playground.pictures import dataset_previews
    from neuralab.playground.state import CLASSIFICATION_DATASETS, REGRESSION_DATASETS

    return dataset_previews(CLASSIFICATION_DATASETS + REGRESSION_DATASETS)


def make_server(*, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
                extra_hosts: list[str] | tuple[str, ...] = (), runs: list[Path] | None = None):
    """A uvicorn server for the playground on ``host:port`` (port 0: a free one).

    Off loopback it answers to this machine's names and addresses (plus ``extra_hosts``)
    and needs a token: ``token``, or a new one, kept as ``server.token`` (None on loopback).
    ``runs``: see :func:`create_app`.
    """
    import uvicorn

    if is_loopback(host) and not token:
        token = None
    else:
        token = token or new_token()
    app = create_app(allowed_hosts=host_names(host, extra_hosts), token=token, runs=runs)
    # no per-message deflate: frames are base64 pictures, and compressing 30 of them a second took the
    # event loop's thread about 7 % of a core for little gain in size
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", ws_max_size=4 * MAX_MESSAGE_CHARS,
                            ws_per_message_deflate=False, lifespan="off")
    server = uvicorn.Server(config)
    server.token = token
    return server


class BackgroundServer:
    """Run the playground in a thread (tests, benchmarks): ``with BackgroundServer() as url:``."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                 runs: list[Path] | None = None):
        self.server = make_server(host=host, port=port, token=token, runs=runs)
        self.thread = threading.Thread(target=self.server.run, name="playground-server", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the playground server did not start")
            time.sleep(0.02)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

