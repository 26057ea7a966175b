"""The LLM explorer: its socket's rules (origin, schema, limits, runs the server chose) and, in Chromium, the page."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from neuralab.playground.explorer import (MAX_MESSAGE_CHARS, ExplorerRefusal, ExplorerSession, Predict, RunShelf,
                                          Sample, language_runs, parse_explorer_message)
from neuralab.playground.server import BackgroundServer, create_app

ORIGIN = {"origin": "http://testserver"}
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture
def client(tiny_gpt_run):
    with TestClient(create_app(allowed_hosts=["testserver"], runs=[tiny_gpt_run.dir])) as client:
        yield client


def until(socket, kind):
    for _ in range(20):
        message = socket.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


@pytest.mark.parametrize("text, problem", [
    ('{"type": "predict", "prompt": "x", "temperature": 9}', "predict.temperature: input should be less than or equal to 5"),
    ('{"type": "sample", "prompt": "x", "count": 500}', "sample.count: input should be less than or equal to 64"),
    ('{"type": "predict", "prompt": "x", "shell": "rm"}', "predict.shell: unknown field"),
    ('{"type": "open", "run": "../../etc"}' + " " * MAX_MESSAGE_CHARS, "message refused"),
    ('{"type": "predict", "prompt": "' + "a" * 4001 + '"}', "predict.prompt: string should have at most 4000"),
    ("[1, 2", "message refused: not a JSON object"),
    ('{"type": "train"}', "input tag 'train' found using 'type' does not match"),
])
def test_messages_outside_the_schema_are_refused_with_one_line(text, problem):
    with pytest.raises(ExplorerRefusal) as refused:
        parse_explorer_message(text)
    assert problem in str(refused.value)


def test_the_session_predicts_samples_and_shows_attention(tiny_gpt_run):
    session = ExplorerSession(RunShelf([tiny_gpt_run.dir]))
    [listed, opened] = session.hello()
    assert listed["runs"] == [tiny_gpt_run.dir.name] and opened["kind"] == "transformer" and opened["context"] == 16
    reply = session.predict(Predict(type="predict", prompt="To be, or not to", temperature=0.5, top_k=5))
    assert len(reply["bars"]) == 20 and sum(bar["probability"] > 0 for bar in reply["bars"]) == 5
    assert reply["bars"][0]["probability"] >= reply["bars"][0]["softmax"]  # a cold draw favours the favourite
    attention = reply["attention"]
    assert (attention["layers"], attention["heads"], len(attention["tokens"])) == (2, 2, 16)
    assert len(attention["weights"][1][1]) == 16
    grown = session.sample(Sample(type="sample", prompt="ROMEO:", count=5, seed=1))
    assert grown["prompt"].startswith("ROMEO:") and len(grown["added"]) == 5


def test_only_the_servers_runs_open(tiny_gpt_run, tmp_path):
    with pytest.raises(ExplorerRefusal, match="not one of the runs this server shows"):
        RunShelf([tiny_gpt_run.dir]).get("elsewhere")
    assert language_runs(tiny_gpt_run.dir.parent) == {tiny_gpt_run.dir.name: tiny_gpt_run.dir}
    assert language_runs(tmp_path) == {}
    assert ExplorerSession(RunShelf(folder=tmp_path)).hello() == [{"type": "runs", "runs": []}]


def test_the_socket_refuses_foreign_origins_and_answers_bad_messages(client):
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws/explore", headers={"origin": "http://evil.example"}) as socket:
            socket.receive_json()
    assert refused.value.code == 1008
    assert "LLM explorer" in client.get("/explore").text and client.get("/static/explorer.js").status_code == 200
    with client.websocket_connect("/ws/explore", headers=ORIGIN) as socket:
        until(socket, "opened")
        socket.send_text(json.dumps({"type": "predict", "prompt": "To be", "top_p": 0}))
        assert "top_p" in until(socket, "error")["message"]
        socket.send_text(json.dumps({"type": "predict", "prompt": "¿naïve?"}))
        assert "not in the vocabulary" in until(socket, "error")["message"]
        socket.send_text(json.dumps({"type": "predict", "prompt": "To be"}))  # the session goes on
        assert until(socket, "prediction")["context"][-2:] == ["b", "e"]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make test installs it)")
def test_the_page_in_chromium(tiny_gpt_run):
    from playwright.sync_api import sync_playwright

    with BackgroundServer(runs=[tiny_gpt_run.dir]) as address, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(address + "/explore")
        page.wait_for_function("() => window.explorer.state.prediction !== null")
        assert page.locator("#bars li").count() == 20
        assert page.locator("#thumbnails canvas").count() == 4  # 2 layers × 2 heads
        first = page.evaluate("window.explorer.state.prediction.bars[0].probability")
        page.fill("#temperature", "0.2")
        page.dispatch_event("#temperature", "input")
        page.wait_for_function(f"() => window.explorer.state.prediction.bars[0].probability > {first}")
        before = page.input_value("#prompt")
        page.click("#next")
        page.wait_for_function(f"() => document.getElementById('prompt').value.length === {len(before) + 1}")
        page.click("#thumbnails canvas >> nth=3")
        assert page.evaluate("[window.explorer.state.layer, window.explorer.state.head]") == [1, 1]
        assert (page.input_value("#layer"), page.input_value("#head")) == ("1", "1")  # the menus follow the click
        page.fill("#top_k", "0")
        page.dispatch_event("#top_k", "input")
        page.wait_for_selector("#error:not([hidden])")
        assert "top_k" in page.inner_text("#error")
        browser.close()
    assert not errors, errors
