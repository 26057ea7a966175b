"""Every file neuralab writes goes through here: atomic text, bytes, JSON, CSV and figures, and new folders.

A write goes to a temporary file beside the target, then ``os.replace`` puts it in place:
a reader (or a process that resumes after a crash) sees either the old file or the new
one, never half of one. ``os.replace`` is atomic on POSIX and Windows when both paths are
on the same file system, which a sibling temporary file guarantees. The data reach the
operating system before the rename, so a killed process loses nothing already written;
surviving a power cut would also need ``fsync``, which neuralab does not pay for.

New output folders (runs, doctor rounds, tuning studies) are claimed with ``mkdir``, so two
processes started in the same second never share one (:func:`claim_folder`).

When the file system refuses (disk full, permission denied, read-only, a directory where
the file goes), the write raises :class:`~neuralab.errors.StorageError` naming the target
— one line, exit code 4 in the CLI — and leaves no temporary file behind.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_text_atomic(folder / "note.txt", "hello")
    >>> (folder / "note.txt").read_text()
    'hello'
    >>> write_csv(folder / "rows.csv", [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}])
    >>> (folder / "rows.csv").read_text().splitlines()
    ['epoch,loss', '1,0.5', '2,0.25']
"""
from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from neuralab.errors import StorageError

FIGURE_DPI = 100
CSV_BLOCK_CELLS = 1 << 18  # cells turned into text at a time: ~10 MB of Python objects, whatever the file's size
TEMPORARY_MARK = ".tmp-"  # a temporary file's name: .<target>.tmp-<pid>


@contextmanager
def refused_as_storage_error(path: str | Path, action: str = "write") -> Iterator[None]:
    """Turn an ``OSError`` inside the block into a one-line :class:`StorageError` about ``path``."""
    try:
        yield
    except OSError as error:
        raise StorageError(storage_problem(path, error, action=action)) from None


def storage_problem(path: str | Path, error: OSError, *, action: str = "write") -> str:
    """'cannot write 'x': No space left on device — the disk is full; …' for an OSError about ``path``."""
    reason = error.strerror or type(error).__name__
    hint = {errno.ENOSPC: " — the disk is full",
            errno.EDQUOT: " — the disk quota is used up",
            errno.EROFS: " — the file system is read-only",
            errno.EACCES: " — permission denied; choose a folder you can write to",
            errno.EISDIR: " — it is a directory; give a file name",
            errno.ENOTDIR: " — a part of the path is a file, not a folder",
            errno.EEXIST: " — a file of that name is in the way"}.get(error.errno, "")
    return f"cannot {action} {str(path)!r}: {reason}{hint}"


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (temporary sibling file, then rename).

    Raises:
        StorageError: the file system refused; ``path`` is unchanged and no temporary file is left.
    """
    write_blocks_atomic(path, [data])


def write_blocks_atomic(path: str | Path, blocks: Iterable[bytes | str]) -> None:
    """Replace ``path`` with the blocks (bytes, or text as UTF-8) written one after another, in one step.

    The blocks are written as they come, so a large file (predictions for millions of rows)
    never sits in memory whole.

    Raises:
        StorageError: the file system refused; ``path`` is unchanged and no temporary file is left.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}{TEMPORARY_MARK}{os.getpid()}")
    with refused_as_storage_error(path):
        try:
            with open(temporary, "wb") as handle:
                for block in blocks:
                    handle.write(block.encode("utf-8") if isinstance(block, str) else block)
            os.replace(temporary, path)
        except BaseException:
            with suppress(OSError):  # a clean-up step: the error being handled matters more
                temporary.unlink(missing_ok=True)
            raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one step."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json(path: str | Path, data: Any, *, indent: int | None = 2) -> None:
    """Replace ``path`` with ``data`` as standard JSON (non-finite floats become null)."""
    write_text_atomic(path, json.dumps(json_safe(data), indent=indent, default=_plain))


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None, *,
             header: bool = True) -> str:
    """Rows as CSV text; columns default to the union of the rows' keys, in first-seen order.

    Lists and dicts in a cell are written as JSON; missing cells stay empty.
    """
    rows = list(rows)
    columns = list(columns) if columns is not None else list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns or ["epoch"], extrasaction="ignore", lineterminator="\n")
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow({key: json.dumps(value) if isinstance(value, (list, dict)) else value
                         for key, value in row.items()})
    return buffer.getvalue()


def write_csv(path: str | Path, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> None:
    """Replace ``path`` with the rows as CSV (see :func:`csv_text`)."""
    write_text_atomic(path, csv_text(rows, columns))


def write_csv_columns(path: str | Path, columns: Mapping[str, Any], *, rows_per_block: int | None = None) -> None:
    """Replace ``path`` with equal-length columns (numpy arrays or lists) as CSV, block by block.

    Each cell is written as :func:`csv_text` writes it (``str`` of the Python value); only one
    block of rows (default: about 250,000 cells) is ever turned into text at a time.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "p.csv"
        >>> write_csv_columns(path, {"x": np.array([0.5, 1.0]), "label": ["a", "b"]}, rows_per_block=1)
        >>> path.read_text().splitlines()
        ['x,label', '0.5,a', '1.0,b']
    """
    names = list(columns)
    length = len(next(iter(columns.values()))) if names else 0
    rows_per_block = rows_per_block or max(1, CSV_BLOCK_CELLS // max(1, len(names)))

    def blocks() -> Iterable[str]:
        yield csv_text([], names)
        for start in range(0, length, rows_per_block):
            buffer = io.StringIO()
            cells = [_as_list(columns[name][start:start + rows_per_block]) for name in names]
            csv.writer(buffer, lineterminator="\n").writerows(zip(*cells))
            yield buffer.getvalue()

    write_blocks_atomic(path, blocks())


def _as_list(values: Any) -> list:
    if getattr(values, "dtype", None) is not None and str(values.dtype) == "float32":
        return values.astype(str).tolist()  # the shortest text that reads back as the same float32: 14.23, not 14.2299995…
    return values.tolist() if hasattr(values, "tolist") else list(values)


def append_text(path: str | Path, text: str) -> None:
    """Append ``text`` to ``path`` in one write call (a kill leaves whole lines or none of them).

    Raises:
        StorageError: the file system refused (what was there before stays as it was, or
            ends with a torn last line that the readers drop).
    """
    with refused_as_storage_error(path), open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write(text)


def check_output_file(path: str | Path, *, what: str = "output") -> None:
    """Refuse an output path that names a directory, or lies under a file, before any work.

    Raises:
        StorageError: one line naming the path and what is wrong.
    """
    path = Path(path)
    if path.is_dir():
        raise StorageError(f"{what}: {str(path)!r} is a directory; give a file name (e.g. {str(path / 'predictions.csv')!r})")
    blocking = next((parent for parent in path.parents if parent.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise StorageError(f"{what}: {str(blocking)!r} is a file, so {str(path)!r} cannot be created")


def make_folder(path: str | Path) -> Path:
    """Create ``path`` and its parents if missing (an existing folder is fine)."""
    path = Path(path)
    with refused_as_storage_error(path, "create the folder"):
        path.mkdir(parents=True, exist_ok=True)
    return path


def save_figure(figure: Any, path: str | Path, *, dpi: int = FIGURE_DPI) -> Path:
    """Save a matplotlib figure (PNG, or the suffix's format), replacing ``path`` in one step; closes it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=dpi, format=path.suffix.lstrip(".").lower() or "png")
    plt.close(figure)
    write_bytes_atomic(path, buffer.getvalue())
    return path


def claim_folder(parent: str | Path, name: str) -> Path:
    """Create and return a new folder ``parent/<name>-<YYYYmmdd-HHMMSS>[-N]`` that no other process has.

    ``mkdir`` is the claim: two processes started in the same second get different folders.
    """
    parent = make_folder(parent)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    counter = 1
    while True:
        folder = parent / (f"{name}-{stamp}" if counter == 1 else f"{name}-{stamp}-{counter}")
        with refused_as_storage_error(folder, "create the folder"):
            try:
                folder.mkdir()
                return folder
            except FileExistsError:  # another process claimed this name first
                counter += 1


def remove_temporaries(folder: str | Path) -> int:
    """Delete temporary files a killed writer left in ``folder`` and its sub-folders; returns how many.

    A temporary file's name ends in its writer's process id: one whose process still runs
    on this machine is being written and stays.
    """
    removed = 0
    for path in Path(folder).rglob(f".*{TEMPORARY_MARK}*"):
        if path.is_file() and not _writer_alive(path):
            with suppress(OSError):  # a clean-up step: the error being handled matters more
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _writer_alive(path: Path) -> bool:
    pid = path.name.rpartition(TEMPORARY_MARK)[2]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except PermissionError:
        return True  # it does, under another user
    except (OverflowError, OSError):  # ProcessLookupError, or not a process id at all
        return False
    return True


def json_safe(value: Any) -> Any:
    """Replace non-finite floats by None, recursively, so the JSON is standard."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
