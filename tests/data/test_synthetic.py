"""Synthetic 2-D generators: TF Playground's semantics, seeding, classes and targets."""
import math

import numpy as np
import pytest
from sklearn.datasets import make_moons

from neuralab.spec.catalog import SYNTHETIC_DATASETS
from neuralab.data import load_data
from neuralab.data.synthetic import MULTI_GAUSS_CENTRES, circle, gauss, load_synthetic, multi_gauss, plane, spiral, xor
from neuralab.errors import DataError
from neuralab.spec import DataSpec


def raw(name, seed=0, **fields):
    return load_synthetic(DataSpec(dataset=name, **fields), seed=seed)


@pytest.mark.parametrize("name", SYNTHETIC_DATASETS)
def test_same_seed_same_data_and_different_seed_different(name):
    first, again, other = raw(name, 1, noise=0.2), raw(name, 1, noise=0.2), raw(name, 2, noise=0.2)
    np.testing.assert_array_equal(first.inputs, again.inputs)
    np.testing.assert_array_equal(first.targets, again.targets)
    assert not np.array_equal(first.inputs, other.inputs)


@pytest.mark.parametrize("name", SYNTHETIC_DATASETS)
def test_exactly_n_samples_points_even_when_odd(name):
    data = raw(name, n_samples=101)
    assert data.inputs.shape == (101, 2) and data.targets.shape == (101,)
    assert data.input_columns == ["x1", "x2"]


def test_circle_without_noise_labels_exactly_by_radius():
    points, labels = circle(1000, noise=0.0, rng=np.random.default_rng(0))
    radius = np.hypot(points[:, 0], points[:, 1])
    np.testing.assert_array_equal(labels, (radius < 2.5).astype(int))
    assert labels.sum() == 500
    assert radius[labels == 0].min() >= 3.5 and radius.max() <= 5.0


def test_circle_noise_flips_labels_near_the_boundary_but_does_not_move_points():
    noise = 0.3
    clean, clean_labels = circle(2000, noise=0.0, rng=np.random.default_rng(5))
    noisy, noisy_labels = circle(2000, noise=noise, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(clean, noisy)
    flipped = clean_labels != noisy_labels
    assert 0 < flipped.sum() < 1000
    radius = np.hypot(noisy[flipped, 0], noisy[flipped, 1])
    assert np.all(np.abs(radius - 2.5) <= 5 * noise * math.sqrt(2))


def test_xor_points_are_padded_and_labelled_by_quadrant():
    points, labels = xor(1000, noise=0.0, rng=np.random.default_rng(0))
    assert np.abs(points).min() >= 0.3 and np.abs(points).max() <= 5.3
    np.testing.assert_array_equal(labels, (points[:, 0] * points[:, 1] >= 0).astype(int))
    _, noisy_labels = xor(1000, noise=0.5, rng=np.random.default_rng(0))
    assert (noisy_labels != labels).any()


def test_gauss_two_classes_keep_playground_centres_and_noise_spreads_points():
    points, labels = gauss(4000, noise=0.0, rng=np.random.default_rng(0))
    np.testing.assert_allclose(points[labels == 1].mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(points[labels == 0].mean(axis=0), [-2, -2], atol=0.1)
    assert points[labels == 1].std() == pytest.approx(math.sqrt(0.5), rel=0.1)
    wide, wide_labels = gauss(4000, noise=0.5, rng=np.random.default_rng(0))
    assert wide[wide_labels == 1].std() == pytest.approx(2.0, rel=0.1)


def test_gauss_many_blobs_sit_on_a_circle():
    points, labels = gauss(4000, noise=0.0, rng=np.random.default_rng(0), n_classes=4)
    assert np.bincount(labels).tolist() == [1000] * 4
    centres = np.array([points[labels == c].mean(axis=0) for c in range(4)])
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 2 * math.sqrt(2), atol=0.1)


def test_spiral_three_arms_are_balanced_and_distinct():
    data = raw("spiral", n_samples=300, n_classes=3)
    assert data.classes == [0, 1, 2] and data.task == "multiclass"
    assert np.bincount(data.targets).tolist() == [100, 100, 100]
    assert np.hypot(*data.inputs.T).max() <= 5.0
    ends = [data.inputs[data.targets == c][-1] for c in range(3)]
    assert min(np.linalg.norm(ends[a] - ends[b]) for a, b in [(0, 1), (1, 2), (0, 2)]) > 4


def test_spiral_noise_is_a_small_jitter():
    clean, _ = spiral(200, noise=0.0, rng=np.random.default_rng(0))
    noisy, _ = spiral(200, noise=0.5, rng=np.random.default_rng(0))
    assert 0 < np.abs(noisy - clean).max() <= 0.5


def test_plane_targets_are_tf_playgrounds_regress_plane_not_clamped():
    # TF Playground's regressPlane: label = (x + nx + y + ny)/10 (a linear map of [-10, 10] onto [-1, 1],
    # not clamped), nx, ny ~ U(-6, 6)·noise; the corners beyond x + y = ±10 go past ±1.
    points, targets = plane(1200, noise=0.0, rng=np.random.default_rng(0))
    np.testing.assert_allclose(targets, points.sum(axis=1) / 10)
    assert np.abs(targets).max() > 1
    noisy_points, noisy = plane(1200, noise=0.5, rng=np.random.default_rng(0))
    offsets = 10 * noisy - noisy_points.sum(axis=1)  # nx + ny
    assert np.abs(offsets).max() <= 6 and np.abs(offsets).max() > 4 and np.abs(noisy).max() > 1.2


def test_multi_gauss_targets_are_signed_bumps():
    points, targets = multi_gauss(3000, noise=0.0, rng=np.random.default_rng(0))
    assert targets.min() >= -1 and targets.max() <= 1
    distance = np.linalg.norm(points[:, None] - MULTI_GAUSS_CENTRES[None, :, :2], axis=2)
    far = distance.min(axis=1) >= 2
    assert far.any() and np.all(targets[far] == 0)
    near = distance.min(axis=1) < 0.2
    nearest_sign = MULTI_GAUSS_CENTRES[distance.argmin(axis=1), 2]
    assert np.all(np.sign(targets[near]) == nearest_sign[near])


def test_moons_is_scikit_learns():
    data = raw("moons", seed=7, n_samples=50, noise=0.1)
    points, labels = make_moons(n_samples=50, noise=0.1, random_state=7)
    np.testing.assert_array_equal(data.inputs, points)
    np.testing.assert_array_equal(data.targets, labels)


def test_the_usual_counts_are_tf_playgrounds():
    assert DataSpec(dataset="plane").n_samples == DataSpec(dataset="multi_gauss").n_samples == 1200
    assert DataSpec(dataset="circle").n_samples == DataSpec().n_samples == 500
    assert DataSpec(dataset="plane", n_samples=300).n_samples == 300


def test_regression_sets_have_no_classes():
    for name in ("plane", "multi_gauss"):
        data = raw(name, n_samples=50)
        assert data.task == "regression" and data.classes == [] and data.targets.dtype == np.float64


@pytest.mark.parametrize("name", ["circle", "xor", "moons"])
def test_more_than_two_classes_only_for_gauss_and_spiral(name):
    with pytest.raises(DataError, match="n_classes.*gauss and spiral"):
        raw(name, n_classes=3)


def test_task_that_does_not_fit_is_refused():
    with pytest.raises(DataError, match="data.task"):
        raw("plane", task="classification")
    with pytest.raises(DataError, match="data.task"):
        raw("spiral", task="regression")


def test_labels_are_class_indices_after_load_data():
    bundle = load_data(DataSpec(dataset="gauss", n_samples=100, n_classes=5), seed=0)
    assert bundle.task == "multiclass" and bundle.n_outputs == 5
    assert set(np.concatenate([bundle.y_train, bundle.y_dev, bundle.y_test]).tolist()) == set(range(5))
