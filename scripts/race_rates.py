"""How the optimiser race's learning rates were chosen: each optimiser's best rate per surface.

For every surface with a minimum and every race optimiser, run the race from the surface's
start for its steps (150; Rosenbrock's long valley 600) at each rate of a log grid (1e-4 … 10, 10 per decade) and keep the rate
whose last point has the lowest value without leaving the picture (its box). The table it
prints is ``neuralab.training.race.TUNED_RATES``. Run: ``.venv/bin/python scripts/race_rates.py``
(about a minute).
"""
from __future__ import annotations

import math

import numpy as np

from neuralab.training.race import RACE_OPTIMIZERS, SURFACES, race

GRID = [float(f"{rate:.2g}") for rate in np.geomspace(1e-4, 10, 51)]


def inside(surface, point) -> bool:
    x_min, x_max, y_min, y_max = surface.box
    return x_min <= point[0] <= x_max and y_min <= point[1] <= y_max


def best_rates(name: str, steps: int | None = None, grid: list[float] = GRID) -> dict[str, float]:
    surface = SURFACES[name]
    steps = steps or surface.steps
    chosen = {}
    for optimizer in RACE_OPTIMIZERS:
        results = []
        for rate in grid:
            path = race(name, steps=steps, learning_rates={optimizer: rate}, optimizers=(optimizer,))[optimizer]
            tail = path[-20:]
            value = np.mean([surface.value(p) for p in tail]) if all(inside(surface, p) for p in tail) else math.inf
            results.append((value, rate))
        chosen[optimizer] = min(results)[1]
    return chosen


if __name__ == "__main__":
    import sys

    for name, surface in SURFACES.items():
        if surface.minima and (len(sys.argv) < 2 or name in sys.argv[1:]):
            # Rosenbrock's race is long (600 steps): a coarser grid, 4 rates per decade, keeps this short
            grid = GRID if surface.steps <= 150 else GRID[::2]
            print(name, surface.steps, best_rates(name, grid=grid))
