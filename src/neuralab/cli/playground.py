"""``neuralab playground`` (the browser playground), ``neuralab explore`` (the LLM explorer) and
``neuralab optimizers`` (the race)."""
from __future__ import annotations

import threading
import webbrowser
from pathlib import Path

import typer

from neuralab.cli.app import app, console


@app.command()
def playground(
    port: int = typer.Option(8000, "--port", "-p", min=0, max=65535, help="port to listen on (0: any free one)"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to bind; the default is this machine only. "
                             "Any other (0.0.0.0 for a classroom) needs the token printed in the URL"),
    allow_host: list[str] = typer.Option([], "--allow-host", help="another name the page may be reached by "
                                         "(off loopback; this machine's names and addresses are allowed already); repeatable"),
    open_: bool = typer.Option(False, "--open", help="open the page in the default browser"),
    run: list[Path] = typer.Option([], "--run", help="a language-model run the LLM explorer (/explore) shows; "
                                   "repeatable (default: the language models in runs/)"),
) -> None:
    """Serve the playground: TensorFlow Playground on neuralab's engine, in your browser."""
    serve_playground(port=port, host=host, allow_host=allow_host, open_=open_, runs=run or None, page="")


@app.command()
def explore(
    run_dirs: list[Path] = typer.Argument(..., help="language-model run directories to explore"),
    port: int = typer.Option(8000, "--port", "-p", min=0, max=65535, help="port to listen on (0: any free one)"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to bind; the default is this machine only"),
    open_: bool = typer.Option(False, "--open", help="open the page in the default browser"),
) -> None:
    """The LLM explorer: a trained language model's next-token odds, sampling, and attention per layer and head."""
    import neuralab.api as api

    for run_dir in run_dirs:  # each must load and be a language model before the server starts
        api.open_language_model(run_dir, "explore")
    serve_playground(port=port, host=host, allow_host=[], open_=open_, runs=run_dirs, page="explore")


def serve_playground(*, port: int, host: str, allow_host: list[str], open_: bool, runs: list[Path] | None,
                     page: str) -> None:
    """Serve the playground's pages until Ctrl+C; print (and open) the URL of ``page`` ("": the playground)."""
    import socket

    import torch

    from neuralab.playground.server import make_server
    from neuralab.playground.security import WILDCARD_HOSTS

    torch.set_num_threads(1)  # the networks are small; one thread trains them fastest and reproducibly
    server = make_server(host=host, port=port, extra_hosts=allow_host, runs=runs)
    query = f"?token={server.token}" if server.token else ""
    if server.token:
        console.print(f"[yellow]note[/]: listening on {host}: other machines can reach the playground; "
                      "every request needs the token in the URL below (keep it to the people you share it with)")

    def address(name: str, bound_port: int) -> str:
        return f"http://{'[' + name + ']' if ':' in name else name}:{bound_port}/{page}{query}"

    def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            threading.Event().wait(0.05)
        bound_port = server.servers[0].sockets[0].getsockname()[1]
        shown = [socket.gethostname(), "127.0.0.1"] if host in WILDCARD_HOSTS else [host]
        urls = [address(name, bound_port) for name in shown]
        label = "neuralab LLM explorer" if page else "neuralab playground"
        console.print(f"{label} on [bold]{urls[0]}[/]  (Ctrl+C stops it)", soft_wrap=True)
        for url in urls[1:]:
            console.print(f"                   or [bold]{url}[/]", soft_wrap=True)
        if open_:
            webbrowser.open(urls[-1])

    threading.Thread(target=announce, daemon=True).start()
    server.run()


@app.command()
def optimizers(
    surface: str = typer.Option("rosenbrock", "--surface", help="bowl, rosenbrock, beale, saddle, himmelblau or plateau"),
    out: Path | None = typer.Option(None, "--out", "-o", help="picture to write: .png (paths) or .gif (animated); "
                                    "default runs/race-<surface>.png"),
    steps: int | None = typer.Option(None, "--steps", min=1, max=5000, help="optimisation steps per optimiser "
                                     "(default: the surface's, 150; Rosenbrock's long valley 600)"),
    lr: list[str] = typer.Option([], "--lr", help="a learning rate for one optimiser, e.g. --lr adam=0.1; repeatable "
                                 "(default: each optimiser's own best rate for the surface)"),
) -> None:
    """Race SGD, momentum, Nesterov, Adagrad, RMSProp, AdaDelta and Adam on a 2-D surface, each at its own rate."""
    from neuralab.errors import SpecError
    from neuralab.runs.files import write_bytes_atomic
    from neuralab.training.race import race_outcomes, surface_of
    from neuralab.viz.race_plot import race_image

    rates = {}
    for item in lr:
        name, _, value = item.partition("=")
        try:
            rates[name.strip()] = float(value)
        except ValueError:
            raise SpecError(f"--lr {item!r}: expected NAME=RATE, e.g. adam=0.1") from None
    out = out or Path("runs") / f"race-{surface}.png"
    if out.suffix.lower() not in (".png", ".gif"):
        raise SpecError(f"--out: {str(out)!r} must end in .png or .gif")
    chosen = surface_of(surface)
    steps = steps or chosen.steps
    image = race_image(surface, image_format=out.suffix.lower().lstrip("."), steps=steps, learning_rates=rates)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out, image)
    used = {**chosen.learning_rates, **rates}
    minimum = "; ".join(f"f = {chosen.value(m):.4g} at ({m[0]:g}, {m[1]:g})" for m in chosen.minima) or "none (no minimum)"
    console.print(f"{surface}: {chosen.summary}", highlight=False)
    console.print(f"start f = {chosen.value(chosen.start):.4g} at ({chosen.start[0]:g}, {chosen.start[1]:g}); "
                  f"minimum {minimum}; {steps} steps", highlight=False)
    for name, (points, diverged) in race_outcomes(surface, steps=steps, learning_rates=rates).items():
        note = "  [red]diverged[/]: its point blew up; drawn where last seen (lower its --lr)" if diverged else ""
        console.print(f"{name:>9} (lr {used[name]:<6g}): f = {chosen.value(points[-1]):.4g} at "
                      f"({points[-1][0]:.3f}, {points[-1][1]:.3f}){note}", highlight=False)
    console.print(f"race written to [bold]{out}[/]")
