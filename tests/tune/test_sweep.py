"""Sensitivity sweeps: value lists, and the learning rate's U-shape on digits with divergence marked."""
from __future__ import annotations

import pytest

from neuralab.errors import SpecError
from neuralab.tune.study_files import trial_rows
from neuralab.tune.sweep import parse_values, sweep


@pytest.mark.parametrize("text, expected", [
    ("1e-5:1:log:6", [1e-05, 0.0001, 0.001, 0.01, 0.1, 1.0]),
    ("0:1:lin:3", [0, 1]),  # whole-number ends give whole numbers, duplicates dropped
    ("0.0:1.0:lin:3", [0.0, 0.5, 1.0]),
    ("8:64:log:4", [8, 16, 32, 64]),
    ("16, 32,full", [16, 32, "full"]),
    ("[4],[8]", [[4], [8]]),
])
def test_values_parse(text, expected):
    assert parse_values(text) == expected


@pytest.mark.parametrize("text", ["1e-5:1:log", "0:1:log:5", "a:b:lin:3", "1:1:lin:3", "1:2:cubic:3", " , "])
def test_bad_values_name_the_option(text):
    with pytest.raises(SpecError, match="--values"):
        parse_values(text)


def test_learning_rate_sweep_on_digits_is_u_shaped_and_marks_divergence(tmp_path):
    """Too low → barely learns; too high → diverges; the best is in between (plain SGD, 3 epochs)."""
    overrides = {"train.optimizer": "sgd", "train.epochs": 3, "model.hidden": [32], "train.schedule": "constant",
                 "model.dropout": 0.0, "data.augment_noise": 0.0, "train.early_stopping.patience": None}
    result = sweep("examples/digits.yaml", "train.learning_rate", "1e-5:10:log:7", out_dir=tmp_path,
                   overrides=overrides)
    rows = sorted(trial_rows(result.study), key=lambda row: row["train.learning_rate"])
    dev = [row["dev_error"] for row in rows]
    best = dev.index(min(dev))
    assert 0 < best < len(dev) - 1
    assert dev[0] > min(dev) + 0.5 and dev[-1] > min(dev) + 0.5
    assert rows[-1]["diverged"] and not rows[0]["diverged"]
    assert result.best_spec.train.learning_rate == rows[best]["train.learning_rate"]
    assert result.files["sensitivity"].is_file()
    assert result.dir.name == "digits-mlp-sweep-train.learning_rate"
