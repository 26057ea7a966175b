"""Importance from a study reopened by folder, file or URL; clear errors otherwise."""
from __future__ import annotations

import pytest

from neuralab.errors import RunError
from neuralab.tune.importance import EVALUATORS, load_study, param_importances
from neuralab.tune.search import tune_study

SPACE = {"params": {"train.learning_rate": {"low": 1e-4, "high": 1.0, "log": True}, "train.l2": {"low": 0, "high": 1e-4}}}


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    from neuralab.spec import load_spec

    spec = load_spec({"name": "imp", "data": {"dataset": "circle", "n_samples": 120}, "model": {"hidden": [8]},
                      "train": {"epochs": 3, "batch_size": 16}})
    return tune_study(spec, SPACE, sampler="random", trials=8, pruner="none",
                      out_dir=tmp_path_factory.mktemp("imp"), final=False)


@pytest.mark.parametrize("evaluator", sorted(EVALUATORS))
def test_every_evaluator_ranks_the_parameters(tuned, evaluator):
    scores = param_importances(tuned.study, evaluator=evaluator)
    assert set(scores) == {"train.learning_rate", "train.l2"}
    assert sum(scores.values()) == pytest.approx(1.0)
    assert all(type(value) is float for value in scores.values())  # not np.float64(…) in a notebook


def test_the_learning_rate_matters_more_than_a_tiny_l2(tuned):
    scores = param_importances(tuned.study)
    assert scores["train.learning_rate"] > scores["train.l2"]
    assert (tuned.dir / "importance.png").is_file()


def test_a_study_reopens_from_its_folder_file_or_url(tuned):
    for source in (tuned.dir, tuned.dir / "study.db", tuned.storage_url):
        assert load_study(str(source)).study_name == "imp"


def test_errors_name_what_is_wrong(tuned, tmp_path):
    with pytest.raises(RunError, match="neither a storage URL"):
        load_study(str(tmp_path / "nothing"))
    with pytest.raises(RunError, match="--study: 'imq' is not one of imp"):
        load_study(str(tuned.dir), study_name="imq")
    with pytest.raises(RunError, match="--evaluator"):
        param_importances(tuned.study, evaluator="shap")
