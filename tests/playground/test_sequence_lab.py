"""The sequence page: its session (frames through time), its strict messages, its socket and the page itself."""
from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from neuralab.playground.sequence_lab import (MessageRefused, SequenceSession, Settings, parse_sequence_message,
                                              sequence_spec)
from neuralab.playground.server import create_app

SMALL = Settings(task="adding", length=8, hidden_size=6)


def test_frames_carry_losses_baseline_gradient_and_hidden_units():
    session = SequenceSession(SMALL)
    first = session.advance()
    second = session.advance()
    assert second["epoch"] == 2 and len(second["losses"]) == 2 and second["baseline"] == pytest.approx(1 / 6)
    assert len(second["gradient"]) == 8 and all(v > 0 for v in second["gradient"])
    assert len(second["hidden"]) == 6 and len(second["hidden"][0]) == 8  # units × time steps
    assert second["sequence"][0].count(".") == 1 and sum("*" in step for step in second["sequence"]) == 2
    assert first["losses"][0] == second["losses"][0]


def test_configure_changes_the_cell_and_the_task_and_the_spec_trains_the_same():
    session = SequenceSession(SMALL)
    config, frame = session.configure(parse_sequence_message('{"type": "configure", "cell": "gru", "task": "shakespeare"}'))
    assert config["settings"]["cell"] == "gru" and config["spec"]["data"]["dataset"] == "shakespeare"
    assert frame["epoch"] == 0 and len(frame["sequence"]) == 8  # characters of the first dev window
    spec = sequence_spec(Settings(cell="gru", task="shakespeare", length=8, hidden_size=6))
    assert spec.model.kind == "gru" and spec.data.max_characters == 60_000


@pytest.mark.parametrize("text, line", [
    ('{"type": "configure", "cell": "transformer"}', "configure.cell: input should be 'rnn', 'lstm' or 'gru'"),
    ('{"type": "configure", "length": 500}', "configure.length: input should be less than or equal to 200"),
    ('{"type": "jump"}', "type"),
    ('{"type": "play", "speed": 2}', "play.speed: extra inputs are not permitted"),
    ("[1, 2", "not a JSON object"),
])
def test_bad_messages_are_refused_with_one_line(text, line):
    with pytest.raises(MessageRefused, match=line.replace("(", "\\(").replace(")", "\\)")):
        parse_sequence_message(text)


def test_the_socket_answers_its_own_page_and_refuses_other_origins():
    client = TestClient(create_app(allowed_hosts=["testserver"]))
    assert "Hidden units over one dev sequence" in client.get("/sequence").text
    with client.websocket_connect("/ws/sequence", headers={"origin": "http://testserver"}) as socket:
        config, frame = socket.receive_json(), socket.receive_json()
        assert config["type"] == "config" and frame["type"] == "frame" and frame["epoch"] == 0
        socket.send_text('{"type": "configure", "length": 6, "hidden_size": 4}')
        assert socket.receive_json()["settings"]["length"] == 6
        socket.receive_json(), socket.receive_json()  # the fresh frame, then "playing": false
        socket.send_text('{"type": "step"}')
        assert socket.receive_json()["epoch"] == 1
        socket.receive_json()
        socket.send_text('{"type": "configure", "hidden_size": 0}')
        assert socket.receive_json()["type"] == "error"
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect("/ws/sequence", headers={"origin": "http://evil.example"}) as socket:
            socket.receive_json()
    assert closed.value.code == 1008


CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parents[2] / "build" / "screenshots" / "sequence.png"


@pytest.fixture
def sequence_page():
    """A new page of Debian's Chromium and the sequence page's server address (one each per test)."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium (make test installs it)")
    from playwright.sync_api import sync_playwright

    from neuralab.playground.server import BackgroundServer

    with BackgroundServer() as address, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            yield browser.new_page(), address + "/sequence"
        finally:
            browser.close()


def test_the_page_trains_and_draws_in_a_browser(sequence_page):
    page, url = sequence_page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_function("() => document.getElementById('status').textContent === 'connected'")
    page.select_option("#cell", "lstm")
    page.fill("#length", "12")
    page.dispatch_event("#length", "change")
    page.wait_for_function("() => document.getElementById('sequence').textContent.split(' ').length === 12")
    page.click("#play")
    page.wait_for_function("() => Number(document.getElementById('epoch').textContent) >= 3", timeout=60_000)
    page.click("#play")
    assert page.text_content("#ratio") != "—" and not errors
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_a_reply_arriving_while_the_user_types_keeps_what_they_typed(sequence_page):
    import json
    import time

    page, url = sequence_page
    configs = []
    page.on("websocket", lambda socket: socket.on(
        "framereceived", lambda text: configs.append(json.loads(text)) if '"config"' in text[:20] else None))
    page.goto(url)
    page.wait_for_function("() => document.getElementById('cell').options.length > 0")  # the first config
    page.fill("#length", "12")  # typing: the field has the focus, its change is not sent yet
    # meanwhile the reply to another control's change arrives (the cell changed without taking the focus)
    page.evaluate("() => { const cell = document.getElementById('cell'); cell.value = 'gru';"
                  " cell.dispatchEvent(new Event('change')); }")
    deadline = time.monotonic() + 60  # a guard against a hang, not a timing assertion
    while not any(config["settings"]["cell"] == "gru" for config in configs) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert configs[-1]["settings"]["cell"] == "gru" and page.input_value("#length") == "12"
    page.dispatch_event("#length", "change")  # leaving the field sends what was typed
    page.wait_for_function("() => document.getElementById('sequence').textContent.split(' ').length === 12")
    assert configs[-1]["settings"] == {**configs[-1]["settings"], "cell": "gru", "length": 12}
