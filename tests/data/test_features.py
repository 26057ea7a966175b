"""Feature expansion of x1, x2 (TF Playground's seven inputs)."""
import numpy as np
import pytest

from neuralab.spec.catalog import FEATURES
from neuralab.data import load_data
from neuralab.data.features import FEATURE_FUNCTIONS, expand_features
from neuralab.errors import DataError
from neuralab.spec import DataSpec


def test_registry_covers_the_catalog():
    assert list(FEATURE_FUNCTIONS) == list(FEATURES)


def test_each_feature_value():
    raw = np.array([[2.0, -3.0]])
    values = expand_features(raw, list(FEATURES))[0]
    expected = [2.0, -3.0, 4.0, 9.0, -6.0, np.sin(2.0), np.sin(-3.0)]
    np.testing.assert_allclose(values, expected)


def test_order_follows_the_user():
    raw = np.array([[2.0, 3.0], [1.0, 0.0]])
    np.testing.assert_allclose(expand_features(raw, ["x2^2", "x1"]), [[9.0, 2.0], [0.0, 1.0]])


def test_wrong_shape_or_unknown_name_is_refused():
    with pytest.raises(DataError, match="2 columns"):
        expand_features(np.zeros((3, 3)), ["x1"])
    with pytest.raises(DataError, match="unknown"):
        expand_features(np.zeros((3, 2)), ["cos(x1)"])


def test_load_data_expands_after_raw_and_keeps_raw_columns():
    spec = DataSpec(dataset="xor", n_samples=100, features=["x1^2", "sin(x2)"])
    bundle = load_data(spec, seed=0)
    assert bundle.feature_names == ["x1^2", "sin(x2)"]
    assert bundle.input_columns == ["x1", "x2"]
    assert bundle.raw_train.shape == (60, 2) and bundle.x_train.shape == (60, 2)
    expanded = expand_features(bundle.raw_train.astype(np.float64), ["x1^2", "sin(x2)"])
    scaled = (expanded - expanded.mean(axis=0)) / expanded.std(axis=0)
    np.testing.assert_allclose(bundle.x_train, scaled, atol=1e-4)
    np.testing.assert_allclose(bundle.preprocessor.transform_inputs(bundle.raw_dev), bundle.x_dev, atol=1e-6)


def test_all_seven_features():
    bundle = load_data(DataSpec(dataset="spiral", n_samples=100, features=list(FEATURES)), seed=0)
    assert bundle.n_features == 7 and bundle.feature_names == list(FEATURES)


@pytest.mark.parametrize("dataset", ["iris", "diabetes"])
def test_features_only_for_synthetic_data(dataset):
    with pytest.raises(DataError, match="only applies to the synthetic 2-D data sets"):
        load_data(DataSpec(dataset=dataset, features=["x1", "x1^2"]))
