"""Who may talk to the playground server: allowed host names, a token off loopback, no framing.

Bound to loopback (the default) the server answers only to ``127.0.0.1``, ``localhost``
and ``::1`` in the ``Host`` header, so a page that rebinds its own name to this machine
(DNS rebinding) is refused. Bound to another address (``--host 0.0.0.0`` for a
classroom), it answers to this machine's names and addresses only (its host name, fully
qualified name, the addresses they resolve to, the address it reaches the network from,
the bound address and any ``--allow-host``), and every request must carry the token
printed with the URL — as ``?token=…`` (the page then keeps it in a cookie, as Jupyter
does) or an ``Authorization: token …`` header. Every HTTP answer forbids framing
(``X-Frame-Options: DENY``, ``Content-Security-Policy: frame-ancestors 'none'``) and
loads nothing from another origin.

Example:
    >>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0")
    (True, False)
    >>> "localhost" in host_names("127.0.0.1")
    True
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import socket
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
# The page's own scripts, styles and socket only; blob: for the files it downloads; never framed.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                           "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
                           "frame-ancestors 'none'")
SECURITY_HEADERS = [(b"x-frame-options", b"DENY"), (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach."""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def new_token() -> str:
    """A fresh random token (32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def machine_names() -> list[str]:
    """This machine's names and addresses: host name, FQDN, what they resolve to, the outbound address."""
    names = [socket.gethostname(), socket.getfqdn()]
    for name in list(names):
        try:
            names += [info[4][0] for info in socket.getaddrinfo(name, None)]
        except OSError:
            pass
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:  # a UDP "connection" sends nothing; it only asks the kernel which address would be used
            with socket.socket(family, socket.SOCK_DGRAM) as udp:
                udp.connect((probe, 9))
                names.append(udp.getsockname()[0])
        except OSError:
            pass
    return [name.lower() for name in dict.fromkeys(names) if name]


def host_names(host: str, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The ``Host`` names the server answers to when bound to ``host``."""
    names = list(LOOPBACK_HOSTS)
    if not is_loopback(host):
        names += machine_names()
        if host not in WILDCARD_HOSTS:
            names.append(host.lower())
    names += [name.lower() for name in extra]
    bracketed = [f"[{name}]" for name in names if ":" in name]  # IPv6 literals arrive bracketed
    return list(dict.fromkeys(names + bracketed))


def cookie_name(token: str) -> str:
    """The cookie holding ``token``: named after it, so servers on other ports keep their own."""
    return "neuralab-playground-" + hashlib.sha256(token.encode()).hexdigest()[:12]


class SecurityHeaders:
    """ASGI middleware, the outermost: the security headers on every HTTP answer, the Host check's
    400 and the token check's 403 included."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers", [])) + SECURITY_HEADERS}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SecurityMiddleware:
    """ASGI middleware: the token check when one is set, and the cookie that keeps it.

    Args:
        app: the ASGI app it wraps.
        token: the token every request must carry (None: no token, loopback only).
    """

    def __init__(self, app, *, token: str | None = None):
        self.app = app
        self.token = token
        self.cookie = cookie_name(token) if token else ""

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        from_query = self._from_query(scope)
        if self.token and not (from_query or self._from_cookie(scope) or self._from_header(scope)):
            await self._refuse(scope, receive, send)
            return

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                cookie = f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode()
                message = {**message, "headers": list(message.get("headers", [])) + [(b"set-cookie", cookie)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie if scope["type"] == "http" and from_query else send)

    def _matches(self, value: str | None) -> bool:
        return bool(value) and secrets.compare_digest(value.encode(), self.token.encode())

    def _from_query(self, scope) -> bool:
        if not self.token:
            return False
        values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [])
        return any(self._matches(value) for value in values)

    def _header(self, scope, name: bytes) -> str | None:
        for key, value in scope.get("headers", []):
            if key.lower() == name:
                return value.decode("latin-1")
        return None

    def _from_cookie(self, scope) -> bool:
        cookies = SimpleCookie()
        try:
            cookies.load(self._header(scope, b"cookie") or "")
        except Exception:  # a malformed cookie header is no token
            return False
        return self.cookie in cookies and self._matches(cookies[self.cookie].value)

    def _from_header(self, scope) -> bool:
        value = self._header(scope, b"authorization") or ""
        return value.lower().startswith("token ") and self._matches(value[6:].strip())

    async def _refuse(self, scope, receive, send) -> None:
        log.warning("refused a request without the playground's token: %s %s", scope["type"], scope.get("path"))
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = (b"This playground needs its token: open the URL that `neuralab playground` printed "
                b"(it ends in ?token=...).\n")
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body if scope.get("method") != "HEAD" else b""})
