"""``neuralab playground`` serves the page on 127.0.0.1 and prints its URL."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path


def test_playground_command_serves_on_loopback_and_prints_the_url():
    command = [str(Path(sys.executable).parent / "neuralab"), "playground", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    try:
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        with urllib.request.urlopen(match.group(0) + "api/table", timeout=30) as response:
            assert response.status == 200 and b"learning_rate" in response.read()
    finally:
        process.terminate()
        process.wait(timeout=30)
