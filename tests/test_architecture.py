"""The architecture holds: imports flow one way, one home per rule, no module over 400 lines.

The layers (README "Architecture"): spec → data, models → training → viz → runs → doctor,
tune → the front ends (api, many, sklearn, export, comparison, cli, playground). A module may import its own
package and the layers below it, never above.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from neuralab.spec.catalog import TABLES, names

SOURCE = Path(__file__).resolve().parents[1] / "src" / "neuralab"

# package → the packages it may import (besides itself and the standard/third-party libraries)
BASE = {"errors", "spec"}
ALLOWED = {
    "errors": set(),
    "spec": {"errors"},
    "data": BASE,
    "models": BASE,
    "training": BASE | {"data", "models"},
    "viz": BASE | {"training"},
    "runs": BASE | {"data", "models", "training", "viz"},
    "doctor": BASE | {"data", "models", "training", "viz", "runs"},
    "tune": BASE | {"data", "models", "training", "viz", "runs", "doctor"},
}
FRONT_ENDS = {"api", "many", "sklearn", "export", "comparison", "cli", "playground", "__init__"}
MAX_LINES = 400


def package_of(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return parts[0]


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("neuralab."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.ImportFrom) and node.module == "neuralab":
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[1] for alias in node.names
                         if alias.name.startswith("neuralab."))
    return found


MODULES = sorted(p for p in SOURCE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SOURCE)))
def test_imports_flow_one_way(path):
    package = package_of(path)
    if package in FRONT_ENDS:
        return  # front ends may use everything below them
    allowed = ALLOWED[package] | {package}
    wrong = sorted(imported_packages(path) - allowed - {"errors"})
    assert not wrong, f"{path.relative_to(SOURCE)} ({package}) imports {wrong}; allowed: {sorted(allowed)}"


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(SOURCE)): n for p in MODULES if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long


def test_the_layer_table_names_every_package():
    packages = {package_of(p) for p in MODULES}
    assert packages <= set(ALLOWED) | FRONT_ENDS


@pytest.mark.parametrize("table", ["optimizers", "activations", "datasets", "losses", "schedules", "inits"])
def test_no_module_relists_a_catalog_family(table):
    """A family of names (two or more catalog names written together) lives in the catalog alone.

    Registries that map every name of a table to its implementation are the exception: they are
    checked to cover the catalog exactly (tests/test_registries.py).
    """
    catalog = set(names(table))
    offenders = []
    for path in MODULES:
        if path.parent.name == "spec" and path.name == "catalog.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                values = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
                hits = [v for v in values if v in catalog]
                if len(set(hits)) >= 2 and len(hits) == len(values):
                    offenders.append(f"{path.relative_to(SOURCE)}:{node.lineno} {hits}")
    assert not offenders, f"catalog {table} re-listed: {offenders}"


def test_names_that_say_what_they_are():
    stems = [p.stem for p in MODULES if p.stem != "__init__"]
    twice = sorted({stem for stem in stems if stems.count(stem) > 1})
    assert not twice, f"module names used in two packages: {twice}"
    assert not re.search(r"\bextras\b", (SOURCE / "training" / "events.py").read_text())
    assert set(TABLES) >= {"model_kinds"}
