"""Sequence tasks: what each generates, its memoryless baseline (checked against the predictor it names), splits."""
from __future__ import annotations

import math

import numpy as np
import pytest

from neuralab.data import load_data
from neuralab.data.sequences import adding_problem, contiguous_blocks, copy_baseline, copy_memory, series_windows
from neuralab.errors import DataError, SpecError
from neuralab.spec import DataSpec, load_spec


def test_adding_marks_one_value_in_each_half_and_sums_them():
    inputs, targets = adding_problem(500, 20, np.random.default_rng(0))
    markers = inputs[:, :, 1]
    assert (markers.sum(axis=1) == 2).all()
    assert (markers[:, :10].sum(axis=1) == 1).all() and (markers[:, 10:].sum(axis=1) == 1).all()
    np.testing.assert_allclose(targets, (inputs[:, :, 0] * markers).sum(axis=1), rtol=1e-6)


def test_the_adding_baseline_is_what_predicting_one_scores():
    bundle = load_data(DataSpec(dataset="adding", n_samples=20_000, sequence_length=10), seed=0)
    predicted_one = float(np.mean((bundle.y_test - 1.0) ** 2))  # an independent computation of the rule
    assert bundle.baseline_loss == pytest.approx(1 / 6) and predicted_one == pytest.approx(1 / 6, abs=0.01)
    assert bundle.kind == "sequence" and bundle.output_steps == "last" and bundle.x_train.shape[1:] == (10, 2)


def test_copy_repeats_the_symbols_after_the_delimiter_and_its_baseline_is_the_memoryless_cross_entropy():
    inputs, targets = copy_memory(200, 7, np.random.default_rng(1))
    assert inputs.shape == targets.shape == (200, 27)
    np.testing.assert_array_equal(targets[:, -10:], inputs[:, :10])
    assert (inputs[:, 16] == 9).all() and (targets[:, :17] == 0).all()
    # blanks known for sure (0 nats), then a uniform guess among 8 symbols for each of the last 10 steps
    memoryless = np.concatenate([np.zeros(17), np.full(10, math.log(8))]).mean()
    assert copy_baseline(7) == pytest.approx(memoryless)


def test_sine_windows_never_straddle_blocks_and_forecast_the_next_value():
    bundle = load_data(DataSpec(dataset="sine", n_samples=400, sequence_length=12, noise=0.0,
                                standardize=False), seed=3)
    x, y = bundle.x_train[:, :, 0], bundle.y_train
    np.testing.assert_allclose(x[1:, -1], y[:-1], atol=1e-6)  # window i+1 ends where window i's target is
    assert len(bundle.x_train) + len(bundle.x_dev) + len(bundle.x_test) == 412 - 3 * 12
    assert bundle.baseline_loss == pytest.approx(np.mean((bundle.y_dev - y.mean()) ** 2), rel=1e-5)


def test_sine_reads_a_csv_column_and_standardises_with_the_train_block(tmp_path):
    path = tmp_path / "series.csv"
    path.write_text("day,value\n" + "".join(f"{i},{100 + 5 * math.sin(i / 3)}\n" for i in range(200)))
    bundle = load_data(DataSpec(dataset="sine", path=str(path), target="value", sequence_length=8), seed=0)
    assert bundle.input_columns == ["value"] and abs(float(bundle.y_train.mean())) < 0.05
    assert bundle.target_scale == pytest.approx(np.std([100 + 5 * math.sin(i / 3) for i in range(8, 120)]), rel=0.05)
    with pytest.raises(DataError, match="column 'valeu' is not in"):
        load_data(DataSpec(dataset="sine", path=str(path), target="valeu"), seed=0)


def test_blocks_and_windows():
    assert contiguous_blocks(10, [0.6, 0.2, 0.2]) == [(0, 6), (6, 8), (8, 10)]
    x, y = series_windows(np.arange(6), 2)
    assert x.tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]] and y.tolist() == [2, 3, 4, 5]


def test_too_short_a_sequence_or_series_is_refused_naming_the_field():
    with pytest.raises(SpecError, match="data.sequence_length: 1 — input should be greater than or equal to 2"):
        load_spec(None, overrides={"data.dataset": "adding", "data.sequence_length": 1})
    with pytest.raises(DataError, match="data.sequence_length: 90 leaves no window in the dev block"):
        load_data(DataSpec(dataset="sine", n_samples=100, sequence_length=90), seed=0)
