"""The ``neuralab`` command line (typer + rich). The core never imports this package."""
from neuralab.cli.app import app, main

__all__ = ["app", "main"]
