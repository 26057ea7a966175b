"""``neuralab playground`` (the browser playground) and ``neuralab optimizers`` (the race)."""
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
) -> None:
    """Serve the playground: TensorFlow Playground on neuralab's engine, in your browser."""
    import socket

    import torch

    from neuralab.playground.server import make_server
    from neuralab.playground.security import WILDCARD_HOSTS

    torch.set_num_threads(1)  # the networks are small; one thread trains them fastest and reproducibly
    server = make_server(host=host, port=port, extra_hosts=allow_host)
    query = f"?token={server.token}" if server.token else ""
    if server.token:
        console.print(f"[yellow]note[/]: listening on {host}: other machines can reach the playground; "
                      "every request needs the token in the URL below (keep it to the people you share it with)")

    def address(name: str, bound_port: int) -> str:
        return f"http://{'[' + name + ']' if ':' in name else name}:{bound_port}/{query}"

    def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            threading.Event().wait(0.05)
        bound_port = server.servers[0].sockets[0].getsockname()[1]
        shown = [socket.gethostname(), "127.0.0.1"] if host in WILDCARD_HOSTS else [host]
        urls = [address(name, bound_port) for name in shown]
        console.print(f"neuralab playground on [bold]{urls[0]}[/]  (Ctrl+C stops it)", soft_wrap=True)
        for url in urls[1:]:
            console.print(f"                   or [bold]{url}[/]", soft_wrap=True)
        if open_:
            webbrowser.open(urls[-1])

    threading.Thread(target=announce, daemon=True).start()
    server.run()


@app.command()
def optimizers(
    surface: str = typer.Option("rosenbrock", "--surface", help="bowl, rosenbrock, beale, saddle, himmelblau or plateau"),
    out: Path = typer.Option(Path("race.png"), "--out", "-o", help="picture to write: .png (paths) or .gif (animated)"),
    steps: int = typer.Option(150, "--steps", min=1, max=5000, help="optimisation steps per optimiser"),
    lr: list[str] = typer.Option([], "--lr", help="a learning rate for one optimiser, e.g. --lr adam=0.1; repeatable"),
) -> None:
    """Race SGD, momentum, Nesterov, Adagrad, RMSProp, AdaDelta and Adam on a 2-D surface."""
    from neuralab.errors import SpecError
    from neuralab.runs.files import write_bytes_atomic
    from neuralab.training.race import SURFACES, race
    from neuralab.viz.race_plot import race_image

    rates = {}
    for item in lr:
        name, _, value = item.partition("=")
        try:
            rates[name.strip()] = float(value)
        except ValueError:
            raise SpecError(f"--lr {item!r}: expected NAME=RATE, e.g. adam=0.1") from None
    if out.suffix.lower() not in (".png", ".gif"):
        raise SpecError(f"--out: {str(out)!r} must end in .png or .gif")
    image = race_image(surface, image_format=out.suffix.lower().lstrip("."), steps=steps, learning_rates=rates)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out, image)
    path = out
    chosen = SURFACES[surface]
    paths = race(surface, steps=steps, learning_rates=rates)
    for name, points in paths.items():
        console.print(f"{name:>9}: f = {chosen.value(points[-1]):.4g} at ({points[-1][0]:.3f}, {points[-1][1]:.3f})")
    console.print(f"race written to [bold]{path}[/]")
