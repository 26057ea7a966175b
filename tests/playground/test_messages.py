"""The WebSocket protocol refuses what it does not know, with one readable line."""
from __future__ import annotations

import json

import pytest

from neuralab.playground.messages import MAX_MESSAGE_CHARS, MessageError, parse_message


@pytest.mark.parametrize("text, expected", [
    ("not json", "not JSON"),
    ("[1, 2]", "unknown type"),
    ('{"type": "format_disk"}', "unknown type 'format_disk'"),
    ('{"type": "play", "speed": 3}', "play.speed: unknown field"),
    ('{"type": "set_weight", "layer": 0, "row": 0, "column": 0, "value": 1e9}', "set_weight.value"),
    ('{"type": "set_weight", "layer": -1, "row": 0, "column": 0, "value": 1}', "set_weight.layer"),
    ('{"type": "configure"}', "configure.changes"),
    ('{"type": "race", "surface": "bowl", "steps": 100000}', "race.steps"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"type": "configure", "changes": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
])
def test_malformed_messages_are_refused(text, expected):
    with pytest.raises(MessageError, match=expected.replace("(", r"\(")):
        parse_message(text)


def test_an_oversized_message_is_refused_before_parsing():
    text = json.dumps({"type": "import", "text": "x" * MAX_MESSAGE_CHARS})
    with pytest.raises(MessageError, match="limit"):
        parse_message(text)


def test_valid_messages_parse():
    assert parse_message('{"type": "step"}').type == "step"
    assert parse_message('{"type": "set_weight", "layer": 1, "row": 0, "column": -1, "value": 0.5}').column == -1
