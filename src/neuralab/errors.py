"""Errors a user can fix: each carries one line per problem, and the exit code the CLI ends with.

The CLI prints ``problems`` one per line, without a traceback, and exits with the error's
``exit_code``: 2 for bad input (spec, data, run directory, arguments), 4 when the file
system refuses (:class:`StorageError`: disk full, permission denied, read-only, not a
directory), 130 / 143 when a signal interrupted training. A run that diverged is written
with its diagnosis and ends with :data:`DIVERGED_EXIT_CODE` (3).
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

BAD_INPUT_EXIT_CODE = 2
DIVERGED_EXIT_CODE = 3  # trained, written, but the loss or the weights became NaN/inf
STORAGE_EXIT_CODE = 4


class NeuralabError(Exception):
    """Base class for every error caused by the user's input (spec, data, run directory).

    Args:
        problems: one human-readable line per problem; each names the field, the value
            and what is allowed.
    """

    exit_code = BAD_INPUT_EXIT_CODE

    def __init__(self, problems: str | Sequence[str]):
        self.problems = [one_line(p) for p in ([problems] if isinstance(problems, str) else problems)]
        super().__init__("\n".join(self.problems))


def one_line(text: object) -> str:
    """Escape control characters (a newline in a user's key or column name...) so a problem stays one line.

    Example:
        >>> one_line("a\\tb")
        'a\\\\tb'
    """
    text = str(text)
    return text if text.isprintable() else "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class SpecError(NeuralabError):
    """The experiment spec (or an override, or a spec file) is invalid."""


class DataError(NeuralabError):
    """The data cannot be trained on: NaN/inf, wrong shapes, one class, empty split..."""


class RunError(NeuralabError):
    """A run directory is missing, incomplete or tampered with."""


class StorageError(NeuralabError):
    """The file system refused: disk full, permission denied, read-only, a directory where a file goes.

    Whatever was being written is not left half-written (atomic writes; a new run directory
    without a first checkpoint is removed).
    """

    exit_code = STORAGE_EXIT_CODE


class TrainingInterrupted(NeuralabError):
    """Training was stopped by a signal (Ctrl-C, SIGTERM) after saving a checkpoint.

    Args:
        problems: what stopped, where the checkpoint is, how to resume.
        exit_code: the shell's code for the signal (130 for SIGINT, 143 for SIGTERM).
        run_dir: the run directory to resume, or None when nothing was written.
    """

    def __init__(self, problems: str | Sequence[str], *, exit_code: int = 130, run_dir: object = None):
        super().__init__(problems)
        self.exit_code = exit_code
        self.run_dir = run_dir


class PeerLost(NeuralabError):
    """Another process of a data-parallel run died or stopped answering, so this one stopped too
    (exit code 1); the run keeps its last checkpoint and resumes from it."""

    exit_code = 1


def did_you_mean(value: object, allowed: Iterable[str]) -> str:
    """Return ``" — did you mean 'x'?"`` for the closest allowed name, or ``""``."""
    close = difflib.get_close_matches(str(value), list(allowed), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


def not_one_of(field: str, value: object, allowed: Sequence[str]) -> str:
    """Format the standard "value is not one of ..." problem line for ``field``."""
    return (
        f"{field}: {value!r} is not one of {', '.join(allowed)}"
        f"{did_you_mean(value, allowed)}"
    )
