"""Property tests: random specs and random --set overrides either train or exit 2 naming a field.

Never a traceback (any exception other than NeuralabError escapes ``main`` and fails the
test), never a hang (an alarm fails an example that runs too long). Runs stay tiny: the
value pools keep epochs, widths and batch counts small whenever a value is valid.
"""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from neuralab.spec.catalog import names
from neuralab.cli import main
from neuralab.errors import DIVERGED_EXIT_CODE
from neuralab.spec.reference import spec_reference

BASE = {"name": "prop", "data": {"dataset": "circle", "n_samples": 40},
        "model": {"hidden": [4]}, "train": {"epochs": 2, "batch_size": 8}}
FIELDS = [row["field"] for row in spec_reference()]
JUNK_FIELDS = ["train.lerning_rate", "model.width", "foo", "data.dataset.name", "train.schedule.nme", "", ".", "a..b"]
WORDS = sorted({name for table in ("datasets", "activations", "optimizers", "schedules", "losses", "inits")
                for name in names(table)} | {"full", "auto", "", "relux", "[/x]", "../x", "nan", "csv"})
SETTINGS = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
LINE = re.compile(r"^error: \S.*?: .+")  # "error: <field or what>: <problem>"

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 4),
    st.sampled_from([0, 10**9, 10**12, -10**12, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 0.01, 0.5, 1e-3, 1e300, -1.0]),
    st.sampled_from(WORDS), st.text(max_size=8),
)
values = st.one_of(scalars, st.lists(st.integers(-1, 4), max_size=3), st.lists(st.sampled_from(WORDS), max_size=3),
                   st.dictionaries(st.sampled_from(["name", "patience", "x"]), scalars, max_size=2))


DEFAULTS = {row["field"]: json.loads(row["default"]) for row in spec_reference()}
CHOICES = {row["field"]: row["allowed"].split(", ") for row in spec_reference()
           if row["allowed"] and not any(sign in row["allowed"] for sign in "≥≤<>")}


def plausible(field: str) -> st.SearchStrategy:
    """Values likely to be valid for ``field``, so that many examples really train."""
    options = [DEFAULTS.get(field), 1, 2, 0.1, 0.5, True, False, "full"]
    if field in CHOICES:
        options += CHOICES[field]
    return st.sampled_from(options)


override = st.sampled_from(FIELDS + JUNK_FIELDS).flatmap(
    lambda field: st.tuples(st.just(field), st.one_of(values, plausible(field), plausible(field))))


def run_cli(spec_file: Path, extra: list[str], capsys, time_limit) -> None:
    with tempfile.TemporaryDirectory() as out, time_limit(60):
        code = main(["train", str(spec_file), *extra, "--out", out, "--quiet"])  # other exceptions fail the test
        created = list(Path(out).iterdir())
    captured = capsys.readouterr()
    event(f"exit code {code}")  # shown by --hypothesis-show-statistics: both outcomes must occur
    assert "Traceback" not in captured.err
    if code in (0, DIVERGED_EXIT_CODE):  # trained (or diverged, and written with its diagnosis)
        assert "run written to" in captured.out and len(created) == 1
        assert (code == DIVERGED_EXIT_CODE) == ("stopped: diverged" in captured.out)
        return
    assert code == 2, (code, captured.err)
    lines = [line for line in captured.err.strip().splitlines() if not line.startswith(("WARNING ", "INFO "))]
    assert lines and all(LINE.match(line) for line in lines), captured.err
    assert not created  # refused before any work


def write_spec(folder: Path, spec: dict, kind: str) -> Path:
    path = folder / f"spec.{kind}"
    path.write_text(yaml.safe_dump(spec) if kind == "yaml" else json.dumps(spec))
    return path


@SETTINGS
@given(overrides=st.lists(override, max_size=3),
       raw=st.lists(st.text(max_size=20), max_size=1))
def test_random_overrides_train_or_exit_2_naming_the_field(overrides, raw, capsys, time_limit):
    args = [arg for key, value in overrides for arg in ("--set", f"{key}={json.dumps(value)}")]
    args += [arg for text in raw for arg in ("--set", text)]
    with tempfile.TemporaryDirectory() as folder:
        run_cli(write_spec(Path(folder), BASE, "yaml"), args, capsys, time_limit)


def merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


sections = st.fixed_dictionaries({}, optional={
    section: st.dictionaries(st.sampled_from([f.split(".", 1)[1].split(".")[0] for f in FIELDS
                                              if f.startswith(section + ".")] + ["junk"]), values, max_size=3)
    for section in ("data", "model", "train", "diagnose")
} | {"seed": values, "name": values, "extra": values})


@settings(SETTINGS, max_examples=40)
@given(spec=sections, kind=st.sampled_from(["yaml", "json"]))
def test_random_spec_files_train_or_exit_2_naming_the_field(spec, kind, capsys, time_limit):
    with tempfile.TemporaryDirectory() as folder:
        run_cli(write_spec(Path(folder), merge(BASE, spec), kind), [], capsys, time_limit)


json_like = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=3),
    st.dictionaries(st.one_of(st.sampled_from(["data", "model", "train", "hidden", "epochs", "name", "schedule"]),
                              st.text(max_size=5)), children, max_size=3)), max_leaves=12)


@settings(SETTINGS, max_examples=300)
@given(raw=st.dictionaries(st.sampled_from(["name", "seed", "data", "model", "train", "diagnose", "junk"]),
                           json_like, max_size=4),
       overrides=st.dictionaries(st.sampled_from(FIELDS + JUNK_FIELDS), json_like, max_size=2))
def test_the_python_api_validates_any_mapping_with_spec_errors_only(raw, overrides):
    from neuralab.errors import SpecError
    from neuralab.spec import load_spec

    try:
        spec = load_spec(raw, overrides=overrides)
    except SpecError as error:
        assert error.problems and all(LINE.match(f"error: {line}") for line in error.problems)
    else:
        assert load_spec(spec.model_dump(mode="json")) == spec  # what validates round-trips
