"""DataBundle, Preprocessor (standardisation, JSON round trip) and the data set registry."""
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from neuralab.spec.catalog import DATASETS, SYNTHETIC_DATASETS, family
from neuralab.data import DATA_KINDS, RAW_LOADERS, Preprocessor, load_data
from neuralab.data.sequences import SEQUENCE_TASKS
from neuralab.errors import DataError, RunError
from neuralab.spec import DataSpec


TABULAR = family("datasets", "data kind", "tabular")


def test_registry_covers_exactly_the_catalog():
    assert set(RAW_LOADERS) == set(TABULAR)
    assert set(SEQUENCE_TASKS) == set(family("datasets", "data kind", "sequence"))
    assert set(DATA_KINDS) == {entry.properties["data kind"] for entry in DATASETS.values()}


def expected_task(name, n_classes):
    declared = DATASETS[name].properties["task"]
    if declared == "binary":
        return "binary" if n_classes == 2 else "multiclass"
    return "multiclass" if declared.endswith("classes") else declared


def spec_for(name, tmp_path):
    if name in SYNTHETIC_DATASETS:
        return DataSpec(dataset=name, n_samples=100, noise=0.1)
    if name == "csv":
        path = tmp_path / "d.csv"
        path.write_text("a,b,y\n" + "".join(f"{i},{i % 7},{'ab'[i % 2]}\n" for i in range(40)))
        return DataSpec(dataset="csv", path=str(path))
    if name == "parquet":
        path = tmp_path / "d.parquet"
        pq.write_table(pa.table({"a": np.arange(40.0), "y": np.arange(40.0) * 0.3}), path)
        return DataSpec(dataset="parquet", path=str(path))
    return DataSpec(dataset=name)


@pytest.mark.parametrize("name", TABULAR)
def test_every_catalog_dataset_loads(name, tmp_path):
    bundle = load_data(spec_for(name, tmp_path), seed=0)
    expected = {"csv": "binary", "parquet": "regression"}.get(name) or expected_task(name, 2)
    assert bundle.task == expected and bundle.dataset == name
    for part in ("train", "dev", "test"):
        x, y, raw = (getattr(bundle, f"{kind}_{part}") for kind in ("x", "y", "raw"))
        assert x.dtype == np.float32 and raw.dtype == np.float32
        assert x.shape == (len(y), bundle.n_features) and raw.shape == (len(y), len(bundle.input_columns))
        assert y.dtype == (np.float32 if bundle.task == "regression" else np.int64)
        assert np.isfinite(x).all() and np.isfinite(y).all() and len(y) > 0
    assert len(bundle.feature_names) == bundle.n_features
    assert bundle.n_outputs == (len(bundle.classes) if bundle.task == "multiclass" else 1)
    assert sum(bundle.split_fractions) == pytest.approx(1.0)


def test_standardisation_uses_train_statistics_only():
    bundle = load_data(DataSpec(dataset="wine"), seed=0)
    np.testing.assert_allclose(bundle.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(bundle.x_train.std(axis=0), 1, atol=1e-4)
    assert np.abs(bundle.x_dev.mean(axis=0)).max() > 1e-3
    raw = bundle.raw_train.astype(np.float64)
    np.testing.assert_allclose(bundle.preprocessor.input_mean, raw.mean(axis=0), rtol=1e-5)


def test_without_standardisation_inputs_stay_raw():
    bundle = load_data(DataSpec(dataset="plane", n_samples=100, standardize=False), seed=0)
    np.testing.assert_array_equal(bundle.x_train, bundle.raw_train)
    assert bundle.preprocessor.target_mean is None
    np.testing.assert_array_equal(bundle.preprocessor.inverse_target(bundle.y_dev), bundle.y_dev)
    np.testing.assert_allclose(bundle.y_train, bundle.raw_train.sum(axis=1) / 10, atol=1e-6)  # raw targets, unscaled


def test_regression_target_round_trip():
    bundle = load_data(DataSpec(dataset="multi_gauss", n_samples=200), seed=1)
    assert bundle.y_train.mean() == pytest.approx(0, abs=1e-5)
    restored = bundle.preprocessor.inverse_target(bundle.y_test)
    assert restored.min() >= -1 - 1e-5 and restored.max() <= 1 + 1e-5


def test_constant_input_does_not_divide_by_zero():
    pre = Preprocessor.fit(np.array([[1.0, 2.0], [1.0, 4.0]]), np.array([0, 1]), input_columns=["a", "b"],
                           task="binary", classes=[0, 1])
    assert pre.input_std[0] == 1.0
    np.testing.assert_array_equal(pre.transform_inputs(np.array([[1.0, 3.0]])), [[0.0, 0.0]])


def test_transform_inputs_checks_the_width():
    pre = Preprocessor(["a", "b"], [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(DataError, match="expected 2 columns"):
        pre.transform_inputs(np.zeros((3, 3)))


def test_json_round_trip():
    bundle = load_data(DataSpec(dataset="circle", n_samples=100, features=["x1", "x1*x2"]), seed=0)
    text = json.dumps(bundle.preprocessor.to_dict())
    restored = Preprocessor.from_dict(json.loads(text))
    assert restored == bundle.preprocessor
    np.testing.assert_allclose(restored.transform_inputs(bundle.raw_dev), bundle.x_dev, atol=1e-6)
    iris = load_data(DataSpec(dataset="iris"), seed=0).preprocessor
    assert Preprocessor.from_dict(json.loads(json.dumps(iris.to_dict()))).labels([2]) == ["virginica"]


def _tampered(change):
    data = Preprocessor.fit(np.array([[0.0, 1.0], [2.0, 5.0]]), np.array([1.0, 2.0]),
                            input_columns=["x1", "x2"], task="regression", features=["x1", "x2^2"]).to_dict()
    change(data)
    return data


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("input_std"), "missing field\\(s\\) 'input_std'"),
    (lambda d: d.update(extra=1), "unknown field 'extra'"),
    (lambda d: d.update(input_mean=[0.0]), "'input_mean' must be 2 finite numbers"),
    (lambda d: d.update(input_std=[1.0, float("nan")]), "'input_std' must be 2 finite numbers"),
    (lambda d: d.update(input_std=[1.0, 0.0]), "'input_std' must be positive"),
    (lambda d: d.update(input_mean="0,0"), "'input_mean'"),
    (lambda d: d.update(features=["cos(x1)"]), "'features' must be distinct names"),
    (lambda d: d.update(task="ranking"), "task 'ranking' is not one of"),
    (lambda d: d.update(task="binary"), "binary task needs 2 classes"),
    (lambda d: d.update(target_std=-1.0), "'target_std'"),
    (lambda d: d.update(standardize="yes"), "'standardize' must be true or false"),
    (lambda d: d.update(input_columns=["x1", "x1"]), "'input_columns'"),
    (lambda d: d.update(format="pickle"), "format 'pickle'"),
])
def test_tampered_dict_raises_run_error(change, message):
    with pytest.raises(RunError, match=message):
        Preprocessor.from_dict(_tampered(change))


def test_not_a_mapping_raises_run_error():
    with pytest.raises(RunError, match="expected a mapping"):
        Preprocessor.from_dict(["x1"])


def test_import_does_not_load_torch():
    import subprocess
    import sys

    code = "import sys, neuralab.data; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
