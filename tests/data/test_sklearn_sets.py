"""scikit-learn's bundled data sets."""
import numpy as np
import pytest

from neuralab.data import load_data
from neuralab.data.sklearn_sets import load_bundled
from neuralab.errors import DataError
from neuralab.spec import DataSpec

EXPECTED = {
    "digits": ((1797, 64), list(range(10)), "pixel_0_0"),
    "iris": ((150, 4), ["setosa", "versicolor", "virginica"], "sepal length (cm)"),
    "wine": ((178, 13), ["class_0", "class_1", "class_2"], "alcohol"),
    "breast_cancer": ((569, 30), ["malignant", "benign"], "mean radius"),
    "diabetes": ((442, 10), [], "age"),
}


@pytest.mark.parametrize("name", EXPECTED)
def test_shape_classes_and_feature_names(name):
    shape, classes, first_feature = EXPECTED[name]
    raw = load_bundled(DataSpec(dataset=name))
    assert raw.inputs.shape == shape and raw.classes == classes
    assert raw.input_columns[0] == first_feature and len(raw.input_columns) == shape[1]
    if classes:
        assert raw.targets.dtype == np.int64 and set(raw.targets.tolist()) == set(range(len(classes)))


def test_bundle_uses_the_feature_columns_as_inputs():
    bundle = load_data(DataSpec(dataset="breast_cancer"), seed=0)
    assert bundle.task == "binary" and bundle.n_outputs == 1
    assert bundle.input_columns == bundle.feature_names and bundle.n_features == 30
    assert bundle.raw_train.shape == (bundle.n_train, 30)


def test_diabetes_target_is_standardised_and_invertible():
    bundle = load_data(DataSpec(dataset="diabetes"), seed=0)
    assert bundle.y_train.dtype == np.float32
    assert bundle.y_train.mean() == pytest.approx(0, abs=1e-5)
    original = bundle.preprocessor.inverse_target(bundle.y_train)
    assert 25 <= original.min() and original.max() <= 346


def test_task_that_does_not_fit_is_refused():
    with pytest.raises(DataError, match="'regression' does not fit 'iris'"):
        load_bundled(DataSpec(dataset="iris", task="regression"))
