"""The ``neuralab`` command: the typer app, its sub-commands and the error policy.

A user's mistake (spec, data, run directory, arguments) prints one line per problem on
stderr and exits with code 2 — never a traceback. Commands import the engine lazily so
``neuralab info`` and spec errors answer at once.
"""
from __future__ import annotations

import logging
import os
import sys

import typer
from rich.console import Console
from rich.markup import escape

from neuralab.errors import NeuralabError

app = typer.Typer(
    name="neuralab", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="neuralab — learn, see, diagnose and tune neural networks on PyTorch.",
)
console = Console(soft_wrap=True)  # long paths stay on one line (copy-paste)
errors = Console(stderr=True, soft_wrap=True)


def _register() -> None:
    from neuralab.cli import compare, doctor, info, playground, runs, tune  # noqa: F401  (each module adds its commands to `app`)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neuralab`` script; returns (and exits with) the exit code."""
    _register()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        result = app(args=argv, prog_name="neuralab", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except NeuralabError as error:
        code = getattr(error, "exit_code", 2)  # 2: bad input; 128 + signal number: interrupted training
        label = "error" if code == 2 else "interrupted"
        for line in error.problems:  # escaped: a user's value like "[/x]" is text, not rich markup
            errors.print(f"[bold red]{label}[/]: {escape(line)}", highlight=False, markup=True, emoji=False, soft_wrap=True)
    except typer.TyperException as error:  # usage errors: unknown option, missing argument...
        error.show() if hasattr(error, "show") else errors.print(f"error: {error.format_message()}")
        code = 2
    except typer.Exit as error:
        code = error.exit_code
    except (KeyboardInterrupt, typer.Abort):
        errors.print("interrupted")
        code = 130
    if argv is None:
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End the script without the interpreter's teardown.

    Once torch's compiler stack is imported (the first optimiser step does it), tearing the
    interpreter down costs ~0.8 s: more than training a small spec. Every file neuralab
    writes is closed (and renamed into place) before this point, so flushing the streams
    and the logs is all that is left to do.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
