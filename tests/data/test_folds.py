"""k-fold bundles: every train + dev row held out exactly once, test rows never used, scaled per fold."""
import numpy as np
import pytest

from neuralab.data import load_data
from neuralab.data.folds import fold_bundles
from neuralab.errors import DataError
from neuralab.spec import DataSpec


def test_each_row_is_held_out_once_and_the_test_split_is_left_out():
    bundle = load_data(DataSpec(dataset="wine"), seed=0)
    folds = fold_bundles(bundle, folds=4, seed=0)
    held = np.concatenate([fold.raw_dev for fold in folds])
    pooled = np.concatenate([bundle.raw_train, bundle.raw_dev])
    assert sorted(map(bytes, held)) == sorted(map(bytes, pooled))
    assert all(fold.n_test == 0 and fold.n_train + fold.n_dev == len(pooled) for fold in folds)
    for fold in folds:  # standardised on the fold's own training rows
        assert np.allclose(fold.x_train.mean(axis=0), 0, atol=1e-5)
        assert sorted(set(fold.y_dev.tolist())) == [0, 1, 2]  # stratified


def test_too_many_folds_are_refused():
    bundle = load_data(DataSpec(dataset="xor", n_samples=20), seed=0)
    with pytest.raises(DataError, match="cv: 50 folds of 16 rows"):
        fold_bundles(bundle, folds=50)
