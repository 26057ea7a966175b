"""The playground's race view: the optimiser race as a message for the page.

Example:
    >>> message = race_message(surface="bowl", start=None, learning_rates={}, steps=5)
    >>> message["type"], len(message["paths"]["adam"])
    ('race', 6)
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from neuralab.errors import SpecError
from neuralab.playground.messages import MessageError
from neuralab.playground.pictures import encode
from neuralab.training.race import SURFACES, race, surface_grid


def race_message(*, surface: str, start: tuple[float, float] | None, learning_rates: Mapping[str, float],
                 steps: int) -> dict:
    """The playground's race view: contour picture (log-scaled, top row first) and every path."""
    try:
        paths = race(surface, start=start, learning_rates=learning_rates, steps=steps)
    except SpecError as error:
        raise MessageError("race: " + "; ".join(error.problems)) from None
    chosen = SURFACES[surface]
    _, _, values = surface_grid(chosen, size=64)
    shaded = np.log1p(values - values.min())
    shaded = 2 * shaded / (shaded.max() or 1.0) - 1
    rates = {**chosen.learning_rates, **learning_rates}
    return {"type": "race", "surface": surface, "box": list(chosen.box), "minima": [list(m) for m in chosen.minima],
            "picture": encode(shaded[::-1].ravel()), "size": 64, "learning_rates": rates,
            "paths": {name: np.round(path, 5).tolist() for name, path in paths.items()},
            "final": {name: _finite(chosen.value(path[-1])) for name, path in paths.items()}}


def _finite(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None


def _finite(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None
