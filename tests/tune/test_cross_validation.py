"""Tuning on small data: k-fold trials instead of one dev split, and a warning when the dev split is small."""
import pytest

import neuralab
from neuralab.tune.cross_validation import cross_validate
from neuralab.tune.search import tune_study

SPEC = {"name": "cancer", "data": {"dataset": "breast_cancer"}, "model": {"hidden": [4]}, "train": {"epochs": 2}}


def test_a_cross_validated_score_is_the_mean_of_the_folds_dev_errors():
    scores = cross_validate(neuralab.load_spec(SPEC), folds=3)
    assert len(scores["fold_dev_errors"]) == 3
    assert scores["dev_error"] == pytest.approx(sum(scores["fold_dev_errors"]) / 3)


def test_a_small_dev_split_warns_and_cv_answers_it(tmp_path):
    """Issue 17: breast cancer's 114 dev rows chose by luck, without a word."""
    space = {"params": {"train.learning_rate": [0.001, 0.01]}}
    plain = tune_study(SPEC, space, sampler="grid", pruner="none", out_dir=tmp_path, final=False)
    assert len(plain.warnings) == 1 and "114 rows" in plain.warnings[0] and "--cv 5" in plain.warnings[0]
    folded = tune_study(SPEC, space, sampler="grid", out_dir=tmp_path, final=False, cv=3)
    assert folded.warnings == []
    assert all(len(t.user_attrs["fold_dev_errors"]) == 3 for t in folded.study.trials)


def test_cv_needs_two_folds(tmp_path):
    with pytest.raises(neuralab.SpecError, match="--cv: 1"):
        tune_study(SPEC, {"params": {"train.learning_rate": [0.01]}}, sampler="grid", out_dir=tmp_path, cv=1)
