"""Drawing the optimiser race: each optimiser's path over the surface's contours, PNG or animated GIF.

Example:
    >>> len(race_image("bowl", image_format="gif", steps=10, frames=3)) > 0
    True
"""
from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np

from neuralab.errors import SpecError
from neuralab.training.race import SURFACES, Surface, race, surface_grid

COLOURS = {"sgd": "#e41a1c", "momentum": "#377eb8", "nesterov": "#4daf4a", "adagrad": "#984ea3",
           "rmsprop": "#ff7f00", "adadelta": "#a65628", "adam": "#f781bf"}  # one colour per racer


def race_image(surface: str, *, image_format: str = "png", steps: int = 150,
               start: tuple[float, float] | None = None, learning_rates: Mapping[str, float] | None = None,
               frames: int = 40) -> bytes:
    """The race drawn as a PNG (the whole paths) or an animated GIF (``frames`` frames), as bytes.

    Example:
        >>> race_image("bowl", steps=10)[:4]
        b'\\x89PNG'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if image_format not in ("png", "gif"):
        raise SpecError(f"--out: the race is drawn as .png or .gif, not {image_format!r}")
    paths = race(surface, start=start, learning_rates=learning_rates, steps=steps)
    chosen = SURFACES[surface]
    figure, axes = plt.subplots(figsize=(6.4, 5.2), dpi=80)
    _draw_background(axes, chosen)
    lines = {name: axes.plot([], [], "-o", markersize=2, linewidth=1.5, color=COLOURS[name],
                             label=f"{name} (lr {({**chosen.learning_rates, **(learning_rates or {})})[name]:g})")[0]
             for name in paths}
    axes.legend(loc="upper right", fontsize=7, framealpha=0.85)
    axes.set_title(f"{chosen.name}: {steps} steps", fontsize=10)
    buffer = io.BytesIO()
    if image_format == "png":
        _show_up_to(lines, paths, steps + 1)
        figure.savefig(buffer, format="png")
    else:
        _gif(figure, lines, paths, buffer, steps=steps, frames=frames)
    plt.close(figure)
    return buffer.getvalue()


def _draw_background(axes, surface: Surface) -> None:
    xs, ys, values = surface_grid(surface)
    shaded = np.log1p(values - values.min())
    axes.contourf(xs, ys, shaded, levels=30, cmap="YlGnBu_r")
    axes.contour(xs, ys, shaded, levels=15, colors="white", linewidths=0.4, alpha=0.6)
    for x, y in surface.minima:
        axes.plot([x], [y], marker="*", color="black", markersize=12)
    axes.plot([surface.start[0]], [surface.start[1]], marker="s", color="black", markersize=5)
    x_min, x_max, y_min, y_max = surface.box
    axes.set_xlim(x_min, x_max)
    axes.set_ylim(y_min, y_max)


def _show_up_to(lines: dict, paths: dict[str, np.ndarray], count: int) -> None:
    for name, line in lines.items():
        line.set_data(paths[name][:count, 0], paths[name][:count, 1])


def _gif(figure, lines: dict, paths: dict[str, np.ndarray], out: io.BytesIO, *, steps: int, frames: int) -> None:
    from PIL import Image

    images = []
    for index in range(1, frames + 1):
        _show_up_to(lines, paths, 1 + round(index * steps / frames))
        figure.canvas.draw()
        images.append(Image.fromarray(np.asarray(figure.canvas.buffer_rgba())[..., :3]).quantize(colors=128))
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=80, loop=0, optimize=True)

