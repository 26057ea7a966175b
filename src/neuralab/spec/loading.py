"""Loading a spec: files (YAML/JSON/TOML), mappings, dotted overrides, validation, dumping.

A spec loads from YAML, JSON or TOML, takes ``dotted.key=value`` overrides (values parsed as
YAML) and fails with one line per problem naming the field, the value and what is allowed.
Input is read strictly, with bounded work: YAML aliases (``*name``, the stuff of alias
bombs) and a key given twice are refused by the parser; a mapping from Python is copied with
at most :data:`MAX_SPEC_NODES` values and :data:`MAX_SPEC_DEPTH` levels; an empty spec file
is refused (``load_spec(None)`` asks for every default on purpose).

Example:
    >>> from neuralab.spec import load_spec
    >>> spec = load_spec({"data": {"dataset": "spiral"}}, overrides={"train.epochs": 5})
    >>> spec.train.epochs, spec.model.activation
    (5, 'relu')
"""
from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from neuralab.errors import SpecError, did_you_mean
from neuralab.spec.catalog import FILE_DATASETS, SYNTHETIC_DATASETS
from neuralab.spec.fields import MAX_SPEC_BYTES, DataSpec, ExperimentSpec, ScheduleSpec
from neuralab.spec.problems import sub_model, validation_problems


MAX_SPEC_NODES = 10_000  # every value of a spec, defaults included, is a few hundred
MAX_SPEC_DEPTH = 32
LINE_WIDTH = 100_000  # a written spec keeps every value on its line: a long path is not folded onto the next


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses aliases and a key given twice (both errors are ``yaml.YAMLError``)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, f"aliases (*{event.anchor}) are not allowed in a spec; "
                                              "write the value out", event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(None, None, f"key {key!r} is given twice",
                                                            key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str) -> Any:
    r"""Parse YAML (or JSON) text with :class:`StrictLoader`: no tags, no aliases, no repeated keys.

    Raises:
        yaml.YAMLError: the text does not parse, or uses an alias or a repeated key.

    Example:
        >>> parse_yaml("train: {epochs: 5}")
        {'train': {'epochs': 5}}
        >>> parse_yaml("a: &x [1]\nb: *x")
        Traceback (most recent call last):
        ...
        yaml.composer.ComposerError: aliases (*x) are not allowed in a spec; write the value out
          in "<unicode string>", line 2, column 4:
            b: *x
               ^
    """
    loader = StrictLoader(text)  # what yaml.safe_load does, with the stricter loader
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_spec(source: str | Path | Mapping[str, Any] | ExperimentSpec | None = None, *,
              overrides: Mapping[str, Any] | Sequence[str] | None = None) -> ExperimentSpec:
    """Load and validate a spec from a file, a mapping or a spec, then apply overrides.

    Args:
        source: a ``.yaml``/``.yml``/``.json``/``.toml`` path, a mapping, a spec, or None
            for all defaults.
        overrides: ``{"train.epochs": 20}`` (values used as given) or
            ``["train.epochs=20"]`` (values parsed as YAML), applied in order.

    Raises:
        SpecError: one line per problem, naming the dotted field, the value and what is allowed.

    Example:
        >>> load_spec(None, overrides=["model.hidden=[8, 8]"]).model.hidden
        [8, 8]
    """
    if source is None:
        raw: dict[str, Any] = {}
    elif isinstance(source, ExperimentSpec):
        raw = source.model_dump(mode="json")
    elif isinstance(source, Mapping):
        raw = plain_copy(source)
    elif isinstance(source, (str, Path)):
        raw = read_spec_file(source)
        _resolve_file_paths(raw, Path(source).resolve().parent)
    else:
        raise SpecError(f"spec: expected a spec file path, a mapping or an ExperimentSpec, not {type(source).__name__}")
    problems: list[str] = []
    for key, value in _override_pairs(overrides):
        try:
            set_dotted(raw, key, plain_copy(value, what=f"{key}"))
        except SpecError as error:  # keep going: every bad override is reported, one line each
            problems += error.problems
    try:
        spec = validate_spec(raw)
    except SpecError as error:
        raise SpecError(problems + error.problems) from None
    if problems:
        raise SpecError(problems)
    return _absolute_data_path(spec)


def read_spec_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML/JSON/TOML spec file into a mapping (safe loaders only)."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec file: {str(path)!r} {'is not a file' if path.exists() else 'does not exist'}")
    size = path.stat().st_size
    if size > MAX_SPEC_BYTES:
        raise SpecError(f"spec file: {str(path)!r} is {size:,} bytes; a spec file is at most {MAX_SPEC_BYTES:,}")
    text = path.read_text(encoding="utf-8", errors="replace")
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            raw = json.loads(text, object_pairs_hook=_refuse_repeated_keys)
        elif suffix == ".toml":
            raw = tomllib.loads(text)  # TOML refuses a repeated key itself
        elif suffix in (".yaml", ".yml"):
            raw = parse_yaml(text)
        else:
            raise SpecError(f"spec file: {str(path)!r} has suffix {suffix!r}; use .yaml, .yml, .json or .toml")
    except (yaml.YAMLError, ValueError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise SpecError(f"spec file: {str(path)!r} cannot be parsed: {parse_problem(exc)}") from None
    except RecursionError:  # the parsers recurse per nesting level
        raise SpecError(f"spec file: {str(path)!r} cannot be parsed: nested too deeply") from None
    if raw is None:
        raise SpecError(f"spec file: {str(path)!r} is empty; write the fields to change (e.g. `data: "
                        "{dataset: digits}`) — an empty file would train every default, which is rarely meant")
    if not isinstance(raw, dict):
        raise SpecError(f"spec file: {str(path)!r} must hold a mapping of fields, not {type(raw).__name__}")
    return raw


def _override_pairs(overrides: Mapping[str, Any] | Sequence[str] | None) -> list[tuple[str, Any]]:
    if not overrides:
        return []
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    pairs = []
    for item in overrides:
        key, sep, text = str(item).partition("=")
        if not sep or not key.strip():
            raise SpecError(f"--set {item!r}: expected dotted.key=value, e.g. train.learning_rate=0.01")
        try:
            value = parse_yaml(text) if text.strip() else None
        except yaml.YAMLError as error:
            if "not allowed in a spec" in str(error) or "is given twice" in str(error):
                raise SpecError(f"--set {key.strip()}: {parse_problem(error)}") from None
            value = text
        except RecursionError:
            raise SpecError(f"--set {key.strip()}: the value is nested too deeply") from None
        pairs.append((key.strip(), value))
    return pairs


def parse_problem(error: Exception) -> str:
    """One line for a parser's error: what is wrong and where (``line L, column C`` for YAML)."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem:
        mark = error.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return f"{error.context + ': ' if error.context else ''}{error.problem}{where}"[:300]
    return " ".join(str(error).split())[:300]


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"key {repeated[0]!r} is given twice")
    return dict(pairs)


def plain_copy(value: Any, *, what: str = "spec") -> Any:
    """A deep copy of ``value`` in plain JSON types, with bounded work.

    Mappings become dicts with string keys, tuples lists, numbers and strings their plain
    types, anything else its ``str``; shared sub-structures (YAML aliases from a mapping a
    caller parsed) are copied out, so the count of values is bounded before any copy grows.

    Raises:
        SpecError: more than :data:`MAX_SPEC_NODES` values, or deeper than :data:`MAX_SPEC_DEPTH`.

    Example:
        >>> plain_copy({"hidden": (8, 8), 1: None})
        {'hidden': [8, 8], '1': None}
    """
    budget = [MAX_SPEC_NODES]

    def copy(item: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise SpecError(f"{what}: holds more than {MAX_SPEC_NODES:,} values — a spec is a page of settings "
                            "(YAML aliases that repeat a list?)")
        if depth > MAX_SPEC_DEPTH:
            raise SpecError(f"{what}: nested too deeply (more than {MAX_SPEC_DEPTH} levels)")
        if item is None or isinstance(item, bool):
            return item
        for plain in (float, int, str):  # numpy floats, enums of ints… become the plain type
            if isinstance(item, plain):
                return plain(item)
        if isinstance(item, Mapping):
            return {_plain_key(key): copy(child, depth + 1) for key, child in item.items()}
        if isinstance(item, (list, tuple)):
            return [copy(child, depth + 1) for child in item]
        return str(item)

    return copy(value, 0)


def _plain_key(key: Any) -> str:
    return key if isinstance(key, str) else json.dumps(key) if key is None or isinstance(key, (bool, int, float)) else str(key)


def set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set ``raw[a][b][c] = value`` for ``key = "a.b.c"``, checking each part is a spec field."""
    parts = key.split(".")
    model: type[BaseModel] | None = ExperimentSpec
    node = raw
    for depth, part in enumerate(parts):
        if model is None:
            raise SpecError(f"{key}: {'.'.join(parts[:depth])} has no sub-fields")
        if part not in model.model_fields:
            prefix = ".".join(parts[:depth])
            where = f"{prefix}." if prefix else ""
            allowed = list(model.model_fields)
            raise SpecError(f"{key}: unknown field {where}{part}; allowed: {', '.join(allowed)}"
                            f"{did_you_mean(part, allowed)}")
        if depth == len(parts) - 1:
            node[part] = value
            return
        model = sub_model(model, part)
        child = node.get(part)
        if isinstance(child, str) and model is ScheduleSpec:
            child = {"name": child}
        if not isinstance(child, dict):
            child = {}
        node[part] = child
        node = child


def validate_spec(raw: Mapping[str, Any]) -> ExperimentSpec:
    """Validate a mapping into an ExperimentSpec, turning pydantic errors into SpecError."""
    try:
        return ExperimentSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(validation_problems(exc, root=ExperimentSpec)) from None


def _resolve_file_paths(raw: dict[str, Any], base_dir: Path) -> None:
    """A relative ``data.path`` written in a spec file means beside that file, wherever neuralab runs."""
    data = raw.get("data")
    path = data.get("path") if isinstance(data, dict) else None
    if isinstance(path, str) and path and not Path(path).expanduser().is_absolute():
        data["path"] = str(base_dir / path)


def _absolute_data_path(spec: ExperimentSpec) -> ExperimentSpec:
    """A relative ``data.path`` given on the command line or in a mapping means from the current directory;
    made absolute, so the run's spec.yaml re-reads the same file from anywhere."""
    path = spec.data.path
    if path and not Path(path).expanduser().is_absolute():
        spec.data.path = str(Path(path).expanduser().absolute())
    return spec


DATA_FILE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def is_data_file(path: str | Path) -> bool:
    """True for a path that names a data file (``.csv``, ``.parquet``) rather than a spec.

    Example:
        >>> is_data_file("wine.csv"), is_data_file("spec.yaml")
        (True, False)
    """
    return Path(path).suffix.lower() in DATA_FILE_SUFFIXES


def data_file_overrides(path: str | Path) -> list[str]:
    """The overrides that make a spec train on a data file: its dataset kind, path and a name from it.

    ``neuralab train wine.csv`` loads ``load_spec(None, overrides=data_file_overrides("wine.csv") + sets)``:
    every other field keeps its default.

    Example:
        >>> data_file_overrides("my data.csv")[:2]
        ['name=my_data', 'data.dataset=csv']
    """
    path = Path(path)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", path.stem).strip("._-")[:100] or "data"
    return [f"name={name}", f"data.dataset={DATA_FILE_SUFFIXES.get(path.suffix.lower(), 'csv')}",
            f"data.path={json.dumps(str(path))}"]


def non_default_fields(spec: ExperimentSpec) -> dict[str, Any]:
    """The spec's fields that differ from their defaults, nested as in a spec file.

    Example:
        >>> non_default_fields(load_spec(None, overrides={"train.epochs": 5}))
        {'train': {'epochs': 5}}
    """
    def differences(value: Any, default: Any) -> Any:
        if isinstance(value, dict) and isinstance(default, dict):
            nested = {key: differences(item, default.get(key)) for key, item in value.items()}
            kept = {key: item for key, item in nested.items() if item is not _SAME}
            return kept or _SAME
        return _SAME if value == default else value

    found = differences(spec_to_dict(spec), spec_to_dict(ExperimentSpec()))
    return {} if found is _SAME else found


_SAME = object()


def spec_to_dict(spec: ExperimentSpec) -> dict[str, Any]:
    """Return the fully resolved spec as plain data (every field, defaults included)."""
    return spec.model_dump(mode="json")


SYNTHETIC_ONLY = ("n_samples", "noise", "n_classes", "features")  # data fields only a 2-D generator reads
FILE_ONLY = ("path", "target", "drop", "split_column")  # data fields only a csv/parquet file reads


def dump_spec(spec: ExperimentSpec) -> str:
    """Return the spec as YAML text, field order kept.

    Data fields the data set does not read (``n_samples`` of digits, ``path`` of spiral) are
    left out while they hold their defaults, so the file shows what the run used; loading it
    gives the same spec back.

    Example:
        >>> "n_samples" in dump_spec(load_spec({"data": {"dataset": "digits"}}))
        False
    """
    data = spec_to_dict(spec)
    defaults = DataSpec().model_dump(mode="json")
    unread = (() if spec.data.dataset in SYNTHETIC_DATASETS else SYNTHETIC_ONLY) + \
        (() if spec.data.dataset in FILE_DATASETS else FILE_ONLY)
    for key in unread:
        if key in data["data"] and data["data"][key] == defaults.get(key):
            del data["data"][key]
    return yaml_text(data)


def yaml_text(data: Any) -> str:
    """A spec's fields as YAML, in their order, every value on its own line (a long path is not folded)."""
    return yaml.safe_dump(data, sort_keys=False, width=LINE_WIDTH)
