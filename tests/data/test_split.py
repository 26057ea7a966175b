"""Split sizes (the auto rule), seeded and stratified index splits."""
import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuralab.data import load_data, split_sizes
from neuralab.data.split import auto_fractions, split_indices
from neuralab.errors import DataError
from neuralab.spec import DataSpec


def test_small_data_is_60_20_20():
    assert split_sizes(500, "auto") == (300, 100, 100)
    assert split_sizes(10_000, "auto") == (6000, 2000, 2000)


def test_very_big_data_is_98_1_1():
    assert split_sizes(2_000_000, "auto") == (1_960_000, 20_000, 20_000)
    assert auto_fractions(1_000_000) == pytest.approx([0.98, 0.01, 0.01])


def test_in_between_fractions_fall_and_counts_grow():
    sizes = [10_000, 20_000, 50_000, 100_000, 300_000, 700_000, 999_999, 1_000_000]
    fractions = [auto_fractions(n)[1] for n in sizes]
    counts = [split_sizes(n, "auto")[1] for n in sizes]
    assert all(a > b for a, b in zip(fractions, fractions[1:-1]))
    assert all(a <= b for a, b in zip(counts, counts[1:]))
    assert auto_fractions(100_000)[1] == pytest.approx(0.2 * 0.05 ** 0.5)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(10, 5_000_000), train=st.floats(0.1, 0.8))
def test_sizes_sum_to_n(n, train):
    rest = (1 - train) / 2
    for split in ("auto", [train, rest, 1 - train - rest]):
        sizes = split_sizes(n, split)
        assert sum(sizes) == n and min(sizes) > 0


def test_explicit_fractions():
    assert split_sizes(1000, [0.8, 0.1, 0.1]) == (800, 100, 100)


def test_a_dev_fraction_of_zero_is_no_dev_split():
    assert split_sizes(500, [0.5, 0.0, 0.5]) == (250, 0, 250)
    train, dev, test = split_indices(np.arange(500) % 2, (250, 0, 250), seed=0, stratify=True)
    assert len(dev) == 0 and sorted(np.concatenate([train, test]).tolist()) == list(range(500))
    with pytest.raises(DataError, match="test"):
        split_sizes(100, [0.5, 0.5, 0.0])


def test_empty_split_names_the_split_and_suggests_a_fix():
    with pytest.raises(DataError) as error:
        split_sizes(2, "auto")
    text = str(error.value)
    assert "dev split would have 0 samples" in text and "test split" in text and "more data" in text


def test_indices_are_a_disjoint_cover():
    targets = np.arange(100) % 3
    train, dev, test = split_indices(targets, (60, 20, 20), seed=0, stratify=True)
    assert (len(train), len(dev), len(test)) == (60, 20, 20)
    assert sorted(np.concatenate([train, dev, test]).tolist()) == list(range(100))


def test_stratification_keeps_class_ratios():
    targets = np.array([0] * 800 + [1] * 200)
    for part in split_indices(targets, (600, 200, 200), seed=3, stratify=True):
        assert targets[part].mean() == pytest.approx(0.2, abs=0.01)


def test_same_seed_same_split_different_seed_different():
    targets = np.arange(200) % 2
    first = split_indices(targets, (120, 40, 40), seed=1, stratify=True)
    again = split_indices(targets, (120, 40, 40), seed=1, stratify=True)
    other = split_indices(targets, (120, 40, 40), seed=2, stratify=True)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_too_small_class_falls_back_to_a_plain_shuffle_and_logs(caplog):
    targets = np.array([0] * 19 + [1])
    with caplog.at_level(logging.INFO, logger="neuralab.data.split"):
        train, dev, test = split_indices(targets, (12, 4, 4), seed=0, stratify=True)
    assert sorted(np.concatenate([train, dev, test]).tolist()) == list(range(20))
    assert "plain seeded shuffle" in caplog.text


def test_load_data_is_seeded_and_reports_fractions():
    spec = DataSpec(dataset="wine", split=[0.5, 0.25, 0.25])
    first, again, other = load_data(spec, seed=4), load_data(spec, seed=4), load_data(spec, seed=5)
    np.testing.assert_array_equal(first.x_dev, again.x_dev)
    assert not np.array_equal(first.x_dev, other.x_dev)
    assert first.split_fractions == [0.5, 0.25, 0.25]
    assert (first.n_train, first.n_dev, first.n_test) == split_sizes(178, [0.5, 0.25, 0.25])
