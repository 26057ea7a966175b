"""The scikit-learn estimators: conventions (check_estimator), pipelines, searches, pickling, pandas, the doctor."""
from __future__ import annotations

import inspect
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import neuralab
from neuralab.sklearn import PARAMETERS, NeuralClassifier, NeuralRegressor, expected_failed_checks
from neuralab.spec.reference import spec_values

SMALL = {"hidden": (16,), "epochs": 30, "learning_rate": 0.01, "random_state": 0}


def blobs(n=120, seed=0):
    generator = np.random.default_rng(seed)
    X = generator.normal(size=(n, 3))
    y = np.select([X[:, 0] > 0.5, X[:, 1] > 0], ["up", "right"], "left")
    return X, y


@pytest.mark.parametrize("estimator", [NeuralClassifier(), NeuralRegressor()], ids=lambda e: type(e).__name__)
def test_scikit_learn_estimator_checks_pass(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the checks warn about what they skip (array API)
        results = check_estimator(estimator, expected_failed_checks=expected_failed_checks(estimator), on_fail=None)
    failed = [(r["check_name"], repr(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) > 45


@pytest.mark.parametrize("cls", [NeuralClassifier, NeuralRegressor])
def test_parameters_are_the_specs_fields_with_the_specs_defaults(cls):
    defaults = spec_values(neuralab.load_spec(None))
    signature = inspect.signature(cls.__init__).parameters
    for name, field in PARAMETERS.items():
        default = signature[name].default
        expected = defaults[field] if field != "train.schedule" else defaults["train.schedule.name"]
        assert (list(default) if isinstance(default, tuple) else default) == expected, name
    assert signature["patience"].default == 10 and signature["validation_fraction"].default == 0.1
    assert set(signature) - {"self"} == set(PARAMETERS) | {"early_stopping", "patience", "validation_fraction",
                                                          "random_state"}


def test_the_constructor_only_stores_and_fit_computes():
    model = NeuralClassifier(hidden=(4,), learning_rate=-1.0)  # a bad value is not judged until fit
    assert model.get_params()["learning_rate"] == -1.0 and not hasattr(model, "run_")
    with pytest.raises(ValueError, match="^learning_rate: -1.0 — input should be greater than 0"):
        model.fit(*blobs())
    with pytest.raises(ValueError, match="^optimizer: 'adm' is not one of .* did you mean 'adam'"):
        NeuralClassifier(optimizer="adm").fit(*blobs())


def test_classifier_predicts_labels_and_probabilities_and_trains_through_neuralab():
    X, y = blobs()
    model = NeuralClassifier(**SMALL).fit(X, y)
    assert model.classes_.tolist() == ["left", "right", "up"] and model.n_features_in_ == 3
    probabilities = model.predict_proba(X)
    assert probabilities.shape == (120, 3) and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert model.predict(X).tolist() == model.classes_[probabilities.argmax(axis=1)].tolist()
    assert model.score(X, y) > 0.9
    run = model.run_
    assert run.summary["n_train"] == 120 and run.summary["n_dev"] == 0  # no hidden validation split
    assert run.summary["dataset"] == "arrays"
    assert model.n_iter_ == 30 and model.loss_curve_ == [row["train_loss"] for row in run.history]
    same = neuralab.train(run.spec, out_dir=None, bundle=_bundle_of(model, X, y))  # the one training path
    assert same.history[-1]["train_loss"] == pytest.approx(run.history[-1]["train_loss"])


def _bundle_of(model, X, y):
    from neuralab.data import bundle_from_arrays

    indices = np.searchsorted(model.classes_, y)
    return bundle_from_arrays(X, indices, classes=model.classes_.tolist(), dev_fraction=0.0, seed=model.run_.spec.seed)


def test_float64_float32_and_pandas_inputs_give_the_same_model():
    pandas = pytest.importorskip("pandas")
    X, y = blobs()
    frame = pandas.DataFrame(X, columns=["height", "width", "depth"])
    from_frame = NeuralClassifier(**SMALL).fit(frame, pandas.Series(y))
    from_float32 = NeuralClassifier(**SMALL).fit(X.astype(np.float32), y.tolist())
    assert from_frame.feature_names_in_.tolist() == ["height", "width", "depth"]
    assert from_frame.run_.preprocessor.input_columns == ["height", "width", "depth"]
    assert not hasattr(from_float32, "feature_names_in_")
    np.testing.assert_allclose(from_frame.predict_proba(frame), from_float32.predict_proba(X), atol=1e-5)
    with pytest.raises(ValueError, match="Feature names seen at fit time, yet now missing:\n- depth"):
        from_frame.predict(frame.iloc[:, :2])
    with pytest.raises(ValueError, match="X has 2 features, but NeuralClassifier is expecting 3"):
        from_float32.predict(X[:, :2])


def test_regressor_predicts_in_the_targets_units():
    generator = np.random.default_rng(1)
    X = generator.uniform(-2, 2, size=(150, 2))
    y = 300.0 + 50.0 * X[:, 0] - 20.0 * X[:, 1] ** 2
    model = NeuralRegressor(hidden=(32,), epochs=60, learning_rate=0.01, random_state=0).fit(X, y)
    assert model.score(X, y) > 0.9 and abs(model.predict(X).mean() - y.mean()) < 10


def test_early_stopping_holds_out_validation_fraction_only_when_asked():
    X, y = blobs(200)
    plain = NeuralClassifier(**SMALL, validation_fraction=0.3).fit(X, y)
    stopping = NeuralClassifier(**{**SMALL, "epochs": 200}, early_stopping=True, patience=3,
                                validation_fraction=0.25).fit(X, y)
    assert plain.run_.summary["n_dev"] == 0 and plain.run_.summary["n_train"] == 200
    assert stopping.run_.summary["n_dev"] == 50 and stopping.run_.summary["n_train"] == 150
    assert stopping.n_iter_ < 200 and "early stopping" in stopping.run_.summary["stop_reason"]


def test_diagnose_gives_the_doctors_verdict_on_held_out_data():
    X, y = blobs(200)
    model = NeuralClassifier(hidden=(2,), epochs=5, learning_rate=0.01, random_state=0).fit(X[:150], y[:150])
    diagnosis = model.diagnose(X[150:], y[150:])
    held_out_error = 1 - model.score(X[150:], y[150:])
    assert diagnosis.bias_variance.dev_error == pytest.approx(held_out_error)
    assert diagnosis.bias_variance.verdict.startswith("high_bias")  # two units, five epochs: underfits
    assert [layer.name for layer in diagnosis.layers] == ["hidden1", "output"]
    with pytest.raises(ValueError, match="needs a dev error"):
        model.diagnose()
    with pytest.raises(ValueError, match="'sideways' are not among the fitted classes_"):
        model.diagnose(X[:2], ["up", "sideways"])


def test_clone_and_pickle_keep_parameters_and_predictions():
    X, y = blobs()
    model = NeuralClassifier(**SMALL).fit(X, y)
    copy = clone(model)
    assert copy.get_params() == model.get_params() and not hasattr(copy, "run_")
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


def test_pipeline_grid_search_and_parallel_cross_validation():
    X, y = blobs(150)
    pipeline = make_pipeline(StandardScaler(), NeuralClassifier(**{**SMALL, "epochs": 15}))
    search = GridSearchCV(pipeline, {"neuralclassifier__learning_rate": [1e-4, 3e-2]}, cv=2).fit(X, y)
    assert search.best_params_ == {"neuralclassifier__learning_rate": 3e-2}  # 15 epochs at 1e-4 barely move
    scores = cross_val_score(NeuralClassifier(**SMALL), X, y, cv=3, n_jobs=2)
    alone = cross_val_score(NeuralClassifier(**SMALL), X, y, cv=3, n_jobs=1)
    assert np.allclose(scores, alone) and scores.mean() > 0.8  # the same numbers in worker processes


def test_partial_fit_trains_one_more_epoch_each_call_with_the_same_optimiser():
    X, y = blobs(150)
    model = NeuralClassifier(**{**SMALL, "schedule": "cosine"})
    for start in range(0, 150, 50):
        model.partial_fit(X[start:start + 50], y[start:start + 50], classes=["left", "right", "up"])
    assert model.n_iter_ == 3 and len(model.loss_curve_) == 3
    assert model.classes_.tolist() == ["left", "right", "up"]
    first_batch_statistics = model.run_.preprocessor.input_mean
    assert first_batch_statistics == pytest.approx(X[:50].mean(axis=0).tolist())  # scaled as the first call's rows
    # The same three epochs as one experiment run epoch by epoch on the three batches in turn.
    from neuralab.data import bundle_from_arrays
    from neuralab.training.experiment import Experiment

    labels = np.searchsorted(model.classes_, y)
    bundles = [bundle_from_arrays(X[s:s + 50], labels[s:s + 50], classes=model.classes_.tolist(), dev_fraction=0.0,
                                  seed=model.run_.spec.seed) for s in range(0, 150, 50)]
    experiment = Experiment.from_spec(model.run_.spec, bundle=bundles[0])
    with experiment.training():
        experiment.begin()
        for index, bundle in enumerate(bundles):
            if index:
                experiment.use_data(bundle_from_arrays(X[50 * index:50 * index + 50], labels[50 * index:50 * index + 50],
                                                       classes=model.classes_.tolist(), dev_fraction=0.0,
                                                       preprocessor=bundles[0].preprocessor))
            experiment.run_epoch()
    assert [row["train_loss"] for row in experiment.state.history] == pytest.approx(model.loss_curve_)
    with pytest.raises(ValueError, match="'down' are not among the fitted classes_"):
        model.partial_fit(X[:2], ["up", "down"])
    with pytest.raises(ValueError, match="X has 2 features, but NeuralClassifier is expecting 3"):
        model.partial_fit(X[:5, :2], y[:5])


def test_partial_fit_after_fit_goes_on_from_the_fitted_weights():
    X, y = blobs()
    model = NeuralRegressor(**SMALL).fit(X, X[:, 0] * 2.0)
    before = model.score(X, X[:, 0] * 2.0)
    model.partial_fit(X, X[:, 0] * 2.0)
    assert model.n_iter_ == 1 and model.score(X, X[:, 0] * 2.0) > before - 0.05  # not a fresh network
    restored = pickle.loads(pickle.dumps(model))  # the live training state is not pickled
    assert not hasattr(restored, "_experiment") and restored.predict(X[:3]).tolist() == model.predict(X[:3]).tolist()


def test_a_schedule_that_watches_the_dev_loss_needs_early_stopping():
    X, y = blobs()
    with pytest.raises(ValueError, match="schedule: 'plateau' watches the dev loss; it needs early_stopping=True"):
        NeuralClassifier(**SMALL, schedule="plateau").fit(X, y)
    model = NeuralClassifier(**SMALL, schedule="plateau", early_stopping=True).fit(X, y)
    assert model.run_.summary["n_dev"] == 12
