"""The scaling experiment: a grid of sizes through the tuner, a power-law fit on log–log axes, its files."""
from __future__ import annotations

import json
import math

import pytest

from neuralab.errors import RunError
from neuralab.tune.scaling import power_law, scaling


def test_the_power_law_fit_recovers_a_known_exponent():
    sizes = [1e3, 3e3, 1e4, 3e4, 1e5]
    fit = power_law(sizes, [7.0 * n ** -0.08 for n in sizes])
    assert fit["alpha"] == pytest.approx(0.08) and fit["a"] == pytest.approx(7.0) and fit["r2"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="two models of different sizes"):
        power_law([100, 100], [2.0, 1.0])


def test_a_width_sweep_trains_each_size_and_writes_the_plot_table_and_fit(tmp_path, tiny_gpt_spec):
    result = scaling(tiny_gpt_spec, {"params": {"model.transformer.embed_dim": [8, 16]}}, out_dir=tmp_path,
                     overrides={"train.max_steps": 4, "train.eval_every": 4, "model.transformer.layers": 1})
    assert [point["model.transformer.embed_dim"] for point in result.points] == [8, 16]
    assert result.points[0]["parameters"] < result.points[1]["parameters"]
    assert all(math.isfinite(point["dev_loss"]) for point in result.points)
    saved = json.loads(result.files["fit"].read_text())
    assert saved["alpha"] == pytest.approx(result.fit["alpha"]) and saved["points"] == 2
    assert result.files["plot"].stat().st_size > 5_000 and (result.study.dir / "trials.csv").is_file()
    assert "n_parameters" in (result.study.dir / "trials.csv").read_text().splitlines()[0]


def test_one_size_cannot_make_a_law(tmp_path, tiny_gpt_spec):
    with pytest.raises(RunError, match="at least two models"):
        scaling(tiny_gpt_spec, {"params": {"model.transformer.embed_dim": [8]}}, out_dir=tmp_path,
                overrides={"train.max_steps": 2, "train.eval_every": 2, "model.transformer.layers": 1})
