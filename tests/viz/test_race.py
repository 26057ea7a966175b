"""The optimiser race: torch.optim on a 2-element tensor over one registry of surfaces."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from neuralab.cli import main
from neuralab.errors import SpecError
from neuralab.training.race import RACE_OPTIMIZERS, SURFACES, race
from neuralab.viz.race_plot import race_image


def test_registry_has_the_six_surfaces():
    assert set(SURFACES) == {"bowl", "rosenbrock", "beale", "saddle", "himmelblau", "plateau"}


@pytest.mark.parametrize("name", sorted(set(SURFACES) - {"saddle"}))
def test_every_optimiser_goes_downhill_from_the_start(name):
    surface = SURFACES[name]
    paths = race(name, steps=60)
    assert set(paths) == set(RACE_OPTIMIZERS)
    for optimizer, path in paths.items():
        assert path.shape == (61, 2) and np.isfinite(path).all()
        assert surface.value(path[-1]) <= surface.value(path[0]) + 1e-9, optimizer


def test_on_the_saddle_they_escape_downhill():
    paths = race("saddle", steps=80)
    assert all(SURFACES["saddle"].value(p[-1]) < SURFACES["saddle"].value(p[0]) for p in paths.values())


def test_start_point_and_learning_rates_are_the_callers():
    paths = race("rosenbrock", start=(0.5, -0.5), learning_rates={"sgd": 1e-4}, steps=3, optimizers=("sgd",))
    assert paths["sgd"][0].tolist() == [0.5, -0.5]
    with pytest.raises(SpecError, match="adm"):
        race("bowl", learning_rates={"adm": 0.1})
    with pytest.raises(SpecError, match="surface"):
        race("volcano")
    with pytest.raises(SpecError, match="at most 10"):
        race("bowl", learning_rates={"adam": 50.0})


def test_the_race_is_drawn_as_png_or_animated_gif():
    png = race_image("beale", steps=20)
    gif = race_image("himmelblau", image_format="gif", steps=20, frames=5)
    assert Image.open(io.BytesIO(png)).format == "PNG"
    animated = Image.open(io.BytesIO(gif))
    assert animated.format == "GIF" and animated.n_frames == 5


def test_cli_races_and_writes_the_picture(tmp_path, capsys):
    out = tmp_path / "race.png"
    assert main(["optimizers", "--surface", "rosenbrock", "--out", str(out), "--steps", "30", "--lr", "adam=0.2"]) == 0
    printed = capsys.readouterr().out
    assert out.is_file() and "adam" in printed and "adadelta" in printed
    assert main(["optimizers", "--surface", "volcano", "--out", str(out)]) == 2


def test_the_default_rates_teach_on_rosenbrock():
    """Issue 17: the old shared rates left Adagrad, RMSProp and AdaDelta still and made Adam look worst."""
    surface = SURFACES["rosenbrock"]
    start = surface.value(surface.start)
    finals = {name: surface.value(path[-1]) for name, path in race("rosenbrock", steps=surface.steps).items()}
    assert all(value < 0.4 * start for value in finals.values()), finals  # nobody stands still
    assert finals["adam"] < 0.01 and finals["adam"] < min(finals[n] for n in ("sgd", "adagrad", "rmsprop"))


def test_cli_shows_rates_start_and_minimum_flags_a_diverged_optimiser_and_writes_under_runs(tmp_path, capsys,
                                                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["optimizers", "--surface", "bowl", "--steps", "20", "--lr", "sgd=5"]) == 0
    printed = capsys.readouterr().out
    assert "start f = 28.55 at (-9, 3.5); minimum f = 0 at (0, 0); 20 steps" in printed
    assert "sgd (lr 5" in printed and "diverged" in printed.split("sgd (lr")[1].splitlines()[0]
    assert "adam (lr 0.79" in printed and "diverged" not in printed.split("adam (lr")[1].splitlines()[0]
    assert (tmp_path / "runs" / "race-bowl.png").is_file()
