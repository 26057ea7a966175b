"""Reading CSV and Parquet files into named columns, and turning columns into numbers.

Both formats are read with pyarrow, in batches, straight into compact numpy columns: a
column of numbers becomes float32 (float64 only where float32 would change a value that
matters: beyond float32's range, which the data checks then report, or whole numbers above
2^24, such as ids and labels), any other column an object array of ``str`` (None where a
cell is empty). Peak memory stays near the size of the numbers, not of the text
(``benchmarks/csv_memory.py``). CSV is comma-separated UTF-8 with a header row; cells
are text and numbers, never evaluated; ``1_000`` is text, not a thousand. Empty cells and
``NA``, ``N/A``, ``null``, ``none``, ``NaN`` (any case) are missing.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("a,b\\n1,x\\n2,y\\n")
    >>> columns = read_table(path)
    >>> columns["a"].dtype, numeric_column("a", columns["a"]).tolist(), columns["b"].tolist()
    (dtype('float32'), [1.0, 2.0], ['x', 'y'])
"""
from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from neuralab.errors import DataError

MISSING = ("", "na", "n/a", "null", "none", "nan")
BLOCK_BYTES = 4 << 20  # CSV read in 4 MB blocks: memory follows the numbers, not the file
FLOAT32_MAX = float(np.finfo(np.float32).max)
FLOAT32_WHOLE = 2.0**24  # every whole number up to this is exact in float32
_COLUMN = re.compile(r"In CSV column #(\d+)")


def read_table(path: str | Path, *, what: str = "data.path") -> dict[str, np.ndarray]:
    """Read a ``.csv`` or ``.parquet`` file (by suffix; anything else is read as CSV).

    Returns:
        ``{column name: values}``: float32 (or float64, see above) for numbers, ``bool`` for
        typed Parquet booleans, object (``str`` or None) otherwise.

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
    duplicates = sorted(name for name, count in Counter(header).items() if count > 1)
    if duplicates:
        problems.append(f"{what}: {str(path)!r} has duplicate column names: {', '.join(duplicates[:20])}"
                        + (f" and {len(duplicates) - 20} more" if len(duplicates) > 20 else ""))
    if problems:
        raise DataError(problems)


# --------------------------------------------------------------------------- CSV


def _read_csv(path: Path, *, what: str) -> dict[str, np.ndarray]:
    import pyarrow as pa

    header, header_lines = _read_header(path, what=what)
    _check_header(header, path, what=what)
    types: dict[str, object] = {}  # types pyarrow's inference got wrong on a later block
    while True:
        ragged: list[object] = []
        try:
            columns = _collect(header, _open_csv(path, header, header_lines, types, ragged))
        except pa.ArrowInvalid as error:
            message = str(error)
            found = _COLUMN.search(message)
            if "UTF8" in message:
                raise DataError(f"{what}: {str(path)!r} cannot be read as CSV: it is not UTF-8 text") from None
            name = header[int(found.group(1))] if found else None
            if name is None or types.get(name) == pa.string():
                raise DataError(f"{what}: {str(path)!r} cannot be read as CSV: {_first_line(message)}") from None
            # whole numbers first, then a fraction: read as floats; numbers first, then text: as text
            types[name] = pa.string() if name in types else pa.float64()
            continue
        if ragged:
            raise DataError(_ragged_problem(path, header, what=what))
        return columns


def _read_header(path: Path, *, what: str) -> tuple[list[str], int]:
    """The header row's names (stripped) and the physical lines up to and including it."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next((row for row in reader if row), None)
            lines = reader.line_num
    except UnicodeDecodeError:
        raise DataError(f"{what}: {str(path)!r} cannot be read as CSV: it is not UTF-8 text") from None
    except (OSError, csv.Error) as error:
        raise DataError(f"{what}: {str(path)!r} cannot be read as CSV: {error}") from None
    if header is None:
        raise DataError(f"{what}: {str(path)!r} is empty — no header and no rows")
    return [name.strip() for name in header], lines


def _open_csv(path: Path, header: list[str], header_lines: int, types: dict, ragged: list):
    import pyarrow.csv as pa_csv

    def skip(row) -> str:  # a row with more or fewer cells than the header: counted, then reported
        ragged.append(row)
        return "skip"

    return pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(column_names=header, skip_rows=header_lines, block_size=BLOCK_BYTES),
        parse_options=pa_csv.ParseOptions(invalid_row_handler=skip),
        convert_options=pa_csv.ConvertOptions(
            column_types=types, strings_can_be_null=True, true_values=[], false_values=[],  # true/false stay text
            null_values=sorted({variant for word in MISSING for variant in (word, word.upper(), word.title())})))


def _ragged_problem(path: Path, header: list[str], *, what: str) -> str:
    lines = []
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        next((row for row in reader if row), None)
        for row in reader:
            if row and len(row) != len(header):
                lines.append(reader.line_num)
    hint = " (is it separated by ';' or tabs? use commas)" if len(header) == 1 else ""
    return (f"{what}: {str(path)!r}: {len(lines)} rows do not have {len(header)} cells like the header "
            f"(line {', '.join(map(str, lines[:5]))}){hint}")


# --------------------------------------------------------------------------- Parquet


def _read_parquet(path: Path, *, what: str) -> dict[str, np.ndarray]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path)
        names = list(source.schema_arrow.names)
        _check_header(names, path, what=what)
        return _collect(names, source.iter_batches(batch_size=65_536))
    except (OSError, pa.ArrowException, ValueError) as error:
        raise DataError(f"{what}: {str(path)!r} cannot be read as Parquet: {_first_line(str(error))}") from None


# --------------------------------------------------------------------------- batches → columns


def _collect(names: list[str], batches: Iterable) -> dict[str, np.ndarray]:
    """Gather record batches into one numpy column per name, each batch converted as it arrives.

    The numbers of a batch are converted together, as one (rows, columns) block, so a table
    of 100,000 columns costs a few numpy calls per batch, not a few per column. Columns of
    numbers come back as views of one float32 matrix (a column that needs float64 as its
    own array).
    """
    import pyarrow as pa

    blocks: list[np.ndarray] = []  # float32 (rows, numeric columns) per batch
    wide: dict[int, list[np.ndarray]] = {}  # float64 chunks of the columns that need them, by place
    texts: dict[int, list[np.ndarray]] = {}
    numeric: list[int] = []
    empty: set[int] = set()  # columns of empty cells only (pyarrow's null type)
    rows = 0
    for batch in batches:  # a batch's schema is the file's: pyarrow raises on a cell that does not fit it
        if not blocks and not texts:
            kinds = [field.type for field in batch.schema]
            numeric = [index for index, kind in enumerate(kinds) if _is_number_type(kind)]
            empty = {index for index, kind in enumerate(kinds) if pa.types.is_null(kind)}
            not_text = set(numeric) | empty
            texts = {index: [] for index in range(len(kinds)) if index not in not_text}
        rows += batch.num_rows
        block = (np.asarray(batch.select(numeric).to_tensor(null_to_nan=True), dtype=np.float64) if numeric
                 else np.empty((batch.num_rows, 0)))  # (rows, numeric columns), one call for all of them
        for place in np.flatnonzero(_needs_float64(block)).tolist():
            wide.setdefault(place, [np.concatenate([part[:, place] for part in blocks]).astype(np.float64)]
                            if blocks else [])
        for place, chunks in wide.items():
            chunks.append(block[:, place].copy())
        with np.errstate(over="ignore"):  # a column beyond float32 is kept in float64 above
            blocks.append(block.astype(np.float32))
        del block
        for index, chunks in texts.items():
            chunks.append(_text_column(batch.column(index)))
    matrix = np.concatenate(blocks) if blocks else np.empty((0, len(numeric)), dtype=np.float32)
    del blocks
    places = {index: place for place, index in enumerate(numeric)}
    result: dict[str, np.ndarray] = {}
    for index, name in enumerate(names):
        if index in places:
            place = places[index]
            result[name] = np.concatenate(wide[place]) if place in wide else matrix[:, place]
        elif index in texts and texts[index]:
            result[name] = np.concatenate(texts.pop(index))
        else:  # no cell holds anything (or no rows at all)
            result[name] = np.full(rows, np.nan, dtype=np.float32)
    return result


def _is_number_type(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_integer(kind) or pa.types.is_floating(kind)


def _text_column(column) -> np.ndarray:
    import pyarrow as pa

    if pa.types.is_boolean(column.type) and column.null_count == 0:  # a typed Parquet boolean
        return column.to_numpy(zero_copy_only=False)
    return np.asarray(column.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)


def _needs_float64(block: np.ndarray) -> np.ndarray:
    """Per column of a float64 (rows, columns) block: whether float32 would change a value that matters.

    Example:
        >>> _needs_float64(np.array([[0.5, 1e300, 2.0**30]])).tolist()
        [False, True, True]
    """
    magnitude = np.abs(np.where(np.isfinite(block), block, 0.0))
    beyond = (magnitude > FLOAT32_MAX).any(axis=0)  # kept as they are: the data checks name them
    large_whole = ((magnitude > FLOAT32_WHOLE) & (block == np.round(block))).any(axis=0)  # ids, labels
    return beyond | large_whole


def _first_line(message: str) -> str:
    lines = message.strip().splitlines()
    return lines[0][:200] if lines else "unknown error"


# --------------------------------------------------------------------------- columns → numbers


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
    """Return a column as numbers (float32 stays float32, text becomes float64); empty cells become NaN.

    Text cells must be plain numbers: ``1_000`` (Python's digit grouping) is not one.

    Raises:
        DataError: a value is not a number, naming the column, the row and the value.

    Example:
        >>> numeric_column("a", np.array(["1", "x"], dtype=object))
        Traceback (most recent call last):
        ...
        neuralab.errors.DataError: column 'a': is not numeric — row 2 holds 'x'
    """
    if values.dtype != object:
        return values if values.dtype.kind == "f" else values.astype(np.float64)
    parsed = _parse_numbers(values)
    if isinstance(parsed, tuple):
        row, bad = parsed
        raise DataError(f"{what} {name!r}: is not numeric — row {row} holds {bad!r}")
    return parsed


def _parse_numbers(values: np.ndarray) -> np.ndarray | tuple[int, object]:
    """Numbers of a text column, or (row, value) of the first cell that is not a plain number."""
    filled = np.where(is_missing(values), "nan", values)
    grouped = next((index for index, value in enumerate(filled) if "_" in str(value)), None)
    if grouped is not None:  # float() reads "1_000" as 1000; in a CSV cell it is text
        return grouped + 1, values[grouped]
    try:
        return filled.astype(np.float64)
    except (ValueError, TypeError):
        return next((index + 1, values[index]) for index, value in enumerate(filled) if not _is_number(value))


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


_is_number = is_number_text


def parses_as_numbers(values: np.ndarray) -> bool:
    """Return whether every non-empty cell of an object column reads as a (plain) number.

    Example:
        >>> parses_as_numbers(np.array(["1", "2.5"], dtype=object)), parses_as_numbers(np.array(["1_0"], dtype=object))
        (True, False)
    """
    if values.dtype != object:
        return values.dtype.kind in "iuf"
    return not isinstance(_parse_numbers(values), tuple)
