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


def test_an_unknown_host_is_refused(app):
    with TestClient(app, base_url="http://rebound.example") as client:
        assert client.get("/").status_code == 400


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
