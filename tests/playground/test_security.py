"""Who may reach the playground: this machine's names off loopback, a token, no framing."""
from __future__ import annotations

import socket

from neuralab.playground.security import cookie_name, host_names, is_loopback, machine_names


def test_loopback_answers_to_loopback_names_only():
    assert host_names("127.0.0.1") == ["127.0.0.1", "localhost", "::1", "[::1]"]
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and not is_loopback("0.0.0.0")


def test_off_loopback_this_machines_names_and_the_extra_ones_are_allowed():
    names = host_names("0.0.0.0", ["lab.example"])
    assert socket.gethostname().lower() in names and "lab.example" in names and "localhost" in names
    assert set(machine_names()) <= set(names) and "evil.example" not in names
    assert "192.0.2.7" in host_names("192.0.2.7")


def test_each_token_has_its_own_cookie():
    assert cookie_name("a") != cookie_name("b") and cookie_name("a").startswith("neuralab-playground-")
