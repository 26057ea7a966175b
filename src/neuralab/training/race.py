"""The optimiser race: torch.optim's optimisers on a 2-D surface, side by side.

Each optimiser moves its own 2-element tensor ``[x, y]`` downhill on the same surface
from the same start, with gradients from autograd (no finite differences) and its own
learning rate. One registry, :data:`SURFACES`; the lecture's optimisers race
(:data:`RACE_OPTIMIZERS`, from the catalog). :func:`neuralab.viz.race_plot.plot_race` draws it
(PNG or GIF) and the playground's race view shows it.

Example:
    >>> paths = race("bowl", steps=20)
    >>> sorted(paths)[:3], paths["adam"].shape
    (['adadelta', 'adagrad', 'adam'], (21, 2))
    >>> bool(SURFACES["bowl"].value(paths["momentum"][-1]) < SURFACES["bowl"].value(paths["momentum"][0]))
    True
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from neuralab.errors import SpecError, not_one_of
from neuralab.spec import TrainSpec
from neuralab.spec.catalog import family
from neuralab.training.optim import optimizer_options

RACE_OPTIMIZERS = family("optimizers", "lecture", "yes")  # the lecture's classic optimisers
ESCAPE = 1e3  # a point this far out has left the picture: it stops there


@dataclass(frozen=True)
class Surface:
    """A 2-D function with the square it is drawn on, a start and learning rates that suit it."""

    name: str
    summary: str
    function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    box: tuple[float, float, float, float]  # x_min, x_max, y_min, y_max
    start: tuple[float, float]
    minima: tuple[tuple[float, float], ...] = ()
    learning_rates: Mapping[str, float] = field(default_factory=dict)
    steps: int = 150  # a race long enough to tell the optimisers apart

    def value(self, point) -> float:
        """f at a point (x, y)."""
        x, y = (torch.as_tensor(float(v), dtype=torch.float64) for v in point)
        return float(self.function(x, y))

    def describe(self) -> dict:
        return {"summary": self.summary, "box": list(self.box), "start": list(self.start),
                "minima": [list(m) for m in self.minima], "learning_rates": dict(self.learning_rates)}


def _rates(default: float, **special: float) -> dict[str, float]:
    rates = {name: default for name in RACE_OPTIMIZERS}
    rates.update({"adadelta": 1.0, **special})
    return rates


def _tuned(**rates: float) -> dict[str, float]:
    """Each optimiser's own best rate on a surface, as ``scripts/race_rates.py`` finds them (the lowest mean
    value over the race's last 20 steps on a log grid of rates, staying in the picture): the race then
    compares optimisers, not one rate that suits some of them."""
    assert set(rates) == set(RACE_OPTIMIZERS), "a rate for every race optimiser"
    return rates


def _beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


SURFACES: dict[str, Surface] = {surface.name: surface for surface in (
    Surface("bowl", "ill-conditioned bowl 0.05·x² + 2·y²: steep across, shallow along",
            lambda x, y: 0.05 * x ** 2 + 2 * y ** 2, (-10, 10, -5, 5), (-9.0, 3.5), ((0.0, 0.0),),
            _tuned(sgd=0.4, momentum=0.063, nesterov=0.32, adagrad=10.0, rmsprop=10.0, adadelta=10.0, adam=0.79)),
    Surface("rosenbrock", "Rosenbrock (1 − x)² + 100·(y − x²)²: a curved, flat valley",
            lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2, (-2, 2, -1, 3), (-1.5, 2.5), ((1.0, 1.0),),
            _tuned(sgd=0.0016, momentum=0.0016, nesterov=0.001, adagrad=0.1, rmsprop=0.063, adadelta=6.3, adam=1.6),
            steps=600),
    Surface("beale", "Beale's function: steep walls and a flat basin, minimum at (3, 0.5)",
            _beale, (-4.5, 4.5, -4.5, 4.5), (1.0, 1.5), ((3.0, 0.5),),
            _tuned(sgd=0.032, momentum=0.0032, nesterov=0.0032, adagrad=2.5, rmsprop=0.25, adadelta=10.0, adam=0.5)),
    Surface("saddle", "saddle x² − y²: the gradient vanishes at the origin, which is no minimum",
            lambda x, y: x ** 2 - y ** 2, (-2, 2, -2, 2), (1.8, 0.01), (),
            _rates(0.02, adagrad=0.3, rmsprop=0.01, adam=0.05)),
    Surface("himmelblau", "Himmelblau's function: four equal minima",
            lambda x, y: (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2, (-5, 5, -5, 5), (0.0, -0.5),
            ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
            _tuned(sgd=0.016, momentum=0.016, nesterov=0.013, adagrad=1.0, rmsprop=0.079, adadelta=7.9, adam=1.3)),
    Surface("plateau", "plateau 1 − exp(−(x² + y²)/4): almost no gradient far from the well",
            lambda x, y: 1 - torch.exp(-(x ** 2 + y ** 2) / 4), (-6, 6, -6, 6), (4.5, 4.0), ((0.0, 0.0),),
            _tuned(sgd=10.0, momentum=4.0, nesterov=1.6, adagrad=0.32, rmsprop=0.032, adadelta=10.0, adam=2.0)),
)}


def surface_of(name: str) -> Surface:
    """The registered surface ``name`` (SpecError naming the choices otherwise)."""
    if name not in SURFACES:
        raise SpecError(not_one_of("surface", name, tuple(SURFACES)))
    return SURFACES[name]


def _optimizer(name: str, point: torch.Tensor, rate: float) -> torch.optim.Optimizer:
    # each optimiser in its usual form: momentum/β1 0.9, RMSProp without momentum
    cls, options = optimizer_options(TrainSpec(optimizer=name))
    return cls([point], lr=rate, **options)


def race(surface: str, *, start: tuple[float, float] | None = None,
         learning_rates: Mapping[str, float] | None = None, steps: int = 150,
         optimizers: tuple[str, ...] = RACE_OPTIMIZERS) -> dict[str, np.ndarray]:
    """Run each optimiser ``steps`` steps from ``start``; return its path, (steps + 1, 2) per optimiser."""
    return {name: path for name, (path, _) in race_outcomes(surface, start=start, learning_rates=learning_rates,
                                                             steps=steps, optimizers=optimizers).items()}


def race_outcomes(surface: str, *, start: tuple[float, float] | None = None,
                  learning_rates: Mapping[str, float] | None = None, steps: int = 150,
                  optimizers: tuple[str, ...] = RACE_OPTIMIZERS) -> dict[str, tuple[np.ndarray, bool]]:
    """As :func:`race`, with whether each optimiser diverged (its point became non-finite or left the picture).

    Example:
        >>> race_outcomes("bowl", steps=5, learning_rates={"sgd": 10.0})["sgd"][1]
        True
    """
    chosen = surface_of(surface)
    rates = {**chosen.learning_rates, **(learning_rates or {})}
    unknown = [name for name in list(rates) + list(optimizers) if name not in RACE_OPTIMIZERS]
    if unknown:
        raise SpecError(not_one_of("optimizer", unknown[0], RACE_OPTIMIZERS))
    bad = [name for name in optimizers if not 0 < rates[name] <= 10]
    if bad:
        raise SpecError(f"learning_rates.{bad[0]}: {rates[bad[0]]!r} must be above 0 and at most 10")
    origin = chosen.start if start is None else start
    return {name: _path(chosen, name, origin, rates[name], steps) for name in optimizers}


def _path(surface: Surface, name: str, start: tuple[float, float], rate: float, steps: int) -> tuple[np.ndarray, bool]:
    point = torch.tensor([float(start[0]), float(start[1])], dtype=torch.float64, requires_grad=True)
    optimizer = _optimizer(name, point, rate)
    path = [point.detach().clone()]
    for _ in range(steps):
        optimizer.zero_grad()
        surface.function(point[0], point[1]).backward()
        optimizer.step()
        current = point.detach().clone()
        if not torch.isfinite(current).all() or float(current.abs().max()) > ESCAPE:
            current = path[-1]  # it left the picture: it stays where it was last seen
            path.extend([current] * (steps + 1 - len(path)))
            return torch.stack(path).numpy(), True
        path.append(current)
    return torch.stack(path).numpy(), False


def surface_grid(surface: Surface, *, size: int = 96) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y (size,) axes and f over them (size, size), rows by y ascending."""
    x_min, x_max, y_min, y_max = surface.box
    xs, ys = np.linspace(x_min, x_max, size), np.linspace(y_min, y_max, size)
    grid_x, grid_y = np.meshgrid(xs, ys)
    values = surface.function(torch.from_numpy(grid_x), torch.from_numpy(grid_y)).numpy()
    return xs, ys, values
