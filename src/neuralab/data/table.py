"""Reading CSV and Parquet files into named columns, and turning columns into numbers.

CSV is read with the standard ``csv`` module (comma-separated, UTF-8, first row is the
header), Parquet with pyarrow. Nothing is ever evaluated. A column comes back as a numpy
array: float64/int64/bool for typed Parquet columns, object (``str`` or None) otherwise.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("a,b\\n1,x\\n2,y\\n")
    >>> columns = read_table(path)
    >>> numeric_column("a", columns["a"]).tolist()
    [1.0, 2.0]
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from neuralab.errors import DataError

MISSING = ("", "na", "n/a", "null", "none")


def read_table(path: str | Path, *, what: str = "data.path") -> dict[str, np.ndarray]:
    """Read a ``.csv`` or ``.parquet`` file (by suffix; anything else is read as CSV).

    Raises:
        DataError: missing or unreadable file, duplicate or empty column names, ragged rows.

    Example:
        >>> read_table("no/such.csv")
        Traceback (most recent call last):
        ...
        neuralab.errors.DataError: data.path: 'no/such.csv' does not exist
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{what}: {str(path)!r} does not exist")
    if not path.is_file():
        raise DataError(f"{what}: {str(path)!r} is not a file")
    if path.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(path, what=what)
    return _read_csv(path, what=what)


def _check_header(header: list[str], path: Path, *, what: str) -> None:
    if header and all(is_number_text(name) for name in header):  # rows of numbers from the first line on
        shown = ", ".join(header[:5]) + (", …" if len(header) > 5 else "")
        raise DataError(f"{what}: {str(path)!r} has no header row (its first row is numbers: {shown}); "
                        "the first row must name the columns")
    problems = []
    if any(not name.strip() for name in header):
        problems.append(f"{what}: {str(path)!r} has a column without a name in its header row")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        problems.append(f"{what}: {str(path)!r} has duplicate column names: {', '.join(duplicates)}")
    if problems:
        raise DataError(problems)


def _read_csv(path: Path, *, what: str) -> dict[str, np.ndarray]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if row]
    except UnicodeDecodeError:
        raise DataError(f"{what}: {str(path)!r} cannot be read as CSV: it is not UTF-8 text") from None
    except (OSError, csv.Error) as error:
        raise DataError(f"{what}: {str(path)!r} cannot be read as CSV: {error}") from None
    if not rows:
        raise DataError(f"{what}: {str(path)!r} is empty — no header and no rows")
    header = [name.strip() for name in rows[0]]
    _check_header(header, path, what=what)
    ragged = [index + 2 for index, row in enumerate(rows[1:]) if len(row) != len(header)]
    if ragged:
        hint = " (is it separated by ';' or tabs? use commas)" if len(header) == 1 else ""
        raise DataError(f"{what}: {str(path)!r}: {len(ragged)} rows do not have {len(header)} cells like the "
                        f"header (line {', '.join(map(str, ragged[:5]))}){hint}")
    cells = np.array(rows[1:], dtype=object).reshape(len(rows) - 1, len(header))
    return {name: cells[:, index] for index, name in enumerate(header)}


def _read_parquet(path: Path, *, what: str) -> dict[str, np.ndarray]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(f"{what}: {str(path)!r} cannot be read as Parquet: {first[:200]}") from None
    _check_header(list(table.column_names), path, what=what)
    return {name: _arrow_column(table.column(name)) for name in table.column_names}


def _arrow_column(column) -> np.ndarray:
    import pyarrow as pa

    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        if column.null_count == 0:
            return column.to_numpy()
        if not pa.types.is_boolean(kind):
            return column.to_numpy().astype(np.float64)
    return np.array(column.to_pylist(), dtype=object)


def is_missing(values: np.ndarray) -> np.ndarray:
    """Return a mask of empty cells (None, NaN-like words such as ``NA``, or blanks).

    Example:
        >>> is_missing(np.array(["1", "", None, "NA"], dtype=object)).tolist()
        [False, True, True, True]
    """
    if values.dtype != object:
        return np.isnan(values) if values.dtype.kind == "f" else np.zeros(len(values), dtype=bool)
    return np.array([value is None or (isinstance(value, str) and value.strip().lower() in MISSING)
                     for value in values], dtype=bool)


def numeric_column(name: str, values: np.ndarray, *, what: str = "column") -> np.ndarray:
    """Return a column as float64; empty cells become NaN (reported by the checks).

    Raises:
        DataError: a value is not a number, naming the column, the row and the value.

    Example:
        >>> numeric_column("a", np.array(["1", "x"], dtype=object))
        Traceback (most recent call last):
        ...
        neuralab.errors.DataError: column 'a': is not numeric — row 2 holds 'x'
    """
    if values.dtype != object:
        return values.astype(np.float64)
    filled = np.where(is_missing(values), "nan", values)
    try:
        return filled.astype(np.float64)
    except (ValueError, TypeError):
        row, bad = _first_non_number(filled)
        raise DataError(f"{what} {name!r}: is not numeric — row {row} holds {bad!r}") from None


def is_number_text(text: object) -> bool:
    """True when a cell reads as a number (``"1.5"``, ``"1e3"``, ``"nan"``).

    Example:
        >>> is_number_text("2.5"), is_number_text("red")
        (True, False)
    """
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _first_non_number(values: np.ndarray) -> tuple[int, object]:
    for index, value in enumerate(values):
        try:
            float(value)
        except (ValueError, TypeError):
            return index + 1, value
    return 0, None


def parses_as_numbers(values: np.ndarray) -> bool:
    """Return whether every non-empty cell of an object column reads as a number.

    Example:
        >>> parses_as_numbers(np.array(["1", "2.5"], dtype=object)), parses_as_numbers(np.array(["a"], dtype=object))
        (True, False)
    """
    if values.dtype != object:
        return values.dtype.kind in "iuf"
    try:
        np.where(is_missing(values), "nan", values).astype(np.float64)
    except (ValueError, TypeError):
        return False
    return True
