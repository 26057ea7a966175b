"""Atomic file writes: write a temporary file beside the target, then ``os.replace`` it.

A reader (or a process that resumes after a crash) sees either the old file or the new
one, never half of one: ``os.replace`` is atomic on POSIX and Windows when both paths are
on the same file system, which a sibling temporary file guarantees. The data reach the
operating system before the rename, so a killed process loses nothing already written;
surviving a power cut would also need ``fsync``, which neuralab does not pay for.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
    >>> write_text_atomic(path, "hello")
    >>> path.read_text()
    'hello'
"""
from __future__ import annotations

import os
from pathlib import Path


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (temporary sibling file, then rename)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one step."""
    write_bytes_atomic(path, text.encode("utf-8"))
