"""The doctor's health record in a run directory: ``health.json`` (everything) and ``health.csv``.

Example:
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> record = {"format": FORMAT, "every": 1, "layers": [{"name": "output"}],
    ...           "samples": [{"step": 1, "epoch": 1, **{key: [0.5] for key in SERIES}}]}
    >>> write_health(record, folder)
    >>> read_health(folder)["samples"][0]["grad_norm"]
    [0.5]
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neuralab.errors import RunError
from neuralab.runs.files import write_csv, write_json
from neuralab.training.health_record import FORMAT, SERIES


def write_health(records: dict[str, Any], folder: str | Path) -> None:
    """Write ``health.json`` (everything) and ``health.csv`` (one row per sample and layer)."""
    folder = Path(folder)
    write_json(folder / "health.json", records, indent=None)
    names = [layer["name"] for layer in records["layers"]]
    rows = [{"step": sample["step"], "epoch": sample["epoch"], "layer": name,
             **{key: sample[key][index] for key in SERIES}}
            for sample in records["samples"] for index, name in enumerate(names)]
    write_csv(folder / "health.csv", rows, ["step", "epoch", "layer", *SERIES])


def read_health(folder: str | Path) -> dict[str, Any] | None:
    """Read ``health.json`` from a run directory; None when the run recorded none.

    Raises:
        RunError: the file exists but is not a readable health record.
    """
    path = Path(folder) / "health.json"
    if not path.is_file():
        return None
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunError(f"run health.json: cannot be read as JSON ({error})") from None
    if not isinstance(records, dict) or records.get("format") != FORMAT or not isinstance(records.get("samples"), list):
        found = records.get("format") if isinstance(records, dict) else None
        raise RunError(f"run health.json: not a {FORMAT} record (format {found!r})")
    return records
