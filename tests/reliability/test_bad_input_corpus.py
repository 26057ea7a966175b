"""The bad-input corpus (tests/corpus): each file exits 2 with its problem named, no traceback, nothing written."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from neuralab.cli import main

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text())
BASE = CORPUS.parents[1] / "examples" / "spiral.yaml"
PWNED = Path("/tmp/neuralab-pwned")  # what the python_tag spec would create if YAML ran code


def data_args(name: str) -> list[str]:
    kind = "parquet" if name.endswith(".parquet") else "csv"
    return [str(BASE), "--set", f"data.dataset={kind}", "--set", f"data.path={CORPUS / 'data' / name}",
            "--set", "data.features=[x1,x2]"]


CASES = [pytest.param([str(CORPUS / "specs" / name)], message, id=f"spec:{name}")
         for name, message in EXPECTED["specs"].items()]
CASES += [pytest.param(data_args(name), message, id=f"data:{name}") for name, message in EXPECTED["data"].items()]


def test_every_corpus_file_has_an_expected_message():
    on_disk = {f"{p.parent.name}:{p.name}" for p in CORPUS.glob("*/*")}
    listed = {f"{kind}:{name}" for kind in ("specs", "data") for name in EXPECTED[kind]}
    assert on_disk == listed


@pytest.mark.parametrize("args, message", CASES)
def test_bad_input_exits_2_naming_the_problem(args, message, tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["train", *args, "--out", str(out), "--quiet"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert any(message in line for line in lines), captured.err
    assert all(line.startswith("error: ") for line in lines), captured.err  # one line per problem
    assert "Traceback" not in captured.err and not captured.out
    assert not out.exists()  # refused before any work
    assert not PWNED.exists()


def test_an_oversized_spec_file_is_refused_unread(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * 200_000)
    assert main(["train", str(big), "--out", str(tmp_path / "runs")]) == 2
    assert "at most 1,000,000" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    ([str(CORPUS / "specs" / "python_tag.yaml")], "cannot be parsed"),
    (data_args("nan_values.csv"), "NaN"),
], ids=["spec", "data"])
def test_the_installed_script_refuses_bad_input_the_same_way(args, message, tmp_path):
    script = Path(sys.executable).with_name("neuralab")
    result = subprocess.run([str(script), "train", *args, "--out", str(tmp_path / "runs")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "runs").exists() and not PWNED.exists()
