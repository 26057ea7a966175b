"""The server: Origin and Host checks, hostile and malformed messages, oversized requests, one session per tab."""
from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from neuralab.playground.messages import MAX_MESSAGE_CHARS
from neuralab.playground.server import create_app, origin_allowed

ORIGIN = {"origin": "http://testserver"}


@pytest.fixture
def app():
    return create_app(allowed_hosts=["testserver"])


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


def until(socket, kind):
    """Read messages until one of ``kind``; return it."""
    for _ in range(50):
        message = socket.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def test_page_and_table_are_served_from_the_package(client):
    assert "neuralab" in client.get("/").text
    assert client.get("/static/main.js").status_code == 200
    assert client.get("/api/table").json()["choices"]["limits"] == {"layers": 10, "neurons": 64, "samples": 5000}


@pytest.mark.parametrize("headers", [{}, {"origin": "http://evil.example"}, {"origin": "http://testserver.evil.example"},
                                     {"origin": "null"}, {"origin": "file://"}])
def test_a_socket_from_another_origin_is_refused(client, headers):
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws", headers=headers) as socket:
            socket.receive_json()
    assert refused.value.code == 1008


def test_origin_must_be_the_pages_own():
    assert origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert not origin_allowed("http://127.0.0.1:8001", "127.0.0.1:8000")
    assert not origin_allowed("https://example.com", "127.0.0.1:8000")


def test_an_unknown_host_is_refused_with_the_security_headers(app):
    with TestClient(app, base_url="http://rebound.example") as client:
        for response in (client.get("/"), client.head("/"), client.get("/api/table")):
            assert response.status_code == 400
            assert response.headers["x-frame-options"] == "DENY"
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("text, expected", [
    ("{not json", "not JSON"),
    ('{"type": "shutdown"}', "unknown type"),
    ('{"type": "configure", "changes": {"hidden": [64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64]}}', "state.hidden"),
    ('{"type": "configure", "changes": {"hidden": [100000]}}', "64 neurons"),
    ('{"type": "configure", "changes": {"learning_rate": -1}}', "learning_rate"),
    ('{"type": "configure", "changes": {"__class__": 1}}', "unknown field"),
    ('{"type": "configure", "changes": {"n_samples": 100000000}}', "n_samples"),
    ('{"type": "configure", "changes": {"problem": [1], "dataset": {"a": 1}}}', "state.problem"),
    ('{"type": "set_weight", "layer": 0, "row": 0, "column": 0, "value": "NaN"}', "set_weight.value"),
    ('{"type": "import", "text": "!!python/object/apply:os.system [\\"echo hi\\"]"}', "import"),
    ('{"type": "race", "surface": "../../etc/passwd"}', "surface"),
    (json.dumps({"type": "import", "text": "a" * (MAX_MESSAGE_CHARS + 1)}), "limit"),
])
def test_hostile_messages_get_an_error_and_the_session_goes_on(client, text, expected):
    with client.websocket_connect("/ws", headers=ORIGIN) as socket:
        until(socket, "frame")
        socket.send_text(text)
        error = until(socket, "error")
        assert expected in error["message"]
        socket.send_text(json.dumps({"type": "step"}))
        assert until(socket, "frame")["epoch"] == 1


def test_play_step_configure_export_over_the_socket(client):
    with client.websocket_connect("/ws", headers=ORIGIN) as socket:
        assert until(socket, "state")["state"]["dataset"] == "circle"
        socket.send_text(json.dumps({"type": "configure", "changes": {"hidden": [3, 3, 3]}}))
        assert until(socket, "state")["state"]["activations"] == ["tanh"] * 3
        socket.send_text(json.dumps({"type": "play"}))
        assert until(socket, "playing")["playing"] is True
        frame = until(socket, "frame")
        while frame["epoch"] < 3:
            frame = until(socket, "frame")
        socket.send_text(json.dumps({"type": "pause"}))
        until(socket, "playing")
        socket.send_text(json.dumps({"type": "export"}))
        spec = until(socket, "spec")
        assert "hidden:\n  - 3\n  - 3\n  - 3" in spec["text"] and spec["epoch"] >= 3


def test_each_tab_has_its_own_session_and_a_closed_tab_frees_it(app, client):
    with client.websocket_connect("/ws", headers=ORIGIN) as first, \
            client.websocket_connect("/ws", headers=ORIGIN) as second:
        until(first, "frame"), until(second, "frame")
        first.send_text(json.dumps({"type": "configure", "changes": {"dataset": "xor"}}))
        assert until(first, "state")["state"]["dataset"] == "xor"
        second.send_text(json.dumps({"type": "step"}))
        assert until(second, "frame")["epoch"] == 1
        assert len(app.state.connections) == 2
        sessions = {id(c.session) for c in app.state.connections}
        assert len(sessions) == 2
    assert len(app.state.connections) == 0


def test_the_race_runs_over_the_socket(client):
    with client.websocket_connect("/ws", headers=ORIGIN) as socket:
        socket.send_text(json.dumps({"type": "race", "surface": "rosenbrock", "start": [-1, 2],
                                     "learning_rates": {"adam": 0.1}, "steps": 30}))
        race = until(socket, "race")
        assert race["paths"]["adam"][0] == [-1, 2] and len(race["paths"]["sgd"]) == 31


def test_every_answer_forbids_framing_and_head_is_answered(client):
    for response in (client.get("/"), client.head("/"), client.get("/static/main.js"), client.get("/api/table")):
        assert response.status_code == 200
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert client.head("/").content == b""


def test_off_loopback_a_token_is_required_and_kept_in_a_cookie():
    app = create_app(allowed_hosts=["testserver"], token="s3cret-token")
    with TestClient(app) as client:
        refused = client.get("/")
        assert refused.status_code == 403 and "token" in refused.text and refused.headers["x-frame-options"] == "DENY"
        assert refused.headers.get_list("x-frame-options") == ["DENY"]  # once, not twice
        assert client.get("/api/table").status_code == 403
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect("/ws", headers=ORIGIN) as socket:
                socket.receive_json()
        assert refused.value.code == 1008
        assert client.get("/?token=wrong").status_code == 403
        assert client.get("/?token=s3cret-token").status_code == 200  # sets the cookie the page's requests carry
        assert client.get("/api/table").status_code == 200
        with client.websocket_connect("/ws", headers=ORIGIN) as socket:
            assert until(socket, "frame")["epoch"] == 0
    with TestClient(app) as other:
        assert other.get("/api/table", headers={"authorization": "token s3cret-token"}).status_code == 200


def test_bound_to_every_interface_only_this_machines_names_are_answered():
    import socket as sockets

    from neuralab.playground.security import host_names
    from neuralab.playground.server import make_server

    server = make_server(host="0.0.0.0", port=0)
    names = host_names("0.0.0.0")
    assert server.token and len(server.token) >= 24
    assert "evil.example" not in names and sockets.gethostname().lower() in names and "127.0.0.1" in names
    app = create_app(allowed_hosts=names, token="t0ken")
    with TestClient(app, base_url="http://evil.example") as client:  # a page that rebinds its name to us
        assert client.get("/?token=t0ken").status_code == 400
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws?token=t0ken", headers={"origin": "http://evil.example"}) as ws:
                ws.receive_json()


@pytest.mark.parametrize("text, expected", [
    ('{"type": "race", "surface": "bowl", "start": [Infinity, 0]}', "race.start.0: not a finite number"),
    ('{"type": "set_weight", "layer": 0, "row": 0, "column": 0, "value": NaN}', "set_weight.value: not a number"),
    ('{"type": "configure", "changes": {"learning_rate": true}}', "learning_rate"),
    ('{"type": "configure", "changes": {"batch_norm": "yes"}}', "batch_norm"),
    ('{"type": "configure", "changes": {"noise": NaN}}', "configure.changes.noise: not a number"),
])
def test_numbers_that_are_not_numbers_are_refused_and_replies_stay_json(client, text, expected):
    with client.websocket_connect("/ws", headers=ORIGIN) as socket:
        until(socket, "frame")
        socket.send_text(text)
        raw = None
        for _ in range(50):
            raw = socket.receive_text()
            if '"error"' in raw:
                break
        assert "NaN" not in raw and "Infinity" not in raw
        assert expected in json.loads(raw)["message"]


def test_replies_with_non_finite_numbers_are_strict_json():
    from neuralab.playground.messages import encode_reply

    text = encode_reply({"type": "race", "final": {"sgd": float("nan"), "adam": 0.5},
                         "paths": {"sgd": [[1.0, float("inf")]]}})
    assert json.loads(text, parse_constant=lambda token: pytest.fail(f"bare {token}")) == {
        "type": "race", "final": {"sgd": None, "adam": 0.5}, "paths": {"sgd": [[1.0, None]]}}


def test_frames_travel_uncompressed_even_when_the_browser_offers_deflate():
    import asyncio

    import websockets

    from neuralab.playground.server import BackgroundServer

    async def negotiated(url: str) -> str | None:
        async with websockets.connect(url.replace("http", "ws") + "/ws", origin=url) as socket:  # offers deflate
            return socket.response.headers.get("Sec-WebSocket-Extensions")

    with BackgroundServer() as url:
        assert asyncio.run(negotiated(url)) is None
